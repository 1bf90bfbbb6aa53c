from __future__ import annotations

import hashlib
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path

from dvcexp_plugin.statcache import DB_NAME, StatCache


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _age(path: Path, seconds: float = 100.0) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def _db(repo: Path) -> Path:
    return repo / ".dvc" / "tmp" / DB_NAME


def test_roundtrip_persists_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"hello")
    st = os.stat(path)
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert cache.get(str(path), st) is None
        cache.set(str(path), st, _md5(b"hello"))
        assert cache.get(str(path), st) == _md5(b"hello")
    assert _db(tmp_path).is_file()
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert cache.get(str(path), st) == _md5(b"hello")


def test_db_is_created_lazily(tmp_path: Path) -> None:
    StatCache(str(tmp_path)).close()
    assert not (tmp_path / ".dvc").exists()


def test_recently_modified_files_are_not_stored(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"fresh")
    with StatCache(str(tmp_path)) as cache:
        assert cache.file_md5_cached(str(path)) == _md5(b"fresh")
        assert cache.get(str(path), os.stat(path)) is None
    # an old mtime does not help: utime itself bumps the ctime
    _age(path)
    with StatCache(str(tmp_path)) as cache:
        cache.set(str(path), os.stat(path), _md5(b"fresh"))
        assert cache.get(str(path), os.stat(path)) is None


def test_same_size_rewrite_with_restored_mtime_is_rehashed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"AAAA")
    _age(path)
    time.sleep(2.1)  # leave the racy window with the real 2 s default
    with StatCache(str(tmp_path)) as cache:
        assert cache.file_md5_cached(str(path)) == _md5(b"AAAA")
        old = os.stat(path)
        assert cache.get(str(path), old) == _md5(b"AAAA")  # stored: it is a hit

        # same inode, same size, same mtime: only the ctime tells it changed
        with open(path, "r+b") as fobj:
            fobj.write(b"BBBB")
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
        new = os.stat(path)
        assert (new.st_ino, new.st_size, new.st_mtime_ns) == (
            old.st_ino, old.st_size, old.st_mtime_ns,
        )
        assert cache.get(str(path), new) is None
        assert cache.file_md5_cached(str(path)) == _md5(b"BBBB")

        # replaced by another file (new inode), mtime restored again
        tmp = tmp_path / "f.new"
        tmp.write_bytes(b"CCCC")
        os.replace(tmp, path)
        os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
        assert cache.file_md5_cached(str(path)) == _md5(b"CCCC")


def test_non_regular_files_and_bad_md5_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        cache.set(str(tmp_path), os.stat(tmp_path), _md5(b"x"))
        assert cache.get(str(tmp_path), os.stat(tmp_path)) is None
        cache.set(str(path), os.stat(path), "not-an-md5")
        assert cache.get(str(path), os.stat(path)) is None


def test_corrupted_db_behaves_as_empty_and_recovers(tmp_path: Path) -> None:
    db = _db(tmp_path)
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a sqlite database" * 100)
    path = tmp_path / "f"
    path.write_bytes(b"data")
    st = os.stat(path)
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert cache.get(str(path), st) is None
        cache.set(str(path), st, _md5(b"data"))
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert cache.get(str(path), st) == _md5(b"data")


def test_unwritable_location_never_raises(tmp_path: Path) -> None:
    # .dvc/tmp is a file: the db cannot be created at all
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "tmp").write_bytes(b"")
    path = tmp_path / "f"
    path.write_bytes(b"data")
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert cache.file_md5_cached(str(path)) == _md5(b"data")
        assert cache.get(str(path), os.stat(path)) is None


def test_locked_db_is_a_miss_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"data")
    st = os.stat(path)
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        cache.set(str(path), st, _md5(b"data"))
    blocker = sqlite3.connect(str(_db(tmp_path)), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        cache = StatCache(str(tmp_path), racy_window_ns=0, busy_timeout_s=0.05)
        assert cache.get(str(path), st) is None
        cache.set(str(path), st, _md5(b"data"))
        cache.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert cache.get(str(path), st) == _md5(b"data")


def _writer(repo: str, paths: list[str]) -> None:
    with StatCache(repo, racy_window_ns=0) as cache:
        for path in paths:
            cache.file_md5_cached(path)


def test_concurrent_processes_share_the_db(tmp_path: Path) -> None:
    paths = []
    for i in range(300):
        path = tmp_path / f"f{i}"
        path.write_bytes(str(i).encode())
        paths.append(str(path))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), paths)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        hits = [cache.get(p, os.stat(p)) for p in paths]
    assert hits == [_md5(str(i).encode()) for i in range(300)]


def test_rows_under_reads_one_directory_only(tmp_path: Path) -> None:
    """One range query per directory output; siblings sharing its name's prefix stay out."""
    files = {}
    for rel in ("out/a.txt", "out/sub/b.txt", "out0/c.txt", "outer/d.txt", "ou/e.txt"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rel.encode())
        files[rel] = path
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        for rel, path in files.items():
            cache.set(str(path), os.stat(path), _md5(rel.encode()))
        pending = cache.rows_under(str(tmp_path / "out"))  # before the flush: pending rows
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        stored = cache.rows_under(str(tmp_path / "out"))
    for rows in (pending, stored):
        assert sorted(rows) == [str(files["out/a.txt"]), str(files["out/sub/b.txt"])]
        path = files["out/sub/b.txt"]
        assert StatCache.known(rows, str(path), os.stat(path)) == _md5(b"out/sub/b.txt")
    path = files["out/a.txt"]
    path.write_bytes(b"changed!")  # another size: the stored stat no longer matches
    assert StatCache.known(stored, str(path), os.stat(path)) is None


def test_a_directory_hashes_the_same_in_parallel_and_from_the_cache(tmp_path: Path) -> None:
    from dvcexp_plugin.hashing import hash_path

    folder = tmp_path / "data"
    for i in range(40):
        (folder / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (folder / f"d{i % 3}" / f"f{i}.bin").write_bytes(os.urandom(1000 + i))
    plain, plain_entries = hash_path(str(folder))
    # racy_window_ns=0: the files were just written (their ctime is now)
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        first, entries = hash_path(str(folder), stat_cache=cache)
    with StatCache(str(tmp_path), racy_window_ns=0) as cache:
        assert len(cache.rows_under(str(folder))) == 40
        second, again = hash_path(str(folder), stat_cache=cache)
    assert plain == first == second and plain_entries == entries == again
    assert plain.nfiles == 40
