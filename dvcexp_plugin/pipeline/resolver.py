"""One ``dvc.yaml`` → resolved :class:`Stage` objects (vars, ``${}``, foreach, matrix).

Errors read like DVC's: ``failed to parse 'stages.train.cmd' in 'dvc.yaml':
Could not find 'lr'``.
"""
from __future__ import annotations

import copy
import itertools
import os
import posixpath
from typing import Any

from dvcexp_plugin.errors import DvcFileSyntaxError, ResolveError
from dvcexp_plugin.pipeline.context import Context
from dvcexp_plugin.pipeline.interpolate import has_interpolation, resolve_value, to_str
from dvcexp_plugin.pipeline.schema import validate_dvcfile
from dvcexp_plugin.pipeline.stage import DEFAULT_PARAMS_FILE, Output, ParamsDep, Stage
from dvcexp_plugin.pipeline.yamlio import load_yaml_file

OUT_KINDS = ("outs", "metrics", "plots")
_PLOT_PROPS = ("x", "y", "template", "title", "header", "x_label", "y_label")


def _fail(where: str, relpath: str, exc: Exception | str) -> ResolveError:
    return ResolveError(f"failed to parse '{where}' in '{relpath}': {exc}")


class DvcfileResolver:
    """Resolves the stages of one dvc.yaml.

    :param root: absolute repository root
    :param relpath: repo-relative POSIX path of the dvc.yaml
    :param parsing_config: DVC's ``parsing`` config section (``bool``, ``list``)
    """

    def __init__(
        self,
        root: str,
        relpath: str,
        data: dict[str, Any] | None = None,
        parsing_config: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.relpath = relpath
        self.dir = posixpath.dirname(relpath) or "."
        self.parsing_config = parsing_config or {}
        if data is None:
            data = load_yaml_file(os.path.join(root, relpath), shown_as=relpath) or {}
        validate_dvcfile(data, relpath)
        self.data: dict[str, Any] = data or {}
        self.context = Context(root)
        vars_ = self.data.get("vars") or []
        if has_interpolation(vars_):
            raise _fail("vars", relpath, "interpolating is not allowed")
        try:
            self._load_vars(self.context, vars_, self.dir, stage_name="")
        except ResolveError as exc:
            raise _fail("vars", relpath, exc) from exc

    def _load_vars(self, ctx: Context, vars_: list[Any], wdir: str, stage_name: str) -> None:
        if not stage_name:
            default = posixpath.normpath(posixpath.join(wdir, DEFAULT_PARAMS_FILE))
            if os.path.isfile(os.path.join(self.root, default)):
                ctx.merge_file(DEFAULT_PARAMS_FILE, wdir)
        for index, item in enumerate(vars_):
            if isinstance(item, str):
                ctx.merge_file(item, wdir)
            else:
                joiner = "." if stage_name else ""
                ctx.merge_dict(item, source=f"{stage_name}{joiner}vars[{index}]")

    # -- stages ----------------------------------------------------------
    def resolve(self) -> list[Stage]:
        """All stages of the file, generated ones expanded, in file order."""
        stages: list[Stage] = []
        seen: dict[str, str] = {}
        for name, definition in (self.data.get("stages") or {}).items():
            for stage in self._resolve_definition(str(name), definition):
                if stage.name in seen:
                    raise DvcFileSyntaxError(
                        f"'{self.relpath}': stage name '{stage.name}' is defined twice "
                        f"(by '{seen[stage.name]}' and '{name}'); rename one of them"
                    )
                seen[stage.name] = str(name)
                stages.append(stage)
        return stages

    def _resolve_definition(self, name: str, definition: dict[str, Any]) -> list[Stage]:
        if "matrix" in definition:
            return self._resolve_matrix(name, definition)
        if "foreach" in definition:
            return self._resolve_foreach(name, definition)
        return [self._resolve_entry(name, definition, self.context)]

    def _resolve_foreach(self, name: str, definition: dict[str, Any]) -> list[Stage]:
        where = f"stages.{name}.foreach"
        try:
            iterable = resolve_value(definition["foreach"], self.context.select)
        except ResolveError as exc:
            raise _fail(where, self.relpath, exc) from exc
        if isinstance(iterable, dict):
            items = [(to_str(k), v, True) for k, v in iterable.items()]
        elif isinstance(iterable, list):
            if any(isinstance(v, (dict, list)) for v in iterable):
                items = [(str(i), v, False) for i, v in enumerate(iterable)]
            else:
                items = [(to_str(v), v, False) for v in iterable]
        else:
            raise _fail(
                where,
                self.relpath,
                f"expected list/dictionary, got {type(iterable).__name__}",
            )
        stages = []
        for key, value, with_key in items:
            extra = {"item": value}
            if with_key:
                extra["key"] = key
            stages.append(self._generated(name, key, definition["do"], extra))
        return stages

    def _resolve_matrix(self, name: str, definition: dict[str, Any]) -> list[Stage]:
        where = f"stages.{name}.matrix"
        try:
            matrix = resolve_value(definition["matrix"], self.context.select)
        except ResolveError as exc:
            raise _fail(where, self.relpath, exc) from exc
        if not isinstance(matrix, dict):
            raise _fail(where, self.relpath, f"expected dictionary, got {type(matrix).__name__}")
        axes = list(matrix.items())
        for axis, values in axes:
            if not isinstance(values, list):
                raise _fail(
                    f"{where}.{axis}", self.relpath,
                    f"expected list, got {type(values).__name__}",
                )
        template = {k: v for k, v in definition.items() if k != "matrix"}
        stages = []
        combos = itertools.product(*(list(enumerate(values)) for _, values in axes))
        for combo in combos:
            item: dict[str, Any] = {}
            fragments = []
            for (axis, _), (index, value) in zip(axes, combo):
                item[axis] = value
                composite = isinstance(value, (dict, list))
                fragments.append(f"{axis}{index}" if composite else to_str(value))
            key = "-".join(fragments)
            stages.append(self._generated(name, key, template, {"item": item, "key": key}))
        return stages

    def _generated(
        self, name: str, key: str, template: dict[str, Any], extra: dict[str, Any]
    ) -> Stage:
        generated = f"{name}@{key}"
        ctx = self.context.clone()
        for reserved, value in extra.items():
            ctx.data[reserved] = value  # item/key shadow same-named vars, as in DVC
            ctx.sources[reserved] = generated
        try:
            return self._resolve_entry(generated, template, ctx)
        except ResolveError as exc:
            if str(exc).startswith("failed to parse"):
                raise
            raise _fail(f"stage '{generated}'", self.relpath, exc) from exc

    def _resolve_entry(self, name: str, definition: dict[str, Any], ctx: Context) -> Stage:
        definition = copy.deepcopy(definition)
        base = f"stages.{name}"
        wdir = self.dir
        if "wdir" in definition:
            try:
                wdir_value = resolve_value(definition["wdir"], ctx.select, "wdir")
            except ResolveError as exc:
                raise _fail(f"{base}.wdir", self.relpath, exc) from exc
            wdir = posixpath.normpath(posixpath.join(self.dir, to_str(wdir_value)))
        vars_ = definition.pop("vars", None) or []
        if vars_:
            if has_interpolation(vars_):
                raise _fail(f"{base}.vars", self.relpath, "interpolating is not allowed")
            ctx = ctx.clone()
            try:
                self._load_vars(ctx, vars_, wdir, stage_name=name)
            except ResolveError as exc:
                raise _fail(f"{base}.vars", self.relpath, exc) from exc
        resolved: dict[str, Any] = {}
        for key, value in definition.items():
            try:
                resolved[key] = resolve_value(value, ctx.select, key, self.parsing_config)
            except ResolveError as exc:
                raise _fail(f"{base}.{key}", self.relpath, exc) from exc
        return self._build_stage(name, resolved, wdir)

    def _build_stage(self, name: str, data: dict[str, Any], wdir: str) -> Stage:
        base = f"stages.{name}"
        cmd = data["cmd"]
        if isinstance(cmd, list):
            cmd = [to_str(c) for c in cmd]
        elif not isinstance(cmd, str):
            cmd = to_str(cmd)
        deps = [_path_str(d, f"{base}.deps", self.relpath) for d in data.get("deps") or []]
        outs: list[Output] = []
        for kind in OUT_KINDS:
            for entry in data.get(kind) or []:
                outs.append(_make_output(entry, kind, f"{base}.{kind}", self.relpath))
        return Stage(
            name=name,
            dvcfile=self.relpath,
            wdir=wdir,
            cmd=cmd,
            deps=deps,
            params=_merge_params(data.get("params") or [], f"{base}.params", self.relpath),
            outs=outs,
            frozen=bool(data.get("frozen") or data.get("locked")),
            always_changed=bool(data.get("always_changed")),
            desc=data.get("desc"),
            meta=data.get("meta"),
        )


def _path_str(value: Any, where: str, relpath: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(where, relpath, f"expected a path, got {type(value).__name__}")
    text = str(value)
    if not text:
        raise _fail(where, relpath, "empty path")
    return text


def _make_output(entry: Any, kind: str, where: str, relpath: str) -> Output:
    if isinstance(entry, dict):
        ((path, props),) = entry.items()
        props = props or {}
    else:
        path, props = entry, {}
    plot_props = tuple((k, props[k]) for k in _PLOT_PROPS if k in props)
    return Output(
        path=_path_str(path, where, relpath),
        kind=kind,
        cache=bool(props.get("cache", True)),
        persist=bool(props.get("persist", False)),
        push=bool(props.get("push", True)),
        remote=props.get("remote"),
        desc=props.get("desc"),
        type=props.get("type"),
        labels=tuple(props.get("labels") or ()),
        meta=props.get("meta"),
        checkpoint=bool(props.get("checkpoint", False)),
        plot_props=plot_props,
    )


def _merge_params(entries: list[Any], where: str, relpath: str) -> list[ParamsDep]:
    """DVC's rule: bare keys go to params.yaml; ``{file: }`` tracks the whole file
    and wins over specific keys of the same file."""
    whole: set[str] = set()
    for entry in entries:
        if isinstance(entry, dict):
            whole.update(str(f) for f, keys in entry.items() if not keys)
    merged: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, str):
            if DEFAULT_PARAMS_FILE not in whole:
                merged.setdefault(DEFAULT_PARAMS_FILE, []).append(entry)
            continue
        if not isinstance(entry, dict):
            raise _fail(where, relpath, f"expected a key or {{file: [keys]}}, got {entry!r}")
        for file, keys in entry.items():
            file = str(file)
            if file in whole:
                merged[file] = []
                continue
            if not isinstance(keys, list):
                raise _fail(
                    where, relpath,
                    f"expected list of params for custom params file '{file}', "
                    f"got '{type(keys).__name__}'",
                )
            merged.setdefault(file, []).extend(str(k) for k in keys)
    return [
        ParamsDep(path=file, keys=tuple(dict.fromkeys(keys)))
        for file, keys in merged.items()
    ]
