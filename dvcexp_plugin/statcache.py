"""A persistent stat → md5 cache, so that unchanged files are not re-hashed.

The cache lives in ``<repo>/.dvc/tmp/dvcexp-state.db`` (sqlite). An entry is
trusted only when the file's device, inode, size, mtime and ctime all equal
what was recorded. ctime cannot be set from user space, so rewriting a file
and restoring its mtime (``touch -r``, ``cp -p``, ``os.utime``) still misses.

Three rules keep it safe:

* *racy entries are never stored*: a file touched within the last two seconds
  could be rewritten again in the same timestamp tick with the same size,
  leaving every stat field equal (git's "racy clean" problem);
* *every failure is a miss*: a corrupt, locked or unwritable database makes
  the cache behave as empty, it never raises;
* *writes are short transactions*: entries are buffered and written in one
  ``BEGIN IMMEDIATE`` transaction per batch, so a crash loses at most the
  buffered entries and sqlite's journal keeps the file consistent.

Several processes may share the file; sqlite's busy timeout serialises them.
We keep the default rollback journal rather than WAL because WAL needs shared
memory, which breaks when ``.dvc/tmp`` is on NFS (cluster jobs).
"""
from __future__ import annotations

import os
import stat
import time
from types import TracebackType
from typing import TYPE_CHECKING

from dvcexp_plugin.hashing import file_md5

if TYPE_CHECKING:
    import sqlite3

#: file name inside ``<repo>/.dvc/tmp``
DB_NAME = "dvcexp-state.db"
#: files changed more recently than this are not cached (racy-git window)
RACY_WINDOW_NS = 2_000_000_000
#: buffered entries that trigger a write
BATCH_SIZE = 256
#: seconds sqlite waits on a lock held by another process before giving up
BUSY_TIMEOUT_S = 3.0
#: lock timeouts tolerated before the cache gives up for this instance
MAX_BUSY_FAILURES = 3

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS md5 ("
    "path TEXT PRIMARY KEY, stat_key TEXT NOT NULL, md5 TEXT NOT NULL"
    ") WITHOUT ROWID"
)
_HEX = frozenset("0123456789abcdef")


