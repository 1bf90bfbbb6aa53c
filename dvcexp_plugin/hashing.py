"""Content hashes exactly as DVC computes them.

DVC 3.x (``hash: md5`` in dvc.lock) hashes the raw bytes of a file. DVC 2.x
entries (no ``hash:`` key) use "md5-dos2unix": text files have CRLF turned
into LF first. A directory is hashed through its *manifest*: the JSON list of
``{"md5", "relpath"}`` for every file under it, whose md5 plus ``.dir`` is the
directory's hash.

This module is on the per-job hot path, so it imports only the standard
library pieces it needs and streams files through one reusable buffer.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dvcexp_plugin.errors import CacheError

if TYPE_CHECKING:
    from dvcexp_plugin.statcache import StatCache

#: read size; also DVC's chunk size, which matters for the dos2unix hash
CHUNK_SIZE = 2**20
#: how much of a file the text/binary heuristic looks at (DVC's istextfile)
TEXT_SNIFF_SIZE = 512
#: bytes that count as text besides printable ASCII
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"
#: any exec bit makes DVC record ``isexec: true``
_EXEC_BITS = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
#: DVC refuses to collect a directory that carries its own ignore file
_DVCIGNORE = ".dvcignore"
#: idle read buffers for file_md5; one is created per concurrent caller
_BUFFERS: list[memoryview] = []


@dataclass(frozen=True)
class HashInfo:
    """The hash and metadata DVC records for a file or directory.

    :param md5: 32 hex digits, with a ``.dir`` suffix for directories
    :param size: bytes of the file, or the sum over a directory's files
    :param nfiles: number of files (directories only)
    :param isexec: a file has an exec bit set (never true for directories)
    """

    md5: str
    size: int
    nfiles: int | None = None
    isexec: bool = False

    @property
    def is_dir(self) -> bool:
        """Whether this is a directory hash (``md5`` ends with ``.dir``)."""
        return self.md5.endswith(".dir")


def md5_bytes(data: bytes) -> str:
    """Return the md5 hex digest of ``data``."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _take_buffer() -> memoryview:
    try:
        return _BUFFERS.pop()
    except IndexError:
        # page-aligned on purpose: malloc puts a 1 MiB bytearray 16 bytes past
        # a page boundary, and reading into that measured ~15% slower (likely
        # 4K aliasing between the page-cache source and the destination)
        return memoryview(mmap.mmap(-1, CHUNK_SIZE))


