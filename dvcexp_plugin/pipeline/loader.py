"""Finding and resolving every ``dvc.yaml`` of a repository into a :class:`Pipeline`.

``load_pipeline(root)`` is the entry point: it finds the dvc.yaml files
(skipping ``.dvcignore``d and git-ignored paths, output directories and nested
DVC repos), resolves their stages, and builds the stage graph, raising
one-line errors for invalid input.
"""
from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from dvcexp_plugin.errors import DvcExpError, StageNotFoundError
from dvcexp_plugin.pipeline.dvcignore import ALWAYS_IGNORED, DvcIgnore, GitIgnore
from dvcexp_plugin.pipeline.graph import StageGraph
from dvcexp_plugin.pipeline.resolver import DvcfileResolver
from dvcexp_plugin.pipeline.stage import Output, ParamsDep, Stage, is_url

__all__ = ["Output", "ParamsDep", "Pipeline", "Stage", "find_dvcfiles", "load_pipeline"]

DVCFILE = "dvc.yaml"


def find_dvcfiles(root: str, ignore: DvcIgnore | None = None) -> list[str]:
    """Repo-relative paths of every ``dvc.yaml``, in walk order.

    Walk order is top-down, directories sorted (DVC walks in directory listing
    order). Skipped, as DVC skips them: ``.dvcignore``d and git-ignored paths,
    nested DVC repositories. Output directories are skipped by
    :func:`load_pipeline`, which knows the outputs.
    """
    return list(_walk_dvcfiles(root, ignore or DvcIgnore(root), lambda rel: False))


def _walk_dvcfiles(
    root: str, ignore: DvcIgnore, is_output: Callable[[str], bool]
) -> Iterator[str]:
    """Yield dvc.yaml paths top-down; ``is_output`` is asked about each
    subdirectory after the dvc.yaml of its parent was yielded (and loaded)."""
    gitignore = GitIgnore(root)
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        reldir = "" if reldir == "." else reldir
        if DVCFILE in filenames:
            rel = posixpath.join(reldir, DVCFILE) if reldir else DVCFILE
            hidden = ignore.is_ignored(rel, is_dir=False) or gitignore.is_ignored(rel, is_dir=False)
            if not hidden:
                yield rel
        kept = []
        for name in sorted(dirnames):
            rel = posixpath.join(reldir, name) if reldir else name
            if name in ALWAYS_IGNORED or os.path.isdir(os.path.join(dirpath, name, ".dvc")):
                continue  # git's and DVC's own dirs; a nested DVC repo has its own pipeline
            if is_output(rel) or ignore.is_ignored(rel, is_dir=True):
                continue
            if gitignore.is_ignored(rel, is_dir=True):
                continue
            kept.append(name)
        dirnames[:] = kept


