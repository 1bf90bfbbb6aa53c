"""Stages as data and as text: ``stage list --json`` and ``stage list``.

The JSON shape (``addressing``, ``name``, ``dvcfile``, ``wdir``, ``cmd``,
``deps``, ``params``, ``outs``, ``metrics``, ``plots``, ``frozen``,
``always_changed``; repo-relative paths) is the one of the shared corpus's
``expected_stages.json``.
"""
from __future__ import annotations

import os
from typing import Any

from dvcexp_plugin.pipeline.stage import Output, Stage

MAX_TEXT_LENGTH = 80
DVCFILE = "dvc.yaml"


def stage_as_dict(stage: Stage) -> dict[str, Any]:
    """One stage with repo-relative paths."""

    def outs(kind: str) -> list[dict[str, Any]]:
        return [
            {"path": stage.repo_path(o.path), "cache": o.cache, "persist": o.persist}
            for o in stage.outputs_of(kind)
        ]

    return {
        "addressing": stage.addressing,
        "name": stage.name,
        "dvcfile": stage.dvcfile,
        "wdir": stage.wdir,
        "cmd": stage.cmd,
        "deps": stage.dep_paths,
        "params": {stage.repo_path(p.path): list(p.keys) for p in stage.params},
        "outs": outs("outs"),
        "metrics": outs("metrics"),
        "plots": outs("plots"),
        "frozen": stage.frozen,
        "always_changed": stage.always_changed,
    }


def _join(paths: list[str]) -> str:
    return ", ".join(paths)


def generate_description(stage: Stage) -> str:
    """DVC's summary when a stage has no ``desc``."""
    dep_paths = list(stage.deps) + [p.path for p in stage.params]
    if not dep_paths and not stage.outs:
        return "No outputs or dependencies"
    if not stage.outs:
        return "Depends on " + _join(dep_paths)
    parts = []
    plain: list[Output] = [o for o in stage.outs if o.kind == "outs"]
    reports: list[Output] = [o for o in stage.outs if o.kind != "outs"]
    if plain:
        parts.append("Outputs " + _join([o.path for o in plain]))
    if reports:
        parts.append("Reports " + _join([o.path for o in reports]))
    return "; ".join(parts)


def truncate(text: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    if len(text) > max_length:
        return text[: max_length - 1] + "\u2026"
    return text


def short_description(stage: Stage) -> str:
    """The first non-empty line of ``desc``, stripped ("" when there is none).

    As DVC: a first line of blanks counts as the line, so ``"  \nsecond"``
    gives "" and the generated description is shown instead.
    """
    lines = [line for line in (stage.desc or "").splitlines() if line]
    return lines[0].strip() if lines else ""


def describe(stage: Stage) -> str:
    """The description column of ``stage list``."""
    return truncate(short_description(stage) or generate_description(stage))


def display_address(stage: Stage, root: str, cwd: str) -> str:
    """How DVC shows a stage to a user in ``cwd``: ``train`` for the dvc.yaml of
    ``cwd``, otherwise the dvc.yaml's path relative to ``cwd`` (``../dvc.yaml:train``);
    a ``.dvc`` file by its path (``../data.csv.dvc``).
    """
    path = os.path.relpath(os.path.join(root, stage.dvcfile), cwd).replace(os.sep, "/")
    if stage.data_source:
        return path  # a .dvc file is addressed by its path
    if path == DVCFILE:
        return stage.name
    return f"{path}:{stage.name}"


def stage_list_rows(stages: list[Stage], root: str, cwd: str) -> list[tuple[str, str]]:
    """``(name, description)`` rows of ``stage list``, names as seen from ``cwd``."""
    return [(display_address(stage, root, cwd), describe(stage)) for stage in stages]


def format_table(rows: list[tuple[str, str]]) -> str:
    """DVC's two-column table: names padded to the longest, two spaces, no
    trailing blanks."""
    width = max((len(name) for name, _ in rows), default=0)
    return "\n".join(f"{name.ljust(width)}  {text}".rstrip() for name, text in rows)
