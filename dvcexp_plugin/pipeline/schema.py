"""Validation of a raw ``dvc.yaml`` (before interpolation), as DVC's schema.

Each problem is reported as one line naming the file and the key path, e.g.
``'dvc.yaml' validation failed at 'stages.train.cmdd': extra keys not allowed``.
"""
from __future__ import annotations

from typing import Any

from dvcexp_plugin.errors import DvcFileSyntaxError

TOP_LEVEL_KEYS = {"stages", "vars", "params", "metrics", "plots", "artifacts", "datasets"}
STAGE_KEYS = {
    "cmd", "wdir", "deps", "params", "outs", "metrics", "plots", "frozen", "locked",
    "always_changed", "desc", "meta", "vars",
}
OUT_OPTIONS: dict[str, tuple[type, ...]] = {
    "cache": (bool,),
    "persist": (bool,),
    "checkpoint": (bool,),
    "remote": (str,),
    "push": (bool,),
    "desc": (str,),
    "type": (str,),
    "labels": (list,),
    "meta": (object,),
}
PLOT_OPTIONS: dict[str, tuple[type, ...]] = {
    **OUT_OPTIONS,
    "x": (str, dict),
    "y": (str, dict, list),
    "template": (str,),
    "title": (str,),
    "header": (bool,),
    "x_label": (str,),
    "y_label": (str,),
}


class _Check:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath

    def fail(self, where: str, problem: str) -> None:
        raise DvcFileSyntaxError(
            f"'{self.relpath}' validation failed at '{where}': {problem}"
        )

    def expect(self, value: Any, types: tuple[type, ...], where: str) -> None:
        if object in types:
            return
        # bool is an int in Python; DVC's schema does not accept True for an int
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(_type_name(t) for t in types)
            self.fail(where, f"expected {names}, got {_type_name(type(value))}")


def _type_name(tp: type) -> str:
    return {dict: "a dictionary", list: "a list", str: "a string", bool: "a boolean"}.get(
        tp, tp.__name__
    )


def validate_dvcfile(data: Any, relpath: str) -> None:
    """Raise :class:`DvcFileSyntaxError` when ``data`` breaks DVC's dvc.yaml schema."""
    check = _Check(relpath)
    if data is None:
        return
    if not isinstance(data, dict):
        check.fail("<root>", "expected a dictionary")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            check.fail(str(key), "extra keys not allowed")
    stages = data.get("stages")
    if stages is None:
        return
    check.expect(stages, (dict,), "stages")
    for name, definition in stages.items():
        where = f"stages.{name}"
        check.expect(name, (str,), where)
        check.expect(definition, (dict,), where)
        if "foreach" in definition:
            _validate_foreach(check, definition, where)
        else:
            if "matrix" in definition:
                matrix = definition["matrix"]
                check.expect(matrix, (dict, str), f"{where}.matrix")
                if isinstance(matrix, dict):
                    for axis, values in matrix.items():
                        check.expect(values, (list, str), f"{where}.matrix.{axis}")
            _validate_stage(check, definition, where, extra={"matrix"})
    for key in ("params", "metrics"):
        if key in data:
            check.expect(data[key], (list,), key)
    if "plots" in data:
        check.expect(data["plots"], (list, dict), "plots")
    if "artifacts" in data:
        check.expect(data["artifacts"], (dict,), "artifacts")
    if "vars" in data:
        _validate_vars(check, data["vars"], "vars")


def _validate_foreach(check: _Check, definition: dict[str, Any], where: str) -> None:
    for key in definition:
        if key not in ("foreach", "do"):
            check.fail(f"{where}.{key}", "extra keys not allowed")
    check.expect(definition["foreach"], (dict, list, str), f"{where}.foreach")
    if "do" not in definition:
        check.fail(f"{where}.do", "required key not provided")
    check.expect(definition["do"], (dict,), f"{where}.do")
    _validate_stage(check, definition["do"], f"{where}.do", extra=set())


def _validate_vars(check: _Check, value: Any, where: str) -> None:
    check.expect(value, (list,), where)
    for index, item in enumerate(value):
        check.expect(item, (str, dict), f"{where}[{index}]")


def _validate_stage(check: _Check, stage: dict[str, Any], where: str, extra: set[str]) -> None:
    for key in stage:
        if key not in STAGE_KEYS and key not in extra:
            check.fail(f"{where}.{key}", "extra keys not allowed")
    if "cmd" not in stage:
        check.fail(f"{where}.cmd", "required key not provided")
    cmd = stage["cmd"]
    check.expect(cmd, (str, list), f"{where}.cmd")
    if isinstance(cmd, list):
        if not cmd:
            check.fail(f"{where}.cmd", "expected a non-empty list of commands")
        for index, item in enumerate(cmd):
            check.expect(item, (str,), f"{where}.cmd[{index}]")
    elif not cmd.strip():
        check.fail(f"{where}.cmd", "empty command")
    for key in ("wdir", "desc"):
        if key in stage:
            check.expect(stage[key], (str,), f"{where}.{key}")
    for key in ("frozen", "locked", "always_changed"):
        if key in stage:
            check.expect(stage[key], (bool,), f"{where}.{key}")
    if "vars" in stage:
        _validate_vars(check, stage["vars"], f"{where}.vars")
    if "deps" in stage:
        check.expect(stage["deps"], (list,), f"{where}.deps")
        for index, dep in enumerate(stage["deps"] or []):
            check.expect(dep, (str,), f"{where}.deps[{index}]")
    if "params" in stage:
        check.expect(stage["params"], (list,), f"{where}.params")
        for index, param in enumerate(stage["params"] or []):
            check.expect(param, (str, dict), f"{where}.params[{index}]")
            if isinstance(param, dict):
                for file, keys in param.items():
                    if keys is not None:
                        check.expect(keys, (list,), f"{where}.params[{index}].{file}")
    for kind, options in (("outs", OUT_OPTIONS), ("metrics", OUT_OPTIONS), ("plots", PLOT_OPTIONS)):
        if kind in stage:
            _validate_outs(check, stage[kind], f"{where}.{kind}", options)


def _validate_outs(
    check: _Check, outs: Any, where: str, options: dict[str, tuple[type, ...]]
) -> None:
    check.expect(outs, (list,), where)
    for index, out in enumerate(outs or []):
        spot = f"{where}[{index}]"
        check.expect(out, (str, dict), spot)
        if isinstance(out, dict):
            if len(out) != 1:
                check.fail(spot, "expected one path per entry")
            for path, props in out.items():
                if props is None:
                    continue
                check.expect(props, (dict,), f"{spot}.{path}")
                for key, value in props.items():
                    if key not in options:
                        check.fail(f"{spot}.{path}.{key}", "extra keys not allowed")
                    check.expect(value, options[key], f"{spot}.{path}.{key}")
