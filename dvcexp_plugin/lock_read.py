"""Reading ``dvc.lock``: parse once per text, validate DVC's schema 2.0 shape.

Reading uses the project's fast YAML 1.2 loader. What this process read or
wrote last for each lock is kept (:data:`_KNOWN`), with whether ruamel's
round-trip load would keep more than a plain load does (comments, anchors,
unusual number spellings): a file with such things is reloaded with ruamel
before a rewrite (see :mod:`dvcexp_plugin.lock`).
"""
from __future__ import annotations

import os
import re
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from dvcexp_plugin.errors import LockfileError, YAMLFileCorruptedError
from dvcexp_plugin.pipeline.yamlio import parse_yaml

#: the only lock schema DVC 3.x accepts
SCHEMA_VERSION = "2.0"
#: hash name of items without a ``hash:`` key (written by DVC 2.x)
LEGACY_HASH_NAME = "md5-dos2unix"
_FIX = "delete it and run `dvc repro` or `dvcexp repro` to regenerate it"

# What ruamel's round-trip load keeps and a plain load loses: comments, blank
# lines, anchors/aliases, tags, block scalars, non-empty flow collections,
# document markers and directives. False positives only cost speed.
_RT_ONLY = re.compile(
    r"#|\n[ \t]*\n|(?:^[ \t]*(?:- )+|: )(?:[&*!|>]|\[(?!\])|\{(?!\}))|^(?:---|\.\.\.|%)",
    re.M,
)
_VALUE_TOKEN = re.compile(r"(?:^[ \t]*(?:- )+|: )([-+.]?[0-9][\w.+-]*)$", re.M)
_NUMBER = re.compile(
    r"[-+]?(?:[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)"
)


def read_lockfile(path: str) -> dict[str, dict[str, Any]]:
    """Map each stage name to its raw lock entry (``cmd``, ``deps``, ``params``, ``outs``).

    :param path: the ``dvc.lock`` to read
    :returns: ``{}`` when the file does not exist
    :raises LockfileError: a syntax error, the pre-2.0 format, or a malformed entry
    """
    try:
        with open(path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        return {}
    stages: dict[str, dict[str, Any]] = _parsed(text, path).get("stages", {})
    return stages


@dataclass
class _Known:
    """What this process knows of one lock file's current text."""

    text: str
    #: the validated document (shared: read-only)
    data: dict[str, Any]
    #: whether ruamel's round-trip load would keep more than ``data`` (None: not checked)
    round_trip: bool | None = None
    #: the text is ruamel's own dump of ``data``, written by this process
    ours: bool = False


#: realpath → the lock's last text read or written here. Each stage job reads the
#: lock to decide and again to write it, and both engines run every job in one
#: process: parsing the whole lock each time made a pipeline's run quadratic.
_KNOWN: dict[str, _Known] = {}


def _known(text: str, path: str) -> _Known:
    key = os.path.realpath(path)
    known = _KNOWN.get(key)
    if known is None or known.text != text:
        known = _KNOWN[key] = _Known(text, _validated(_parse(text, path), path))
    return known


def _parsed(text: str, path: str) -> dict[str, Any]:
    """The validated document of ``text``, parsed once per distinct text (treat as read-only)."""
    return _known(text, path).data


def _round_trip_needed(text: str, path: str) -> bool:
    known = _known(text, path)
    if known.round_trip is None:
        known.round_trip = _needs_round_trip(text)
    return known.round_trip


def entry_hash_name(item: dict[str, Any]) -> str:
    """``"md5"`` for a DVC 3.x dep/out item, ``"md5-dos2unix"`` for a legacy 2.x one."""
    return str(item.get("hash", LEGACY_HASH_NAME))


def _parse(text: str, path: str) -> Any:
    try:
        return parse_yaml(text, path)
    except YAMLFileCorruptedError as exc:
        detail = str(exc).rpartition("corrupted: ")[2]
        raise LockfileError(f"'{path}' is not valid YAML: {detail}; {_FIX}") from exc


def _validated(data: Any, path: str) -> dict[str, Any]:
    """Check the shape that DVC's lock schema requires, and return the top-level mapping."""

    def fail(problem: str) -> LockfileError:
        return LockfileError(f"'{path}' {problem}; {_FIX}")

    if data is None:
        raise fail("is empty")
    if not isinstance(data, dict):
        raise fail("is not a mapping with 'schema: '2.0''")
    if "schema" not in data:
        if any(isinstance(v, dict) and "cmd" in v for v in data.values()):
            raise fail("uses the unsupported pre-2.0 lock format (stages at the top level)")
        raise fail("has no 'schema' key")
    if (found := data["schema"]) != SCHEMA_VERSION:
        raise fail(f"has unsupported schema {found!r} ({type(found).__name__}; expected '2.0')")
    if extra := sorted(str(k) for k in data if k not in ("schema", "stages", "datasets")):
        raise fail(f"has unknown top-level keys {extra}")
    if not isinstance(stages := data.get("stages", {}), dict):
        raise fail("has a 'stages' that is not a mapping")
    for name, entry in stages.items():
        if problem := _entry_problem(entry):
            raise fail(f"has a stage '{name}' that {problem}")
    return data


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "is not a mapping"
    if extra := sorted(str(k) for k in entry if k not in ("cmd", "deps", "params", "outs")):
        return f"has unknown keys {extra}"
    if not isinstance(entry.get("cmd"), (str, list)):
        return "has no 'cmd'"
    for section in ("deps", "outs"):
        items = entry.get(section, [])
        if not isinstance(items, list) or not all(isinstance(_get(i, "path"), str) for i in items):
            return f"has a malformed '{section}' (a list of items with a 'path')"
    params = entry.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        return "has malformed 'params' (expected {file: {key: value}})"
    return None


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None


def _needs_round_trip(text: str) -> bool:
    """Would ruamel's round-trip load keep something that a plain load loses?"""
    return bool(_RT_ONLY.search(text)) or any(
        _odd_number(m.group(1)) for m in _VALUE_TOKEN.finditer(text)
    )


def _odd_number(token: str) -> bool:
    """A YAML 1.2 number not spelt the way ruamel writes it (``+1``, ``0x1F``, ``0.10``)."""
    if not _NUMBER.fullmatch(token):
        return False
    for convert in (int, float):
        with suppress(ValueError):
            return token != repr(convert(token))
    return True
