"""A resolved stage as plain JSON data, for jobs that must not re-resolve dvc.yaml.

The engine writes one spec file per run; each stage-runner job reads its stage
from it, so a job costs a JSON load instead of a pipeline resolution.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from dvcexp_plugin.pipeline.stage import Output, ParamsDep, Stage


def stage_to_spec(stage: Stage) -> dict[str, Any]:
    """JSON-safe form of a stage (``meta`` and plot properties included)."""
    return {
        "name": stage.name,
        "dvcfile": stage.dvcfile,
        "wdir": stage.wdir,
        "cmd": stage.cmd,
        "deps": list(stage.deps),
        "params": [{"path": p.path, "keys": list(p.keys)} for p in stage.params],
        "outs": [
            {**dataclasses.asdict(o), "labels": list(o.labels),
             "plot_props": [list(kv) for kv in o.plot_props]}
            for o in stage.outs
        ],
        "frozen": stage.frozen,
        "always_changed": stage.always_changed,
        "desc": stage.desc,
        "meta": stage.meta,
    }


def stage_from_spec(data: dict[str, Any]) -> Stage:
    """Inverse of :func:`stage_to_spec`."""
    outs = []
    for item in data["outs"]:
        item = dict(item)
        item["labels"] = tuple(item.get("labels") or ())
        item["plot_props"] = tuple(tuple(kv) for kv in item.get("plot_props") or ())
        outs.append(Output(**item))
    return Stage(
        name=data["name"],
        dvcfile=data["dvcfile"],
        wdir=data["wdir"],
        cmd=data["cmd"],
        deps=list(data["deps"]),
        params=[ParamsDep(p["path"], tuple(p["keys"])) for p in data["params"]],
        outs=outs,
        frozen=bool(data.get("frozen")),
        always_changed=bool(data.get("always_changed")),
        desc=data.get("desc"),
        meta=data.get("meta"),
    )
