"""Validation of a raw ``dvc.yaml`` (before interpolation), as DVC's schema.

The rules are those of DVC 3.x's ``MULTI_STAGE_SCHEMA``, checked by observing
what ``dvc stage list`` accepts. Each problem is reported as one line naming
the file and the key path, plus what to do, e.g.
``'dvc.yaml' validation failed at 'stages.train.cmdd': extra keys not allowed;
remove 'cmdd' or use one of: always_changed, cmd, …``.
"""
from __future__ import annotations

from typing import Any

from dvcexp_plugin.errors import DvcFileSyntaxError

TOP_LEVEL_KEYS = ("artifacts", "datasets", "metrics", "params", "plots", "stages", "vars")
#: a stage's keys; ``matrix`` sits beside them (DVC also tolerates it inside
#: ``do``, where it is ignored). ``locked`` (DVC 1.x) is rejected by DVC 3.
STAGE_KEYS = (
    "always_changed", "cmd", "deps", "desc", "frozen", "meta", "metrics", "outs",
    "params", "plots", "vars", "wdir",
)
_ANNOTATION_OPTIONS: dict[str, tuple[type, ...]] = {
    "desc": (str,),
    "type": (str,),
    "labels": (list,),
    "meta": (object,),
}
OUT_OPTIONS: dict[str, tuple[type, ...]] = {
    **_ANNOTATION_OPTIONS,
    "cache": (bool,),
    "persist": (bool,),
    "checkpoint": (bool,),
    "remote": (str,),
    "push": (bool,),
}
PLOT_OPTIONS: dict[str, tuple[type, ...]] = {
    **OUT_OPTIONS,
    "x": (str,),
    "y": (str,),
    "template": (str,),
    "title": (str,),
    "header": (bool,),
    "x_label": (str,),
    "y_label": (str,),
}
#: a top-level plot definition (``plots: [{id: {x, y, …}}]``)
TOP_PLOT_OPTIONS: dict[str, tuple[type, ...]] = {
    "x": (str, dict),
    "y": (str, list, dict),
    "x_label": (str,),
    "y_label": (str,),
    "title": (str,),
    "template": (str,),
}
ARTIFACT_OPTIONS: dict[str, tuple[type, ...]] = {**_ANNOTATION_OPTIONS, "path": (str,)}


class _Check:
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath

    def fail(self, where: str, problem: str, fix: str = "") -> None:
        raise DvcFileSyntaxError(
            f"'{self.relpath}' validation failed at '{where}': {problem}"
            + (f"; {fix}" if fix else "")
        )

    def expect(self, value: Any, types: tuple[type, ...], where: str) -> None:
        if object in types:
            return
        # bool is an int in Python; DVC's schema does not accept True for an int
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join(_type_name(t) for t in types)
            self.fail(where, f"expected {names}, got {_type_name(type(value))}")

    def keys(self, data: dict[Any, Any], allowed: Any, where: str) -> None:
        """Reject keys outside ``allowed``, listing the allowed ones."""
        for key in data:
            if key not in allowed:
                spot = f"{where}.{key}" if where else str(key)
                self.fail(
                    spot, "extra keys not allowed",
                    f"remove '{key}' or use one of: {', '.join(sorted(allowed))}",
                )

    def options(
        self, props: dict[Any, Any], allowed: dict[str, tuple[type, ...]], where: str
    ) -> None:
        self.keys(props, allowed, where)
        for key, value in props.items():
            self.expect(value, allowed[key], f"{where}.{key}")


def _type_name(tp: type) -> str:
    return {
        dict: "a dictionary", list: "a list", str: "a string", bool: "a boolean",
        type(None): "nothing",
    }.get(tp, tp.__name__)


def validate_dvcfile(data: Any, relpath: str) -> None:
    """Raise :class:`DvcFileSyntaxError` when ``data`` breaks DVC's dvc.yaml schema."""
    check = _Check(relpath)
    if data is None:
        return  # an empty file has no stages
    if not isinstance(data, dict):
        check.fail("<root>", "expected a dictionary", "a dvc.yaml maps 'stages' to stages")
    check.keys(data, TOP_LEVEL_KEYS, "")
    if "stages" in data:
        stages = data["stages"]
        check.expect(stages, (dict,), "stages")
        for name, definition in stages.items():
            _validate_definition(check, name, definition)
    for key in ("params", "metrics"):
        if key in data:
            _validate_list_of(check, data[key], (str,), key)
    if "plots" in data:
        _validate_top_plots(check, data["plots"])
    if "artifacts" in data:
        check.expect(data["artifacts"], (dict,), "artifacts")
        for name, artifact in data["artifacts"].items():
            where = f"artifacts.{name}"
            check.expect(artifact, (dict,), where)
            check.options(artifact, ARTIFACT_OPTIONS, where)
            if "path" not in artifact:
                check.fail(f"{where}.path", "required key not provided", "add 'path'")
            _validate_list_of(check, artifact.get("labels", []), (str,), f"{where}.labels")
    if "vars" in data:
        _validate_list_of(check, data["vars"], (str, dict), "vars")


