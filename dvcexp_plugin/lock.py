"""``dvc.lock``: read it, build stage entries, write them byte-for-byte as DVC 3.x.

DVC dumps the lock with ruamel.yaml (round-trip), whose folding of long scalars
changed in 0.17.22 (DVC issue #9397), so writing gives ruamel's exact bytes:
through :mod:`dvcexp_plugin.yaml_fast` for simple data, else ruamel itself (imported
lazily), set up as DVC sets it up. Reading is :mod:`dvcexp_plugin.lock_read`; a
file holding what only ruamel's round-trip loader keeps (comments, anchors,
unusual number spellings) is reloaded with it before a rewrite, so it survives
exactly as it does with DVC.
Writers serialise on an ``fcntl.flock`` and replace the file atomically.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import stat
from collections.abc import Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from dvcexp_plugin.errors import LockfileError
from dvcexp_plugin.lock_read import (
    _FIX,
    _KNOWN,
    LEGACY_HASH_NAME,
    SCHEMA_VERSION,
    _Known,
    _known,
    _needs_round_trip,
    _parse,
    _parsed,
    _round_trip_needed,
)
from dvcexp_plugin.pipeline.stage import DEFAULT_PARAMS_FILE

_ITEM_ORDER = ("path", "hash", "md5", "size", "nfiles", "isexec")


@dataclass(frozen=True)
class LockUpdate:
    """What :func:`write_entry` did. DVC prints both lines when it creates the file."""

    #: the lock did not exist, or was empty: "Generating lock file"
    generated: bool
    #: the stage's entry changed: "Updating lock file"
    updated: bool

    def messages(self, shown_as: str = "dvc.lock") -> list[str]:
        """The lines DVC logs for this write, e.g. ``Updating lock file 'dvc.lock'``."""
        lines = [f"Generating lock file '{shown_as}'"] if self.generated else []
        return lines + ([f"Updating lock file '{shown_as}'"] if self.updated else [])


# -------------------------------------------------------------------- building
def dep_item(
    path: str,
    md5: str,
    size: int | None = None,
    nfiles: int | None = None,
    isexec: bool = False,
    hash_name: str = "md5",
) -> dict[str, Any]:
    """One ``deps``/``outs`` item, with its keys in DVC's order.

    :param md5: the file's md5, or ``<md5>.dir`` for a directory
    :param nfiles: number of files, for directories only
    :param hash_name: ``"md5"``; ``"md5-dos2unix"`` keeps a legacy hash (no ``hash:`` key)
    """
    hash_key = None if hash_name == LEGACY_HASH_NAME else hash_name
    item = {"path": path, "hash": hash_key, "md5": md5, "size": size, "nfiles": nfiles}
    return {k: v for k, v in item.items() if v is not None} | ({"isexec": True} if isexec else {})


def build_entry(
    cmd: str | list[str],
    deps: list[dict[str, Any]],
    params: dict[str, dict[str, Any]],
    outs: list[dict[str, Any]],
) -> dict[str, Any]:
    """Build a stage's lock entry, in the order DVC writes it.

    Deps and outs are sorted by path. Params files come ``params.yaml`` first,
    then alphabetically, and each file's keys are sorted. Values are neither
    sorted nor copied: a value shared by two keys is anchored by ruamel, just as
    it is in DVC's output. Empty sections are left out, except that a params
    file with no values stays as ``{}``.
    """
    entry: dict[str, Any] = {"cmd": cmd}
    if deps:
        entry["deps"] = [_ordered_item(i) for i in sorted(deps, key=lambda i: i["path"])]
    if params:
        files = sorted(params, key=lambda f: (f != DEFAULT_PARAMS_FILE, f))
        entry["params"] = {f: {k: params[f][k] for k in sorted(params[f])} for f in files}
    if outs:
        entry["outs"] = [_ordered_item(i) for i in sorted(outs, key=lambda i: i["path"])]
    return entry


def _ordered_item(item: dict[str, Any]) -> dict[str, Any]:
    ordered = {k: item[k] for k in _ITEM_ORDER if k in item}
    ordered.update((k, v) for k, v in item.items() if k not in ordered)
    return ordered


# --------------------------------------------------------------------- writing
def dumps_yaml(data: Any) -> str:
    """Return YAML text exactly as DVC writes it (ruamel round-trip, block style).

    :param data: plain dicts, lists and scalars (or ruamel round-trip objects)
    """
    if type(data) is dict:  # plain data (not ruamel's round-trip objects): try the fast path
        from dvcexp_plugin.yaml_fast import fast_dump

        text = fast_dump(data)
        if text is not None:
            return text
    from ruamel.yaml import YAML

    yaml = YAML()  # a fresh one per document, as in DVC
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def write_entry(
    lock_path: str, name: str, entry: dict[str, Any], before: Collection[str] = ()
) -> LockUpdate:
    """Set stage ``name``'s entry: an existing entry is replaced in place, a new one is appended.

    :param before: names of stages that DVC's serial order writes after this
        one; a new entry goes before the first of them already in the file, so
        that parallel jobs finishing out of order leave DVC's order
    :raises LockfileError: the existing lock is unreadable or not schema 2.0
    """
    with _exclusive(lock_path):
        text, data = _load_for_update(lock_path)
        generated = not data
        if generated:
            data["schema"] = SCHEMA_VERSION
        if "stages" not in data:
            data["stages"] = {}
        stages = data["stages"]
        updated = stages.get(name, {}) != entry
        before = set(before)  # tested against every entry: a list made this quadratic
        if name not in stages and before and (later := [n for n in stages if n in before]):
            items = list(stages.items())
            at = [n for n, _ in items].index(later[0])
            items.insert(at, (name, entry))
            stages.clear()
            stages.update(items)
        else:
            stages[name] = entry
        real = os.path.realpath(lock_path)
        known = _KNOWN.get(real)
        spliced = None
        if (text is not None and known is not None and known.ours and known.text == text
                and known.round_trip is False):
            spliced = _splice(text, name, entry, list(stages))
        new_text = dumps_yaml(data) if spliced is None else spliced[0]
        if new_text != text:
            _replace_file(lock_path, new_text)
        if spliced is not None:
            # what a reader of the new text gets: the other entries as parsed before,
            # this one as its block reads back (DVC's dump is not always lossless)
            stages[name] = spliced[2]
            _KNOWN[real] = _Known(new_text, data, spliced[1], ours=True)
        elif type(data) is dict:  # not ruamel's round-trip objects
            known = _known(new_text, lock_path)
            known.ours = True
        else:
            _KNOWN.pop(real, None)
    return LockUpdate(generated=generated, updated=updated)


def _splice(
    text: str, name: str, entry: dict[str, Any], order: list[str]
) -> tuple[str, bool, Any] | None:
    """``text`` with ``name``'s entry block replaced or inserted, or None (use a full dump).

    Returns the new text, whether it needs a round-trip load (its block does)
    and the entry as the new text reads back.

    A full ruamel dump costs ~1.5 ms per entry, so writing every stage of a
    pipeline that way is quadratic. The dump of a block-style mapping is the
    concatenation of its entries' dumps, so when ``text`` is ruamel's own
    output (the caller checks) and holds nothing that a plain load loses
    (anchors, comments...), dumping just this entry and splicing its block in
    gives the same bytes.

    :param order: every stage name in the order the file must end up with
    """
    part = dumps_yaml({"stages": {name: entry}})
    if not part.startswith("stages:\n") or "&" in part:
        return None  # anchors are numbered across the whole document
    block = part[len("stages:\n"):]
    header = block.partition("\n")[0] + "\n"
    lines = text.splitlines(keepends=True)
    try:
        start = lines.index("stages:\n") + 1
    except ValueError:
        return None
    end = start
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    # entry keys sit at indent 2; their contents deeper (ruamel's block layout)
    heads = [i for i in range(start, end) if lines[i][2] not in " -"]
    position = order.index(name)
    if len(heads) == len(order):  # replacing: same place
        if lines[heads[position]] != header:
            return None
        stop = heads[position + 1] if position + 1 < len(heads) else end
        new_text = "".join(lines[: heads[position]]) + block + "".join(lines[stop:])
    elif len(heads) != len(order) - 1 or header in (lines[i] for i in heads):
        return None
    else:
        at = heads[position] if position < len(heads) else end
        new_text = "".join(lines[:at]) + block + "".join(lines[at:])
    # the rest of the text needed no round-trip load (the caller checks); the
    # patterns are line-based, so the block alone decides
    read_back = _parse(part, "dvc.lock").get("stages", {}).get(name)
    return new_text, _needs_round_trip(block), read_back


def remove_entry(lock_path: str, name: str) -> bool:
    """Drop stage ``name``. When no stage is left, delete the file, as DVC does.

    :returns: whether the stage was there
    """
    with _exclusive(lock_path):
        _, data = _load_for_update(lock_path)
        stages = data.get("stages") or {}
        if name not in stages:
            return False
        del stages[name]
        if stages:
            _replace_file(lock_path, dumps_yaml(data))
        else:
            os.remove(os.path.realpath(lock_path))
    return True


def _load_for_update(lock_path: str) -> tuple[str | None, Any]:
    """Return the current text and mutable data: ``{}`` for a missing or empty file."""
    try:
        with open(lock_path, encoding="utf-8") as fobj:
            text = fobj.read()
    except FileNotFoundError:
        return None, {}
    if not text.strip():
        return text, {}  # DVC's writer treats an empty file as a new one
    parsed = _parsed(text, lock_path)
    # the caller replaces entries: copy the two levels it changes, never the entries
    data = {**parsed, "stages": dict(parsed.get("stages") or {})}
    if "stages" not in parsed:
        del data["stages"]
    if _round_trip_needed(text, lock_path):
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            data = YAML().load(text)
        except YAMLError as exc:  # ruamel's message spans lines; ours must not
            detail = " ".join(str(exc).split())
            raise LockfileError(f"'{lock_path}' is not valid YAML: {detail}; {_FIX}") from exc
    return text, data


@contextmanager
def _exclusive(lock_path: str) -> Iterator[None]:
    """Hold the exclusive flock that all dvcexp writers in this repo share."""
    with open(_side_lock(lock_path), "a+b") as fobj:
        fcntl.flock(fobj, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fobj, fcntl.LOCK_UN)


def _side_lock(lock_path: str) -> str:
    """``<repo>/.dvc/tmp/dvcexp-dvclock.lock`` (git-ignored), else a dotfile beside the lock."""
    directory = probe = os.path.dirname(os.path.realpath(lock_path))
    while not os.path.isdir(os.path.join(probe, ".dvc")):
        if os.path.dirname(probe) == probe:
            return os.path.join(directory, f".{os.path.basename(lock_path)}.dvcexp-lock")
        probe = os.path.dirname(probe)
    os.makedirs(os.path.join(probe, ".dvc", "tmp"), exist_ok=True)
    return os.path.join(probe, ".dvc", "tmp", "dvcexp-dvclock.lock")


def _replace_file(path: str, text: str) -> None:
    """Write through a temporary file in the same directory, then ``os.replace``.

    Readers never see a half-written lock. There is no fsync: DVC does not sync
    either, and a sync would cost milliseconds for every stage.
    """
    path = os.path.realpath(path)  # write through a symlink, as open("w") does
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
    try:
        with os.fdopen(fd, "wb") as fobj:
            fobj.write(text.encode("utf-8"))
        with suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------- run-cache
def run_cache_key(entry: dict[str, Any]) -> str:
    """Return the sha256 naming ``.dvc/cache/runs/<k[:2]>/<k>/``: outs reduced to their paths."""
    return _sha256({**entry, "outs": [out["path"] for out in entry.get("outs", [])]})


def run_cache_value(entry: dict[str, Any]) -> str:
    """Return the sha256 naming the run-cache file ``.dvc/cache/runs/<k[:2]>/<k>/<v>``."""
    return _sha256(entry)


def _sha256(obj: Any) -> str:
    return hashlib.sha256(json.dumps(_without_meta(obj), sort_keys=True).encode()).hexdigest()


def _without_meta(obj: Any) -> Any:
    """Drop ``size`` and ``nfiles`` at every depth, params included, as DVC does."""
    if isinstance(obj, list):
        return [_without_meta(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _without_meta(v) for k, v in obj.items() if k not in ("size", "nfiles")}
    return obj
