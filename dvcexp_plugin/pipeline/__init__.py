"""DVC's pipeline model: every ``dvc.yaml`` of a repository, resolved.

``load_pipeline(root)`` is the entry point: it finds the dvc.yaml files
(skipping ``.dvcignore``d directories and nested DVC repos), resolves their
stages, and builds the stage graph, raising one-line errors for invalid input.
"""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field

from dvcexp_plugin.errors import StageNotFoundError
from dvcexp_plugin.pipeline.dvcignore import ALWAYS_IGNORED, DvcIgnore
from dvcexp_plugin.pipeline.graph import StageGraph
from dvcexp_plugin.pipeline.resolver import DvcfileResolver
from dvcexp_plugin.pipeline.stage import Output, ParamsDep, Stage

__all__ = ["Output", "ParamsDep", "Pipeline", "Stage", "find_dvcfiles", "load_pipeline"]

DVCFILE = "dvc.yaml"


def find_dvcfiles(root: str, ignore: DvcIgnore | None = None) -> list[str]:
    """Repo-relative paths of every ``dvc.yaml``, sorted, ignored dirs skipped."""
    ignore = ignore or DvcIgnore(root)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        reldir = "" if reldir == "." else reldir
        kept = []
        for name in sorted(dirnames):
            if name in ALWAYS_IGNORED:
                continue
            if reldir and os.path.isdir(os.path.join(dirpath, name, ".dvc")):
                continue  # a nested DVC repository has its own pipeline
            rel = posixpath.join(reldir, name) if reldir else name
            if ignore.is_ignored(rel, is_dir=True):
                continue
            kept.append(name)
        dirnames[:] = kept
        if DVCFILE in filenames:
            rel = posixpath.join(reldir, DVCFILE) if reldir else DVCFILE
            if not ignore.is_ignored(rel, is_dir=False):
                found.append(rel)
    return sorted(found, key=lambda p: (p.count("/"), p))


@dataclass
class Pipeline:
    """All stages of a repository and their graph."""

    root: str
    stages: list[Stage]
    dvcfiles: list[str] = field(default_factory=list)
    _graph: StageGraph | None = None

    @property
    def graph(self) -> StageGraph:
        if self._graph is None:
            self._graph = StageGraph(self.stages)
        return self._graph

    def find(self, target: str, cwd: str | None = None) -> list[Stage]:
        """Stages matching a target as DVC accepts it.

        ``train``, ``train@1``, ``sub/dvc.yaml:train``, ``sub/dvc.yaml`` (all its
        stages), ``sub:train`` (a directory holding a dvc.yaml), or a foreach
        group name ``train`` (all ``train@…``). Relative to ``cwd`` when given.
        """
        rel_cwd = ""
        if cwd is not None:
            rel_cwd = os.path.relpath(cwd, self.root).replace(os.sep, "/")
            rel_cwd = "" if rel_cwd == "." else rel_cwd
        path, sep, name = target.rpartition(":")
        if not sep:
            if target.endswith(DVCFILE) or os.path.isdir(os.path.join(cwd or self.root, target)):
                path, name = target, ""
            else:
                path, name = "", target
        if not path or path.endswith("/") or not path.endswith(DVCFILE):
            path = posixpath.join(path, DVCFILE) if path else DVCFILE
        dvcfile = posixpath.normpath(posixpath.join(rel_cwd, path))
        in_file = [s for s in self.stages if s.dvcfile == dvcfile]
        if not name:
            if not in_file:
                raise StageNotFoundError(f"'{dvcfile}' does not exist or has no stages")
            return in_file
        exact = [s for s in in_file if s.name == name]
        if exact:
            return exact
        group = [s for s in in_file if s.name.split("@", 1)[0] == name and "@" in s.name]
        if group:
            return group
        raise StageNotFoundError(
            f"Stage '{name}' not found inside '{dvcfile}' file; "
            "check the name with 'dvcexp stage list --all'"
        )


def load_pipeline(
    root: str,
    dvcfiles: list[str] | None = None,
    parsing_config: dict[str, str] | None = None,
) -> Pipeline:
    """Resolve every dvc.yaml under ``root`` (or just ``dvcfiles``)."""
    files = dvcfiles if dvcfiles is not None else find_dvcfiles(root)
    stages: list[Stage] = []
    for relpath in files:
        stages.extend(DvcfileResolver(root, relpath, parsing_config=parsing_config).resolve())
    return Pipeline(root=root, stages=stages, dvcfiles=files)
