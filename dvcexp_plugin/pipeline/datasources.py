"""``.dvc`` files — data tracked with ``dvc add`` or imported — as stages.

DVC lists them with the pipeline stages (``dvc stage list --all``), reports
them in ``dvc status`` (``data/x.dvc: changed outs``), connects pipeline deps
to their outputs, and on ``repro`` verifies them and records a new hash when
the data changed. A ``.dvc`` file is its own lock: its ``outs`` items carry
the hashes.
"""
from __future__ import annotations

import os
import posixpath
from typing import Any

from dvcexp_plugin.errors import DvcFileSyntaxError
from dvcexp_plugin.pipeline.dvcignore import ALWAYS_IGNORED, DvcIgnore
from dvcexp_plugin.pipeline.stage import Output, Stage
from dvcexp_plugin.pipeline.yamlio import load_yaml_file

SUFFIX = ".dvc"
_KEYS = {"outs", "deps", "md5", "frozen", "wdir", "meta", "desc", "cmd", "always_changed"}


def find_data_files(root: str, ignore: DvcIgnore | None = None) -> list[str]:
    """Repo-relative paths of every ``*.dvc`` file, in walk order."""
    ignore = ignore or DvcIgnore(root)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        reldir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        reldir = "" if reldir == "." else reldir
        kept = []
        for name in sorted(dirnames):
            rel = posixpath.join(reldir, name) if reldir else name
            if name in ALWAYS_IGNORED or ignore.is_ignored(rel, is_dir=True):
                continue
            if reldir and os.path.isdir(os.path.join(dirpath, name, ".dvc")):
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.endswith(SUFFIX) and name != SUFFIX:
                rel = posixpath.join(reldir, name) if reldir else name
                if not ignore.is_ignored(rel, is_dir=False):
                    found.append(rel)
    return found


def read_data_file(root: str, relpath: str) -> dict[str, Any]:
    """The parsed ``.dvc`` file, validated enough to be used safely."""
    data = load_yaml_file(os.path.join(root, relpath), shown_as=relpath) or {}
    if not isinstance(data, dict):
        raise DvcFileSyntaxError(f"'{relpath}' validation failed: expected a dictionary")
    extra = sorted(str(k) for k in data if k not in _KEYS)
    if extra:
        raise DvcFileSyntaxError(
            f"'{relpath}' validation failed at '{extra[0]}': extra keys not allowed"
        )
    for section in ("outs", "deps"):
        items = data.get(section) or []
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("path"), str) for i in items
        ):
            raise DvcFileSyntaxError(
                f"'{relpath}' validation failed at '{section}': expected a list of "
                "items with a 'path'"
            )
    return data


def data_stage(root: str, relpath: str) -> Stage:
    """A ``.dvc`` file as a :class:`Stage` (``data_source=True``)."""
    data = read_data_file(root, relpath)
    directory = posixpath.dirname(relpath) or "."
    wdir = posixpath.normpath(posixpath.join(directory, str(data.get("wdir") or ".")))
    outs = [
        Output(path=item["path"], cache=bool(item.get("cache", True)),
               persist=bool(item.get("persist", False)))
        for item in data.get("outs") or []
    ]
    return Stage(
        name=posixpath.basename(relpath),
        dvcfile=relpath,
        wdir=wdir,
        cmd=str(data.get("cmd") or ""),
        deps=[item["path"] for item in data.get("deps") or []],
        outs=outs,
        frozen=bool(data.get("frozen")),
        desc=data.get("desc"),
        meta=data.get("meta"),
        data_source=True,
    )


def load_data_stages(root: str) -> list[Stage]:
    """Every ``.dvc`` file of the repository as a stage."""
    return [data_stage(root, rel) for rel in find_data_files(root)]