def file_md5(path: str) -> str:
    """Return the md5 of a file's raw bytes (DVC 3.x ``hash: md5``).

    The file is streamed through a reusable 1 MiB buffer, so memory use is
    bounded whatever the file size.
    """
    hasher = hashlib.md5(usedforsecurity=False)
    view = _take_buffer()
    try:
        # buffering=0: readinto goes straight into our buffer, no second copy
        with open(path, "rb", buffering=0) as fobj:
            if hasattr(os, "posix_fadvise"):
                # a hint only: doubles the kernel readahead on a cold page cache
                try:
                    os.posix_fadvise(fobj.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
                except OSError:
                    pass
            while n := fobj.readinto(view):
                hasher.update(view[:n])
    finally:
        # list.pop/append are atomic, so the pool is safe across threads
        _BUFFERS.append(view)
    return hasher.hexdigest()


def is_text_block(block: bytes) -> bool:
    """DVC's text heuristic: no NUL and at most 30% non-text bytes.

    An empty block counts as text, as in DVC.
    """
    if not block:
        return True
    if b"\x00" in block:
        return False
    nontext = block.translate(None, _TEXT_CHARS)
    return len(nontext) / len(block) <= 0.30


def legacy_file_md5(path: str) -> str:
    """Return the "md5-dos2unix" hash of a file, as DVC 3.x computes it.

    This is how DVC 3.x checks dvc.lock entries written by DVC 2.x (those
    without ``hash: md5``). The file is read in 1 MiB chunks; a chunk whose
    first 512 bytes look like text has CRLF replaced by LF. So a CRLF pair
    split by a chunk boundary stays as it is, exactly as in DVC.

    DVC 2.x decided "text or not" once, from the file's first chunk; the two
    differ only for files over 1 MiB that mix text and binary chunks. We
    follow DVC 3.x, which is what decides whether such a stage re-runs.
    """
    hasher = hashlib.md5(usedforsecurity=False)
    # a buffered reader returns full chunks until EOF, keeping DVC's boundaries
    with open(path, "rb") as fobj:
        while chunk := fobj.read(CHUNK_SIZE):
            if is_text_block(chunk[:TEXT_SNIFF_SIZE]):
                chunk = chunk.replace(b"\r\n", b"\n")
            hasher.update(chunk)
    return hasher.hexdigest()


def dir_manifest(entries: list[tuple[str, str]]) -> bytes:
    """Serialise a directory manifest byte-for-byte as DVC does.

    :param entries: ``(posix relpath, md5)`` pairs, in any order
    :returns: ``json.dumps`` of the list sorted by relpath, keys sorted,
        default separators, UTF-8 (non-ASCII is ``\\u`` escaped, as in DVC)
    """
    items = [{"md5": md5, "relpath": relpath} for relpath, md5 in entries]
    items.sort(key=lambda item: item["relpath"])
    return json.dumps(items, sort_keys=True).encode("utf-8")


def manifest_md5(data: bytes) -> str:
    """Return the directory hash for serialised manifest bytes (md5 + ``.dir``)."""
    return md5_bytes(data) + ".dir"


def _hash_regular(path: str, st: os.stat_result, stat_cache: StatCache | None) -> str:
    if stat_cache is None:
        return file_md5(path)
    cached = stat_cache.get(path, st)
    if cached is not None:
        return cached
    md5 = file_md5(path)
    stat_cache.set(path, st, md5)
    return md5


#: below this many files a directory is hashed in the calling thread
_PARALLEL_MIN_FILES = 8


def _hash_files(paths: list[str]) -> list[str]:
    """The md5 of each file, several at once: ``hashlib`` and reads release the GIL,
    so a directory of many files hashes on every core."""
    if len(paths) < _PARALLEL_MIN_FILES:
        return [file_md5(p) for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(file_md5, paths))


def _walk_files(
    root: str, prefix: str, ignore: Callable[[str], bool] | None
) -> list[tuple[str, str, os.stat_result]]:
    """List ``(relpath, path, stat)`` of every file under ``root``.

    Mirrors ``os.walk(followlinks=False)``, which DVC uses: a symlink to a
    directory is not entered, a symlink to a file counts as that file.
    """
    found: list[tuple[str, str, os.stat_result]] = []
    with os.scandir(root) as it:
        entries = list(it)
    for entry in entries:
        rel = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            if ignore is None or not ignore(rel + "/"):
                found.extend(_walk_files(entry.path, rel + "/", ignore))
            continue
        if ignore is not None and ignore(rel):
            continue
        try:
            st = entry.stat()  # follows symlinks: files are hashed by content
        except FileNotFoundError:
            raise CacheError(
                f"'{entry.path}' is a broken symlink; remove it or fix its target"
            ) from None
        if stat.S_ISDIR(st.st_mode):
            continue  # symlink to a directory: os.walk does not follow it
        if not stat.S_ISREG(st.st_mode):
            raise CacheError(
                f"'{entry.path}' is not a regular file; remove it from the output"
            )
        if entry.name == _DVCIGNORE:
            raise CacheError(
                f"'{entry.path}' must not be inside a tracked directory; "
                "move it to the repository root"
            )
        found.append((rel, entry.path, st))
    return found


def hash_path(
    path: str,
    *,
    stat_cache: StatCache | None = None,
    ignore: Callable[[str], bool] | None = None,
) -> tuple[HashInfo, list[tuple[str, str]] | None]:
    """Hash a file or a directory as DVC 3.x does.

    :param path: the file or directory (symlinks are followed)
    :param stat_cache: reuse hashes of files whose stat is unchanged
    :param ignore: called with a POSIX path relative to ``path``; a directory
        is passed with a trailing ``/``. Entries for which it returns true are
        skipped (directories are not entered), as ``.dvcignore`` does.
    :returns: ``(HashInfo, None)`` for a file; for a directory the
        ``HashInfo`` (``.dir`` md5, total size, file count) and its manifest
        entries ``(relpath, md5)`` sorted by relpath
    :raises FileNotFoundError: ``path`` does not exist
    :raises CacheError: the directory holds a broken symlink, a special file
        or a ``.dvcignore``
    """
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        if not stat.S_ISREG(st.st_mode):
            raise CacheError(f"'{path}' is not a regular file or directory; use a file")
        md5 = _hash_regular(path, st, stat_cache)
        return HashInfo(md5, st.st_size, isexec=bool(st.st_mode & _EXEC_BITS)), None

    files = _walk_files(path, "", ignore)
    rows = stat_cache.rows_under(path) if stat_cache is not None else {}
    md5s: dict[str, str] = {}
    for _, fpath, fst in files:
        cached = stat_cache.known(rows, fpath, fst) if stat_cache is not None else None
        if cached is not None:
            md5s[fpath] = cached
    todo = [(fpath, fst) for _, fpath, fst in files if fpath not in md5s]
    for (fpath, fst), md5 in zip(todo, _hash_files([f for f, _ in todo]), strict=True):
        md5s[fpath] = md5
        if stat_cache is not None:
            stat_cache.set(fpath, fst, md5)
    entries = sorted((rel, md5s[fpath]) for rel, fpath, _ in files)
    size = sum(fst.st_size for _, _, fst in files)
    md5 = manifest_md5(dir_manifest(entries))
    return HashInfo(md5, size, nfiles=len(entries)), entries
