"""Editing a Python params file in place for ``-S/--set-param``.

DVC reads module-level assignments, class attributes and ``self.x`` in a
class's ``__init__`` (only values that are literals), and writes a change by
replacing the text `` = <old>`` with `` = <new>`` on the assignment's line
(``dvc/utils/serialize/_py.py``). That text search misses many values: strings,
``1e-3``, tuples and dict entries are silently left unchanged. Here the value's
exact source span, known from :mod:`ast`, is replaced instead, so the rest of
the file (comments, blank lines, code) stays byte for byte.

A value is written as a Python literal: ``repr`` for numbers, booleans, None
and strings (a string keeps double quotes if it had them); a list written over
a tuple or a set keeps that container. Adding or removing a top-level name is
refused (DVC crashes on the first and ignores the second). After the edit the
file must parse and hold exactly the new values, otherwise the edit is refused
with DVC's ``Python file structure is corrupted after update params``.
"""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any, Union

from dvcexp_plugin.errors import InvalidSetParamError, ParamsFileError


@dataclass
class _Assigned:
    """One literal assignment: its value node and the value it holds."""

    node: ast.expr
    value: Any


#: names of one scope: an assignment, or a class holding its own names
_Scope = dict[str, Union[_Assigned, "_Scope"]]


class PyDocument:
    """A ``.py`` params file.

    :param text: the file's text, None when it does not exist
    :param name: the name used in error messages
    """

    def __init__(self, text: str | None, name: str) -> None:
        self.name = name
        self.text = text or ""
        self.scope = _parse(self.text, name)

    def data(self) -> dict[Any, Any]:
        return _values(self.scope)

    def updated_text(self, new: dict[Any, Any]) -> str:
        edits: list[tuple[ast.expr, Any]] = []
        _diff_scope(self.scope, new, "", edits)
        if not edits:
            return self.text
        raw = self.text.encode("utf-8")
        starts = _line_starts(raw)
        # ast columns are UTF-8 byte offsets; edit from the end so offsets hold
        spans = sorted(
            (
                starts[node.lineno - 1] + node.col_offset,
                starts[(node.end_lineno or node.lineno) - 1] + (node.end_col_offset or 0),
                node,
                value,
            )
            for node, value in edits
        )
        for start, end, node, value in reversed(spans):
            double = raw[start:end].lstrip(b"rRuUbBfF")[:1] == b'"'
            text = _literal(value, node, double_quotes=double)
            raw = raw[:start] + text.encode("utf-8") + raw[end:]
        result = raw.decode("utf-8")
        try:
            reparsed = _values(_parse(result, self.name))
        except ParamsFileError:
            reparsed = None
        if reparsed is None or not _same(reparsed, new):
            raise ParamsFileError(
                f"unable to read: '{self.name}', Python file structure is corrupted "
                "after update params"
            )
        return result


def _parse(text: str, name: str) -> _Scope:
    try:
        tree = ast.parse(text, filename=name)
    except SyntaxError as exc:
        raise ParamsFileError(
            f"unable to read: '{name}', Python file structure is corrupted: {exc}"
        ) from exc
    return _scope(tree.body, self_only=False)


def _scope(body: list[ast.stmt], self_only: bool) -> _Scope:
    """The names DVC reads from a block (``_ast_tree_to_dict``)."""
    result: _Scope = {}
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            if isinstance(stmt, ast.AnnAssign):
                target: ast.expr = stmt.target
            elif len(stmt.targets) == 1:
                target = stmt.targets[0]
            else:
                continue  # `a = b = 1`: DVC skips it
            name = _target_name(target, self_only)
            if name is None or stmt.value is None:
                continue
            try:
                value = ast.literal_eval(stmt.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue  # not a literal: not a param
            result[name] = _Assigned(stmt.value, value)
        elif isinstance(stmt, ast.ClassDef):
            result[stmt.name] = _scope(stmt.body, self_only=False)
        elif isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            result.update(_scope(stmt.body, self_only=True))
    return result


def _target_name(target: ast.expr, self_only: bool) -> str | None:
    if isinstance(target, ast.Name) and not self_only:
        return target.id
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ):
        return target.attr
    return None


def _values(scope: _Scope) -> dict[str, Any]:
    return {
        key: entry.value if isinstance(entry, _Assigned) else _values(entry)
        for key, entry in scope.items()
    }


def _line_starts(raw: bytes) -> list[int]:
    starts = [0]
    for index, byte in enumerate(raw):
        if byte == 0x0A:  # the text was read with universal newlines: only \n
            starts.append(index + 1)
    return starts


def _diff_scope(scope: _Scope, new: dict[Any, Any], prefix: str, edits: list[Any]) -> None:
    for key in new:
        if key not in scope:
            raise InvalidSetParamError(
                f"Invalid `--set-param` value: cannot add '{prefix}{key}' to a Python "
                "params file; only existing assignments can be changed"
            )
    for key, entry in scope.items():
        if key not in new:
            raise InvalidSetParamError(
                f"Invalid `--set-param` value: cannot remove '{prefix}{key}' from a Python "
                "params file; only existing assignments can be changed"
            )
        if isinstance(entry, _Assigned):
            _diff_value(entry.node, entry.value, new[key], edits)
        elif isinstance(new[key], dict):
            _diff_scope(entry, new[key], f"{prefix}{key}.", edits)
        else:
            raise InvalidSetParamError(
                f"Invalid `--set-param` value: cannot replace class '{prefix}{key}' "
                "in a Python params file"
            )


def _diff_value(node: ast.expr, old: Any, new: Any, edits: list[Any]) -> None:
    """Queue the smallest source replacements turning ``old`` into ``new``."""
    if _same(old, new):
        return
    if (
        isinstance(node, ast.Dict)
        and isinstance(old, dict)
        and isinstance(new, dict)
        and list(old) == list(new)
        and len(node.keys) == len(old)
        and None not in node.keys
    ):
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            key = ast.literal_eval(key_node)  # type: ignore[arg-type]
            _diff_value(value_node, old[key], new[key], edits)
        return
    if (
        isinstance(node, (ast.List, ast.Tuple))
        and isinstance(old, (list, tuple))
        and isinstance(new, list)
        and len(old) == len(new) == len(node.elts)
    ):
        for elt, old_item, new_item in zip(node.elts, old, new, strict=True):
            _diff_value(elt, old_item, new_item, edits)
        return
    edits.append((node, new))


def _same(old: Any, new: Any) -> bool:
    """Equal values of the same kind (``1`` is not ``True``; a tuple may be a list)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return list(old) == list(new) and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        return len(old) == len(new) and all(map(_same, old, new))
    if type(old) is not type(new):
        return False
    return bool(old == new) or (
        isinstance(old, float) and math.isnan(old) and math.isnan(new)
    )


def _literal(value: Any, hint: ast.expr | None = None, double_quotes: bool = False) -> str:
    """Python source for ``value``; ``hint`` is the node it replaces."""
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, float):
        return repr(value)  # nan/inf are no literals: the re-parse check refuses them
    if isinstance(value, str):
        text = repr(value)
        if double_quotes and text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, (list, tuple, set)):
        items = [_literal(item) for item in value]
        if isinstance(hint, ast.Tuple) or isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(hint, ast.Set) or isinstance(value, set):
            return "{" + ", ".join(items) + "}" if items else "set()"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)  # anything else must survive the re-parse check