@dataclass
class Pipeline:
    """All stages of a repository and their graph."""

    root: str
    stages: list[Stage]
    dvcfiles: list[str] = field(default_factory=list)
    parsing_config: dict[str, str] | None = None
    _graph: StageGraph | None = None

    @property
    def graph(self) -> StageGraph:
        if self._graph is None:
            self._graph = StageGraph(self.stages)
        return self._graph

    def find(self, target: str, cwd: str | None = None, outputs: bool = False) -> list[Stage]:
        """Stages matching a target, as DVC parses it (paths relative to ``cwd``).

        - ``train``: the stage of ``dvc.yaml`` in ``cwd``, or its foreach/matrix
          group (all ``train@…``); ``train@1``: one generated stage;
        - ``sub/dvc.yaml:train``, ``:train``; ``sub/dvc.yaml``: all its stages;
        - a directory is *not* a target (DVC reads ``sub`` as a stage name and
          rejects ``sub:train`` as a bad file name); ``-R`` handles directories.

        :param outputs: also accept an output path (``dvc dag``/``status``/
            ``repro`` do, ``stage list`` does not): the stage whose output is
            the path or contains it
        :raises StageNotFoundError: with DVC's wording and what to check
        """
        here = self._rel_cwd(cwd)
        path, name = _parse_target(target)
        shown = path or DVCFILE
        if not _is_dvcfile_name(shown):
            raise StageNotFoundError(
                f"bad DVC file name '{shown}'. DVC files should be named 'dvc.yaml' "
                f"or have a '.dvc' suffix (e.g. '{shown}.dvc')"
            )
        dvcfile = posixpath.normpath(posixpath.join(here, shown))
        if shown.endswith(".dvc"):
            # a .dvc file is one stage, addressed by its path
            data = [s for s in self.stages if s.dvcfile == dvcfile]
            if data:
                return data
            if not os.path.isfile(os.path.join(self.root, dvcfile)):
                raise StageNotFoundError(f"'{shown}' does not exist")
            raise StageNotFoundError(self._why_not_collected(dvcfile, shown))
        in_file = [s for s in self.stages if s.dvcfile == dvcfile]
        collected = bool(in_file) or dvcfile in self.dvcfiles
        exists = collected or os.path.isfile(os.path.join(self.root, dvcfile))
        if exists and not collected:
            raise StageNotFoundError(self._why_not_collected(dvcfile, shown))
        if name is None:
            if not exists:
                raise StageNotFoundError(f"'{shown}' does not exist")
            return in_file  # a dvc.yaml without stages lists nothing, as in DVC
        exact = [s for s in in_file if s.name == name]
        group = [s for s in in_file if s.name.split(_JOIN, 1)[0] == name and _JOIN in s.name]
        if exact or group:
            return exact or group
        if outputs and not path:
            owner = self._output_owner(posixpath.normpath(posixpath.join(here, target)))
            if owner is not None:
                return [owner]
            raise StageNotFoundError(
                f"'{target}' does not exist as an output or a stage name in '{shown}'; "
                "check the name with 'dvcexp stage list --all'"
            )
        if not exists and path:
            raise StageNotFoundError(f"'{shown}' does not exist")
        raise StageNotFoundError(
            f"Stage '{name}' not found inside '{shown}' file; "
            "check the name with 'dvcexp stage list --all'"
        )

    def _why_not_collected(self, dvcfile: str, shown: str) -> str:
        if GitIgnore(self.root).is_ignored(dvcfile, is_dir=False):
            return (
                f"bad DVC file name '{shown}' is git-ignored; "
                "remove it from .gitignore to use its stages"
            )
        parts = dvcfile.split("/")[:-1]
        for depth in range(len(parts), 0, -1):
            nested = "/".join(parts[:depth])
            if os.path.isdir(os.path.join(self.root, nested, ".dvc")):
                return (
                    f"'{shown}' belongs to the nested DVC repository '{nested}'; "
                    "run the command inside it"
                )
        if DvcIgnore(self.root).is_ignored(dvcfile, is_dir=False):
            return f"'{shown}' is dvc-ignored; remove its pattern from .dvcignore to use its stages"
        owner = self._output_owner(dvcfile)
        if owner is not None:
            return (
                f"'{shown}' is inside an output of stage '{owner.addressing}', where DVC "
                "does not look for pipelines; move it out of the output directory"
            )
        return f"'{shown}' is not collected"

    def _rel_cwd(self, cwd: str | None) -> str:
        if cwd is None:
            return ""
        rel = os.path.relpath(os.path.abspath(cwd), os.path.abspath(self.root))
        rel = rel.replace(os.sep, "/")
        return "" if rel == "." else rel

    def _output_owner(self, relpath: str) -> Stage | None:
        """The stage with an output equal to ``relpath`` or containing it."""
        for stage in self.stages:
            for out in stage.out_paths:
                if relpath == out or relpath.startswith(out.rstrip("/") + "/"):
                    return stage
        return None


_JOIN = "@"


def _parse_target(target: str) -> tuple[str, str | None]:
    """``"sub/dvc.yaml:train"`` → ``("sub/dvc.yaml", "train")``; a target without
    ``:`` is a file when it is named like one, else a stage name."""
    path, sep, name = target.rpartition(":")
    if sep and "/" not in name and "\\" not in name:
        return path, name
    if _is_dvcfile_name(target):
        return target, None
    return "", target


def _is_dvcfile_name(path: str) -> bool:
    return posixpath.basename(path) == DVCFILE or path.endswith(".dvc")


def load_pipeline(
    root: str,
    dvcfiles: list[str] | None = None,
    parsing_config: dict[str, str] | None = None,
    onerror: Callable[[str, DvcExpError], None] | None = None,
) -> Pipeline:
    """Resolve every dvc.yaml under ``root`` (or just ``dvcfiles``).

    :param onerror: called with a dvc.yaml that fails to load and the error;
        the file is then skipped (``dvc stage list --all`` does this silently).
        Without it the first error is raised.
    """
    stages: list[Stage] = []
    loaded: list[str] = []
    outputs: set[str] = set()
    if dvcfiles is None:
        # DVC does not look for dvc.yaml inside the output directories it knows
        files: Iterable[str] = _walk_dvcfiles(root, DvcIgnore(root), outputs.__contains__)
    else:
        files = dvcfiles
    for relpath in files:
        try:
            resolved = DvcfileResolver(root, relpath, parsing_config=parsing_config).resolve()
        except DvcExpError as exc:
            if onerror is None:
                raise
            onerror(relpath, exc)
            continue
        loaded.append(relpath)
        stages.extend(resolved)
        outputs.update(p for s in resolved for p in s.out_paths if not is_url(p))
    return Pipeline(root=root, stages=stages, dvcfiles=loaded, parsing_config=parsing_config)