def _validate_definition(check: _Check, name: Any, definition: Any) -> None:
    where = f"stages.{name}"
    check.expect(name, (str,), where)
    check.expect(definition, (dict,), where)
    if "foreach" in definition or "do" in definition:
        # DVC picks the foreach schema as soon as one of its keys is present
        for key in definition:
            if key == "matrix":
                check.fail(
                    f"{where}.matrix", "extra keys not allowed",
                    "use either foreach/do or matrix, not both",
                )
            if key in STAGE_KEYS:
                check.fail(
                    f"{where}.{key}", "extra keys not allowed",
                    f"a foreach stage keeps '{key}' under 'do'",
                )
        check.keys(definition, ("foreach", "do"), where)
        if "foreach" not in definition:
            check.fail(f"{where}.foreach", "required key not provided", "add 'foreach'")
        check.expect(definition["foreach"], (dict, list, str), f"{where}.foreach")
        if "do" not in definition:
            check.fail(
                f"{where}.do", "required key not provided",
                "put the stage's keys under 'do'",
            )
        check.expect(definition["do"], (dict,), f"{where}.do")
        _validate_stage(check, definition["do"], f"{where}.do")
    else:
        _validate_stage(check, definition, where)


def _validate_list_of(check: _Check, value: Any, types: tuple[type, ...], where: str) -> None:
    check.expect(value, (list,), where)
    for index, item in enumerate(value):
        check.expect(item, types, f"{where}[{index}]")


def _validate_stage(check: _Check, stage: dict[str, Any], where: str) -> None:
    check.keys(stage, (*STAGE_KEYS, "matrix"), where)
    if "cmd" not in stage:
        check.fail(f"{where}.cmd", "required key not provided", "add the command to run as 'cmd'")
    # DVC accepts any list (even an empty one) and an empty string here
    check.expect(stage["cmd"], (str, list), f"{where}.cmd")
    if "matrix" in stage:
        check.expect(stage["matrix"], (dict,), f"{where}.matrix")
        for axis, values in stage["matrix"].items():
            check.expect(axis, (str,), f"{where}.matrix")
            check.expect(values, (list, str), f"{where}.matrix.{axis}")
    for key in ("wdir", "desc"):
        if key in stage:
            check.expect(stage[key], (str,), f"{where}.{key}")
    for key in ("frozen", "always_changed"):
        if key in stage:
            check.expect(stage[key], (bool,), f"{where}.{key}")
    if "vars" in stage:
        _validate_list_of(check, stage["vars"], (str, dict), f"{where}.vars")
    if "deps" in stage:
        _validate_list_of(check, stage["deps"], (str,), f"{where}.deps")
    if "params" in stage:
        _validate_list_of(check, stage["params"], (str, dict), f"{where}.params")
        for index, param in enumerate(stage["params"]):
            if isinstance(param, dict):
                for file, keys in param.items():
                    if keys is not None and not isinstance(keys, list):
                        check.fail(
                            f"{where}.params[{index}].{file}",
                            f"expected a list, got {_type_name(type(keys))}",
                            f"write the keys as a list ('{file}: [key]'), or nothing "
                            "to track the whole file",
                        )
    for kind, options in (("outs", OUT_OPTIONS), ("metrics", OUT_OPTIONS), ("plots", PLOT_OPTIONS)):
        if kind in stage:
            _validate_outs(check, stage[kind], f"{where}.{kind}", options)


def _validate_outs(
    check: _Check, outs: Any, where: str, options: dict[str, tuple[type, ...]]
) -> None:
    _validate_list_of(check, outs, (str, dict), where)
    for index, out in enumerate(outs):
        if not isinstance(out, dict):
            continue
        # one entry may hold several paths, each with its options
        for path, props in out.items():
            spot = f"{where}[{index}].{path}"
            check.expect(path, (str,), f"{where}[{index}]")
            if props is None:
                check.fail(
                    spot, "expected a dictionary, got nothing",
                    f"give options ('{path}: {{cache: false}}') or write the path alone",
                )
            if isinstance(props, list):  # DVC: "Expected dict for '…', got: 'list'"
                check.fail(spot, "expected a dictionary, got a list", "give one set of options")
            check.expect(props, (dict,), spot)
            check.options(props, options, spot)
            _validate_list_of(check, props.get("labels", []), (str,), f"{spot}.labels")


def _validate_top_plots(check: _Check, plots: Any) -> None:
    _validate_list_of(check, plots, (str, dict), "plots")
    for index, plot in enumerate(plots):
        if not isinstance(plot, dict):
            continue
        for name, props in plot.items():
            spot = f"plots[{index}].{name}"
            if props is None:
                continue
            check.expect(props, (dict,), spot)
            check.options(props, TOP_PLOT_OPTIONS, spot)
