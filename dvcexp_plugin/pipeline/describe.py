"""Stages as data and as text: ``stage list --json`` and ``stage list``.

The JSON shape (``addressing``, ``name``, ``dvcfile``, ``wdir``, ``cmd``,
``deps``, ``params``, ``outs``, ``metrics``, ``plots``, ``frozen``,
``always_changed``; repo-relative paths) is the one of the shared corpus's
``expected_stages.json``.
"""
from __future__ import annotations

from typing import Any

from dvcexp_plugin.pipeline.stage import Output, Stage

MAX_TEXT_LENGTH = 80


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


def describe(stage: Stage) -> str:
    """The description column of ``stage list``."""
    short = (stage.desc or "").strip().splitlines()
    return truncate(short[0] if short else generate_description(stage))
