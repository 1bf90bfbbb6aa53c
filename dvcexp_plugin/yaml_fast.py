"""A fast path for :func:`dvcexp_plugin.lock.dumps_yaml`: ruamel's exact text, for simple data.

Every stage job dumps its ``dvc.lock`` entry and its run-cache entry; ruamel's
pure-Python pipeline (representer, serializer, emitter) takes ~2 ms for each,
a large share of what a job costs. Lock entries are simple: mappings, lists,
short strings, ints and bools. For such data this module writes ruamel's
block layout directly (mapping indent 2, ``- `` at the parent key's column)
and asks ruamel's own resolver and scalar analysis whether each string can
stand plain (folding long ones as its emitter does); anything else — a
string that must be quoted, a float, ``None``, a container seen twice (ruamel
would anchor it), an empty collection in a list — makes :func:`fast_dump`
return None, and the caller falls back to ruamel. Tests compare both on every
corpus lock.
"""
from __future__ import annotations

from typing import Any

#: ruamel's default line width; a plain scalar is folded only past it
_WIDTH = 80
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_tools: tuple[Any, Any] | None = None
#: string → whether ruamel writes it plain (keys like ``path``, ``md5`` recur in every entry)
_PLAIN: dict[str, bool] = {}


class _Bail(Exception):
    """The data needs ruamel."""


def fast_dump(data: dict[str, Any]) -> str | None:
    """The text ruamel's round-trip dumper writes for ``data``, or None when unsure."""
    lines: list[str] = []
    try:
        _mapping(data, 0, lines, set(), first_prefix=None)
    except _Bail:
        return None
    return "\n".join(lines) + "\n"


def _mapping(data: dict[Any, Any], indent: int, lines: list[str], seen: set[int],
             first_prefix: str | None) -> None:
    _once(data, seen)
    if not data:
        raise _Bail
    pad = " " * indent
    for number, (key, value) in enumerate(data.items()):
        if not isinstance(key, str):
            raise _Bail
        lead = first_prefix if number == 0 and first_prefix is not None else pad
        head = f"{lead}{_plain(key, len(lead), key=True)}:"
        _value(head, value, indent, lines, seen)


def _value(head: str, value: Any, indent: int, lines: list[str], seen: set[int]) -> None:
    if isinstance(value, (dict, list)) and not value:
        _once(value, seen)
        lines.append(f"{head} {{}}" if isinstance(value, dict) else f"{head} []")
    elif isinstance(value, dict):
        lines.append(head)
        _mapping(value, indent + 2, lines, seen, first_prefix=None)
    elif isinstance(value, list):
        lines.append(head)
        _sequence(value, indent, lines, seen)
    else:
        lines.append(f"{head} {_scalar(value, len(head) + 1, indent + 2)}")


def _sequence(items: list[Any], indent: int, lines: list[str], seen: set[int]) -> None:
    _once(items, seen)
    dash = " " * indent + "- "
    for item in items:
        if isinstance(item, dict) and item:
            _mapping(item, indent + 2, lines, seen, first_prefix=dash)
        elif isinstance(item, (dict, list)):
            raise _Bail  # empty or nested collections in a list: leave them to ruamel
        else:
            lines.append(dash + _scalar(item, len(dash), indent + 2))


def _once(container: Any, seen: set[int]) -> None:
    if id(container) in seen:
        raise _Bail  # ruamel anchors a container that appears twice
    seen.add(id(container))


def _scalar(value: Any, column: int, indent: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _plain(value, column, indent=indent)
    if isinstance(value, float):
        return _float(value)
    raise _Bail  # None, dates...: ruamel's spellings


def _float(value: float) -> str:
    """ruamel's spelling of a float (``repr``, lower case; ``.inf``, ``.nan``)."""
    if value != value:
        text = ".nan"
    elif value in (float("inf"), float("-inf")):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value).lower()
    if _implicit_tag(text) != _FLOAT_TAG:
        raise _Bail  # ruamel would tag or quote it
    return text


def _plain(text: str, column: int, key: bool = False, indent: int = 0) -> str:
    """``text`` as ruamel writes it plain from ``column`` (raises ``_Bail`` if it would not).

    A value longer than the line is folded onto lines indented by ``indent``
    exactly as ruamel's ``write_plain`` folds it; keys are never folded (and
    must be simple keys: ruamel counts the tag too, so shorter than ~120).
    """
    if not text or (key and len(text) >= 100):  # ruamel: simple keys (with tag) < 128
        raise _Bail
    plain = _PLAIN.get(text)
    if plain is None:
        if len(_PLAIN) > 100_000:
            _PLAIN.clear()  # md5s are mostly new: keep the memo small in long runs
        analysis = _ruamel()[1].analyze_scalar(text)
        # not read back as a number, bool, null, date...; no quoting needed
        plain = _PLAIN[text] = bool(
            _implicit_tag(text) == _STR_TAG
            and not analysis.multiline and analysis.allow_block_plain
        )
    if not plain:
        raise _Bail
    if key or column + len(text) <= _WIDTH:
        return text
    return _fold(text, column, indent)


def _fold(text: str, column: int, indent: int) -> str:
    """ruamel's ``write_plain`` with ``split``: where its emitter breaks a long plain scalar.

    A lone space reached at or past the width becomes the line break; a word
    that would cross the width starts a line of its own (the space before it
    stays at the end of the line, as ruamel leaves it).
    """
    out: list[str] = []
    start = end = 0
    spaces = False
    while end <= len(text):
        ch = text[end] if end < len(text) else None
        if spaces:
            if ch != " ":
                if start + 1 == end and column >= _WIDTH:
                    out.append("\n" + " " * indent)
                    column = indent
                else:
                    out.append(text[start:end])
                    column += end - start
                start = end
        elif ch is None or ch == " ":
            word = text[start:end]
            if len(word) + column > _WIDTH and column > indent:
                out.append("\n" + " " * indent)
                column = indent
            out.append(word)
            column += len(word)
            start = end
        if ch is not None:
            spaces = ch == " "
        end += 1
    return "".join(out)


def _implicit_tag(text: str) -> str:
    """The tag ruamel's resolver gives ``text`` written plain (``str``, ``float``, ...)."""
    from ruamel.yaml.nodes import ScalarNode

    tag: str = _ruamel()[0].resolve(ScalarNode, text, (True, False))
    return tag


def _ruamel() -> tuple[Any, Any]:
    """ruamel's resolver and emitter as its round-trip dumper sets them up (made once)."""
    global _tools
    if _tools is None:
        import io

        from ruamel.yaml import YAML

        yaml = YAML()
        yaml.default_flow_style = False
        # the dumper's resolver and emitter, built as dump() builds them
        yaml.get_serializer_representer_emitter(io.StringIO(), None)
        _tools = (yaml.resolver, yaml.emitter)
    return _tools
