"""Reading params files (yaml, json, toml, py) and looking up dotted keys.

DVC picks the parser from the suffix: ``.json``, ``.toml``, ``.py``; anything
else is YAML. Python files contribute module-level assignments and class
attributes (``Train.lr``), read with :mod:`ast`, never executed.
"""
from __future__ import annotations

import ast
import json
import os
from typing import Any

from dvcexp_plugin.errors import ParamsFileError
from dvcexp_plugin.pipeline.yamlio import parse_yaml

_MISSING = object()


def read_params_file(path: str, shown_as: str | None = None) -> Any:
    """Parse a params file into Python data.

    :param path: the file on disk
    :param shown_as: the name used in error messages (repo-relative)
    :raises ParamsFileError: when the file is missing or cannot be parsed
    """
    name = shown_as or path
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError as exc:
        raise ParamsFileError(f"'{name}' does not exist") from exc
    except IsADirectoryError as exc:
        raise ParamsFileError(f"'{name}' is a directory, not a params file") from exc
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        try:
            return json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise ParamsFileError(
                f"unable to read: '{name}', JSON file structure is corrupted: {exc}"
            ) from exc
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ParamsFileError(
                f"unable to read: '{name}', TOML file structure is corrupted: {exc}"
            ) from exc
    if suffix == ".py":
        return parse_py_params(text, name)
    data = parse_yaml(text, name)
    return {} if data is None else data


def parse_py_params(text: str, name: str) -> dict[str, Any]:
    """Module-level and class-level literal assignments of a Python file."""
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as exc:
        raise ParamsFileError(
            f"unable to read: '{name}', Python file structure is corrupted: {exc.msg} "
            f"(line {exc.lineno})"
        ) from exc
    return _body_to_dict(tree.body, self_only=False)


def _body_to_dict(body: list[ast.stmt], self_only: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for node in body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is None:
                continue
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue  # DVC skips values that are not literals
            for target in targets:
                name = _target_name(target, self_only)
                if name is not None:
                    result[name] = value
        elif isinstance(node, ast.ClassDef) and not self_only:
            result[node.name] = _body_to_dict(node.body, self_only=False)
        elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
            result.update(_body_to_dict(node.body, self_only=True))
    return result


def _target_name(target: ast.expr, self_only: bool) -> str | None:
    if self_only:
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            return target.attr
        return None
    if isinstance(target, ast.Name):
        return target.id
    return None


def split_key(key: str) -> list[str]:
    """``a.b.0`` → ``["a", "b", "0"]`` (DVC's dotted params keys)."""
    return key.split(".")


def lookup(data: Any, key: str, default: Any = _MISSING) -> Any:
    """Value at a dotted key; list items are addressed by their index.

    :raises KeyError: when the key is absent and no default is given
    """
    node = data
    for part in split_key(key):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and (
            -len(node) <= int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            if default is _MISSING:
                raise KeyError(key)
            return default
    return node


def has_key(data: Any, key: str) -> bool:
    """Whether a dotted key exists in the data."""
    return lookup(data, key, _MISSING_SENTINEL) is not _MISSING_SENTINEL


_MISSING_SENTINEL = object()
