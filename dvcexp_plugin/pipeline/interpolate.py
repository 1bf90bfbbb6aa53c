"""``${}`` interpolation with DVC's rules.

- A string that is exactly one ``${expr}`` keeps the native type of the value.
- Inside a longer string booleans render as ``true``/``false``; in ``cmd`` a
  dict renders as CLI flags (``--lr 0.1 --flag --layers 1 2``); any other
  non-primitive is an error.
- ``\\${`` escapes an interpolation and is rendered as ``${``.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import Any

from dvcexp_plugin.errors import ResolveError

KEYCRE = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
_SEGMENT = r"[^.\[\]\s${}]+"
_EXPR_RE = re.compile(rf"^{_SEGMENT}(?:\[\s*-?\d+\s*\])*(?:\.{_SEGMENT}(?:\[\s*-?\d+\s*\])*)*$")
PRIMITIVES = (int, float, str, bytes, bool)


class InterpolationError(ResolveError):
    """An expression could not be parsed or found; the caller adds the place."""


def has_interpolation(value: Any) -> bool:
    """Whether a (nested) value holds any ``${}``."""
    if isinstance(value, str):
        return KEYCRE.search(value) is not None
    if isinstance(value, dict):
        return any(has_interpolation(k) or has_interpolation(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_interpolation(v) for v in value)
    return False


def parse_expression(inner: str) -> list[str | int]:
    """``a.b[0].c`` → ``["a", "b", 0, "c"]``."""
    expr = inner.strip()
    if not expr or not _EXPR_RE.match(expr):
        raise InterpolationError(f"Failed to parse '${{{inner}}}': invalid expression")
    parts: list[str | int] = []
    for segment in expr.split("."):
        name, _, rest = segment.partition("[")
        parts.append(name)
        if rest:
            for index in ("[" + rest).split("[")[1:]:
                parts.append(int(index.rstrip("]").strip()))
    return parts


def to_str(value: Any, in_cmd: bool = False, config: dict[str, str] | None = None) -> str:
    """Render a value inside a longer string, as DVC does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and in_cmd:
        return dict_to_cli(value, config or {})
    return str(value)


def validate_value(value: Any, key: str | None) -> None:
    """Reject non-primitive values except dicts in ``cmd`` (DVC's rule)."""
    not_primitive = value is not None and not isinstance(value, PRIMITIVES)
    not_foreach = key is not None and "foreach" not in key
    if not_primitive and not_foreach:
        if isinstance(value, dict) and key == "cmd":
            return
        raise InterpolationError(f"Cannot interpolate data of type '{type(value).__name__}'")


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def dict_to_cli(data: dict[str, Any], config: dict[str, str]) -> str:
    """``{"lr": 0.1, "flag": True, "layers": [1, 2]}`` → ``--lr 0.1 --flag --layers 1 2``.

    ``config`` carries DVC's ``parsing.bool`` (``store_true`` or
    ``boolean_optional``) and ``parsing.list`` (``nargs`` or ``append``).
    """
    parts: list[str] = []
    for key, value in _flatten(data).items():
        if isinstance(value, bool):
            if value:
                parts.append(f"--{key}")
            elif config.get("bool", "store_true") == "boolean_optional":
                parts.append(f"--no-{key}")
        elif isinstance(value, str):
            parts.append(f"--{key} {shlex.quote(value)}")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    item = shlex.quote(item)
                elif isinstance(item, (list, tuple, dict)):
                    raise InterpolationError(f"Cannot interpolate nested iterable in '{key}'")
                if config.get("list", "nargs") == "append":
                    parts.append(f"--{key} {item}")
                else:
                    parts.append(f"--{key} {item}" if index == 0 else f"{item}")
        else:
            parts.append(f"--{key} {value}")
    return " ".join(parts)


def resolve_str(
    src: str,
    select: Callable[[list[str | int], str], Any],
    key: str | None = None,
    config: dict[str, str] | None = None,
) -> Any:
    """Interpolate one string.

    :param select: looks an expression up in the context (parts, text)
    :param key: the top-level stage key being resolved (``cmd``, ``outs``…)
    """
    matches = list(KEYCRE.finditer(src))
    if not matches:
        return src.replace("\\${", "${")
    if len(matches) == 1 and matches[0].group(0) == src:
        inner = matches[0].group("inner")
        value = select(parse_expression(inner), inner.strip())
        validate_value(value, key)
        return value
    buf: list[str] = []
    index = 0
    for match in matches:
        inner = match.group("inner")
        value = select(parse_expression(inner), inner.strip())
        validate_value(value, key)
        buf.append(src[index : match.start()])
        buf.append(to_str(value, in_cmd=key == "cmd", config=config))
        index = match.end()
    buf.append(src[index:])
    return "".join(buf).replace("\\${", "${")


def resolve_value(
    value: Any,
    select: Callable[[list[str | int], str], Any],
    key: str | None = None,
    config: dict[str, str] | None = None,
) -> Any:
    """Interpolate every string (dict keys included) of a nested value."""
    if isinstance(value, str):
        return resolve_str(value, select, key, config)
    if isinstance(value, dict):
        return {
            resolve_value(k, select, key, config): resolve_value(v, select, key, config)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [resolve_value(v, select, key, config) for v in value]
    return value
