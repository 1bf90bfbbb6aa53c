"""What a computation read from disk, so that a later run can tell it would read the same.

``exp show`` keeps its answers (the workspace row, the whole output) next to the
list of files they came from, each with its stat: size, mtime, ctime, inode and
device, or "missing". A later run stats those paths — no file is read, no YAML
parser imported — and reuses the answer only when every stat is unchanged.

:func:`recording` learns the paths from Python's audit events (PEP 578), so no
reader has to report what it read: every ``open`` (failed ones too: a file that
was missing is recorded as missing) and every directory listing (``os.scandir``,
``os.listdir``: a directory's mtime changes when an entry is added, removed or
renamed). Writes, the interpreter's and dvcexp's own files (code, bytecode) and
paths under ``ignore`` are left out.

Stat probes (``os.path.isdir``) raise no audit event. The only ones on the way
to a workspace row are the pipeline walks' "does this subdirectory hold
``.dvc``" (a nested repository, skipped); so for each listed directory, each
subdirectory's ``.dvc`` is recorded too.

As in :mod:`dvcexp_plugin.statcache`, a file changed less than two seconds
before the recording started is not trusted: it could change again within the
same timestamp tick, keeping its size, and no stat field would tell. Such a
recording is not kept (:func:`snapshot` returns None).
"""
from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: files changed more recently than this are not trusted (``statcache.RACY_WINDOW_NS``;
#: not imported from there, which would import hashing for a constant)
RACY_WINDOW_NS = 2_000_000_000

#: a recorded path and its state: ``[size, mtime_ns, ctime_ns, inode, device, mode]``
#: or ``None`` when it did not exist
Entry = tuple[str, "list[int] | None"]

#: directories the pipeline walks never enter (``pipeline.dvcignore.ALWAYS_IGNORED``)
_NEVER_WALKED = frozenset({".git", ".dvc", ".hg"})
_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class Recorder:
    """The paths read while a :func:`recording` block ran.

    :param ignore: absolute directories whose files are not recorded
    """

    def __init__(self, ignore: tuple[str, ...]) -> None:
        self.started_ns = time.time_ns()
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        self._ignore = tuple(os.path.join(p, "") for p in ignore + _code_dirs())

    def add(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, _mode, flags = args
            if isinstance(path, int) or path is None or (flags or 0) & _WRITES:
                return
            into = self.files
        elif event in ("os.scandir", "os.listdir"):
            path = args[0] if args[0] is not None else "."
            if isinstance(path, int):
                return
            into = self.dirs
        else:
            return
        full = os.path.abspath(os.fsdecode(path))
        if not full.startswith(self._ignore):
            into.add(full)

    def paths(self) -> list[str]:
        """Every recorded path, with the ``.dvc`` probes of listed directories' subdirectories."""
        found = self.files | self.dirs
        for folder in self.dirs:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.name not in _NEVER_WALKED and entry.is_dir(follow_symlinks=False) \
                        and entry.path not in self.dirs:
                    found.add(os.path.join(entry.path, ".dvc"))
        return sorted(found)


_active: list[Recorder] = []
_hooked = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _active:
        for recorder in _active:
            recorder.add(event, args)


def _code_dirs() -> tuple[str, ...]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, here}
    if sys.pycache_prefix:
        dirs.add(sys.pycache_prefix)
    return tuple(os.path.abspath(d) for d in dirs)


@contextmanager
def recording(ignore: tuple[str, ...] = ()) -> Iterator[Recorder]:
    """Record what the block reads (blocks may nest; each recorder sees all reads)."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_hook)  # cannot be removed: it does nothing while no block runs
        _hooked = True
    recorder = Recorder(ignore)
    _active.append(recorder)
    try:
        yield recorder
    finally:
        _active.remove(recorder)


@contextmanager
def paused() -> Iterator[None]:
    """Reads in this block are not recorded (e.g. a temporary copy of a commit's files)."""
    saved = _active[:]
    _active.clear()
    try:
        yield
    finally:
        _active[:] = saved


def state(path: str) -> list[int] | None:
    """What is recorded about ``path``: its stat fields, or None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev,
            stat.S_IFMT(st.st_mode)]


def snapshot(
    paths: list[str], started_ns: int, replaced_only: str | None = None
) -> list[Entry] | None:
    """``[(path, state)]`` of ``paths``; None when one changed too recently to be trusted.

    :param started_ns: when the reads began (``time.time_ns()``)
    :param replaced_only: a directory whose files are only ever replaced (written
        aside and renamed), never rewritten: a change shows as a new inode, so
        they are trusted however recent
    """
    entries: list[Entry] = []
    limit = started_ns - RACY_WINDOW_NS
    exempt = os.path.join(replaced_only, "") if replaced_only else None
    for path in paths:
        found = state(path)
        if found is not None and max(found[1], found[2]) >= limit \
                and not (exempt and path.startswith(exempt)):
            return None
        entries.append((path, found))
    return entries


def unchanged(entries: Any) -> bool:
    """Whether every ``[path, state]`` of a stored snapshot still holds."""
    if not isinstance(entries, list):
        return False
    try:
        return all(state(path) == found for path, found in entries)
    except (TypeError, ValueError, OSError):
        return False  # a malformed entry