def _stat_key(st: os.stat_result) -> str | None:
    """The fields an entry must match; None for anything but a regular file.

    One string rather than columns: inode and device numbers may exceed
    sqlite's signed 64-bit integers on some filesystems.
    """
    if not stat.S_ISREG(st.st_mode):
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _is_md5(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and set(value) <= _HEX


class StatCache:
    """Per-repository persistent cache mapping a file's stat to its md5.

    Not thread-safe; use one instance per thread. Call :meth:`close` (or use
    it as a context manager) to write buffered entries.

    :param repo_root: the repository root (the directory holding ``.dvc``)
    :param racy_window_ns: entries for files modified (mtime or ctime) less
        than this long ago are not stored
    :param busy_timeout_s: how long to wait for another process's lock
    """

    def __init__(
        self,
        repo_root: str,
        *,
        racy_window_ns: int = RACY_WINDOW_NS,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.db_path = os.path.join(repo_root, ".dvc", "tmp", DB_NAME)
        self.racy_window_ns = racy_window_ns
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._disabled = False
        self._busy_failures = 0
        #: abspath -> (stat key, md5), not yet written
        self._pending: dict[str, tuple[str, str]] = {}

    def _connection(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        # a connection must not cross fork(): the child opens its own
        self._conn = None
        try:
            import sqlite3  # lazily: most runs that need no cache skip the import
        except ImportError:
            self._disabled = True
            return None
        for attempt in range(2):
            try:
                os.makedirs(os.path.dirname(self.db_path), exist_ok=True)
                conn = sqlite3.connect(
                    self.db_path, timeout=self.busy_timeout_s, isolation_level=None
                )
            except (OSError, sqlite3.Error):
                break
            try:
                conn.execute(_SCHEMA)
            except sqlite3.Error as exc:
                conn.close()
                if attempt == 0 and _is_busy(exc):
                    continue
                # not a database / malformed: start over with an empty file
                if attempt == 0 and _is_corrupt(exc) and self._remove_db():
                    continue
                break
            self._conn, self._pid = conn, os.getpid()
            return conn
        self._disabled = True
        return None

    def _remove_db(self) -> bool:
        try:
            for suffix in ("", "-journal", "-wal", "-shm"):
                if os.path.lexists(self.db_path + suffix):
                    os.unlink(self.db_path + suffix)
        except OSError:
            return False
        return True

    def _failed(self, exc: Exception) -> None:
        """A query failed: a busy database is a miss, anything else ends caching.

        Each busy failure costs a full timeout, so a database that stays
        locked also ends caching after a few of them.
        """
        self._busy_failures += 1
        if not _is_busy(exc) or self._busy_failures >= MAX_BUSY_FAILURES:
            self._disabled = True
            self._drop_connection()
            if _is_corrupt(exc):
                # the next run starts from an empty cache rather than failing again
                self._remove_db()

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            try:
                conn.close()
            except Exception:
                pass  # closing must never raise

    def get(self, path: str, st: os.stat_result) -> str | None:
        """Return the cached md5 of ``path`` if ``st`` matches the stored stat.

        :param st: a fresh ``os.stat(path)`` (following symlinks)
        :returns: the md5, or None when unknown, changed or unreadable
        """
        if _stat_key(st) is None:
            return None
        apath = os.path.abspath(path)
        row = self._pending.get(apath)
        if row is None:
            conn = self._connection()
            if conn is None:
                return None
            try:
                # fetchall steps the statement to its end, releasing the read lock
                rows = conn.execute(
                    "SELECT stat_key, md5 FROM md5 WHERE path = ?", (apath,)
                ).fetchall()
            except Exception as exc:  # any database failure is only a miss
                self._failed(exc)
                return None
            if not rows:
                return None
            row = (rows[0][0], rows[0][1])
        return self.known({apath: row}, apath, st)

    def rows_under(self, folder: str) -> dict[str, tuple[str, str]]:
        """``{abspath: (stat key, md5)}`` of every cached file below ``folder``, in one query.

        A directory output of 10,000 files costs one range scan on the primary
        key instead of 10,000 lookups; use :meth:`known` to check each file.
        """
        prefix = os.path.join(os.path.abspath(folder), "")
        found: dict[str, tuple[str, str]] = {}
        conn = self._connection()
        if conn is not None:
            try:
                # '/' + 1 == '0': every path starting with the prefix sorts in between
                rows = conn.execute(
                    "SELECT path, stat_key, md5 FROM md5 WHERE path >= ? AND path < ?",
                    (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)),
                ).fetchall()
            except Exception as exc:  # any database failure is only a miss
                self._failed(exc)
                rows = []
            found = {path: (key, md5) for path, key, md5 in rows}
        found.update((p, row) for p, row in self._pending.items() if p.startswith(prefix))
        return found

    @staticmethod
    def known(rows: dict[str, tuple[str, str]], path: str, st: os.stat_result) -> str | None:
        """The md5 in ``rows`` (from :meth:`rows_under`) if ``st`` matches, as :meth:`get`."""
        key = _stat_key(st)
        row = rows.get(os.path.abspath(path)) if key is not None else None
        if row is None or row[0] != key or not _is_md5(row[1]):
            return None
        return row[1]

    def set(self, path: str, st: os.stat_result, md5: str) -> None:
        """Remember that ``path`` with stat ``st`` has content hash ``md5``.

        Silently skipped for non-regular files, malformed hashes and files
        modified within the racy window.
        """
        key = _stat_key(st)
        if key is None or not _is_md5(md5) or self._disabled:
            return
        newest = max(st.st_mtime_ns, st.st_ctime_ns)
        if newest > time.time_ns() - self.racy_window_ns:
            return
        self._pending[os.path.abspath(path)] = (key, md5)
        if len(self._pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Write buffered entries in one transaction; drop them on failure."""
        if not self._pending:
            return
        rows = [(p, key, md5) for p, (key, md5) in self._pending.items()]
        self._pending.clear()
        conn = self._connection()
        if conn is None:
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT OR REPLACE INTO md5 (path, stat_key, md5) VALUES (?, ?, ?)",
                    rows,
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except Exception as exc:  # a lost write is only a future miss
            self._failed(exc)

    def close(self) -> None:
        """Write buffered entries and close the database."""
        self.flush()
        self._drop_connection()

    def file_md5_cached(self, path: str) -> str:
        """Return the md5 of ``path``, from the cache when its stat is unchanged."""
        st = os.stat(path)
        cached = self.get(path, st)
        if cached is not None:
            return cached
        md5 = file_md5(path)
        # the file may have changed while we read it: store only a stable result
        if _stat_key(os.stat(path)) == _stat_key(st):
            self.set(path, st, md5)
        return md5

    def __enter__(self) -> StatCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _is_corrupt(exc: BaseException) -> bool:
    """Whether a sqlite error says the file is damaged or not a database."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def _is_busy(exc: BaseException) -> bool:
    """Whether a sqlite error is lock contention (worth retrying later)."""
    name = getattr(exc, "sqlite_errorname", "")
    if name:
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return "locked" in str(exc) or "busy" in str(exc)
