from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from dvcexp_plugin.cache import ObjectCache, cache_settings
from dvcexp_plugin.errors import CacheError
from dvcexp_plugin.hashing import HashInfo, hash_path
from dvcexp_plugin.repo import ConfigError

MD5 = "d644a230f3ef20b00879aaceb61790af"


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _file(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return _md5(data)


def _tree(root: Path) -> tuple[HashInfo, list[tuple[str, str]]]:
    _file(root / "f1.txt", b"one\n")
    _file(root / "f2.txt", b"two\n")
    _file(root / "sub" / "x.txt", b"xx\n")
    info, entries = hash_path(str(root))
    assert entries is not None
    return info, entries


def test_object_paths(tmp_path: Path) -> None:
    cache = ObjectCache(str(tmp_path / "cache"))
    base = tmp_path / "cache"
    assert cache.oid_path(MD5) == str(base / "files" / "md5" / "d6" / MD5[2:])
    assert cache.oid_path(MD5 + ".dir") == str(base / "files" / "md5" / "d6" / (MD5[2:] + ".dir"))
    assert cache.oid_path(MD5, legacy=True) == str(base / "d6" / MD5[2:])
    with pytest.raises(CacheError, match="invalid object id"):
        cache.oid_path("../../etc/passwd")


def test_save_file_is_read_only_copy_and_idempotent(tmp_path: Path) -> None:
    src = tmp_path / "out.txt"
    md5 = _file(src, b"payload\n")
    cache = ObjectCache(str(tmp_path / "cache"))
    assert not cache.exists(md5)
    cache.save_file(str(src), md5)
    obj = cache.oid_path(md5)
    assert cache.exists(md5) and not cache.exists(md5, legacy=True)
    assert Path(obj).read_bytes() == b"payload\n"
    assert _mode(obj) == 0o444
    assert os.stat(obj).st_ino != os.stat(src).st_ino
    assert _mode(src) & stat.S_IWUSR  # the workspace file is untouched
    cache.save_file(str(src), md5)  # already there: nothing happens
    assert os.listdir(os.path.dirname(obj)) == [os.path.basename(obj)]


def test_save_file_with_hardlink_type_links_the_workspace_file(tmp_path: Path) -> None:
    src = tmp_path / "out.sh"
    md5 = _file(src, b"#!/bin/sh\n")
    src.chmod(0o755)
    cache = ObjectCache(str(tmp_path / "cache"), ["hardlink", "copy"])
    cache.save_file(str(src), md5)
    assert os.stat(cache.oid_path(md5)).st_ino == os.stat(src).st_ino
    assert _mode(src) == 0o544  # protected and owner-executable, as DVC leaves it


def test_save_missing_source_is_a_cache_error(tmp_path: Path) -> None:
    cache = ObjectCache(str(tmp_path / "cache"))
    with pytest.raises(CacheError, match="cannot save"):
        cache.save_file(str(tmp_path / "nope"), MD5)


def _save_worker(cache_dir: str, src: str, md5: str, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    for _ in range(20):
        ObjectCache(cache_dir).save_file(src, md5)


def test_concurrent_saves_leave_one_intact_object(tmp_path: Path) -> None:
    data = os.urandom(3 * 2**20 + 7)
    md5 = _file(tmp_path / "big.bin", data)
    cache_dir = str(tmp_path / "cache")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_save_worker, args=(cache_dir, str(tmp_path / "big.bin"), md5, start))
        for _ in range(6)
    ]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    cache = ObjectCache(cache_dir)
    obj = cache.oid_path(md5)
    assert os.listdir(os.path.dirname(obj)) == [os.path.basename(obj)]  # no temp files
    assert Path(obj).read_bytes() == data
    assert _mode(obj) == 0o444


def test_manifest_roundtrip_and_tree(tmp_path: Path) -> None:
    info, entries = _tree(tmp_path / "data")
    cache = ObjectCache(str(tmp_path / "cache"))
    assert cache.missing(info) == [info.md5]
    assert cache.save_tree(str(tmp_path / "data"), entries) == info.md5
    assert cache.load_manifest(info.md5) == entries
    assert cache.is_complete(info)

    os.unlink(cache.oid_path(entries[1][1]))
    assert cache.missing(info) == [entries[1][1]]
    assert not cache.is_complete(info)
    assert cache.missing(HashInfo(MD5, 1)) == [MD5]


def test_corrupted_or_missing_manifest(tmp_path: Path) -> None:
    cache = ObjectCache(str(tmp_path / "cache"))
    with pytest.raises(CacheError, match="not in the cache"):
        cache.load_manifest(MD5 + ".dir")
    path = Path(cache.oid_path(MD5 + ".dir"))
    path.parent.mkdir(parents=True)
    path.write_bytes(b'[{"md5": "x", "relpath": "../escape"}]')
    with pytest.raises(CacheError, match="corrupted"):
        cache.load_manifest(MD5 + ".dir")
    assert cache.missing(HashInfo(MD5 + ".dir", 0, 0)) == [MD5 + ".dir"]


@pytest.mark.parametrize("types", [["copy"], ["reflink", "copy"]])
def test_checkout_copy_is_writable_and_independent(tmp_path: Path, types: list[str]) -> None:
    md5 = _file(tmp_path / "src", b"content\n")
    cache = ObjectCache(str(tmp_path / "cache"), types)
    cache.save_file(str(tmp_path / "src"), md5)
    dest = tmp_path / "ws" / "out.txt"
    _file(dest, b"old content that will be replaced")
    cache.checkout(md5, str(dest))
    assert dest.read_bytes() == b"content\n"
    assert not dest.is_symlink()
    assert os.stat(dest).st_ino != os.stat(cache.oid_path(md5)).st_ino
    assert _mode(dest) & stat.S_IWUSR and not _mode(dest) & 0o111
    cache.checkout(md5, str(dest), isexec=True)
    assert _mode(dest) == _mode(tmp_path / "src") | stat.S_IXUSR
    assert _mode(cache.oid_path(md5)) == 0o444


def test_checkout_hardlink_and_symlink(tmp_path: Path) -> None:
    md5 = _file(tmp_path / "src", b"linked\n")
    hard = ObjectCache(str(tmp_path / "cache"), ["hardlink"])
    hard.save_file(str(tmp_path / "src"), md5)
    dest = tmp_path / "hard.txt"
    hard.checkout_file(md5, str(dest))
    assert os.stat(dest).st_ino == os.stat(hard.oid_path(md5)).st_ino

    soft = ObjectCache(str(tmp_path / "cache"), ["symlink", "copy"])
    link = tmp_path / "soft.txt"
    soft.checkout_file(md5, str(link))
    assert link.is_symlink()
    assert os.readlink(link) == soft.oid_path(md5)
    assert link.read_bytes() == b"linked\n"


def test_hardlink_of_empty_file_is_a_new_empty_file(tmp_path: Path) -> None:
    md5 = _file(tmp_path / "empty", b"")
    cache = ObjectCache(str(tmp_path / "cache"), ["hardlink"])
    cache.save_file(str(tmp_path / "empty"), md5)
    cache.checkout_file(md5, str(tmp_path / "out"))
    assert os.stat(tmp_path / "out").st_ino != os.stat(cache.oid_path(md5)).st_ino
    assert (tmp_path / "out").read_bytes() == b""


def test_hardlink_across_filesystems_falls_back_to_copy(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second filesystem at /dev/shm")
    md5 = _file(tmp_path / "src", b"cross-device\n")
    cache = ObjectCache(str(tmp_path / "cache"), ["hardlink", "copy"])
    cache.save_file(str(tmp_path / "src"), md5)
    dest = shm / f"dvcexp-test-{os.getpid()}"
    try:
        cache.checkout_file(md5, str(dest))
        assert dest.read_bytes() == b"cross-device\n"
        assert os.stat(dest).st_nlink == 1
        assert _mode(dest) & stat.S_IWUSR
    finally:
        dest.unlink(missing_ok=True)
    only_hardlink = ObjectCache(str(tmp_path / "cache"), ["hardlink"])
    with pytest.raises(CacheError, match="add 'copy' to cache.type"):
        only_hardlink.checkout_file(md5, str(dest))


def test_checkout_dir_replaces_existing_tree(tmp_path: Path) -> None:
    info, entries = _tree(tmp_path / "data")
    cache = ObjectCache(str(tmp_path / "cache"))
    cache.save_tree(str(tmp_path / "data"), entries)
    dest = tmp_path / "restored"
    _file(dest / "stale.txt", b"stale")
    (dest / "ro").mkdir()
    (dest / "ro").chmod(0o555)

    cache.checkout(info.md5, str(dest))

    assert hash_path(str(dest)) == (info, entries)
    assert not (dest / "stale.txt").exists()


def test_checkout_with_missing_object_leaves_workspace_alone(tmp_path: Path) -> None:
    info, entries = _tree(tmp_path / "data")
    cache = ObjectCache(str(tmp_path / "cache"))
    cache.save_tree(str(tmp_path / "data"), entries)
    os.unlink(cache.oid_path(entries[0][1]))
    with pytest.raises(CacheError, match="misses 1 file"):
        cache.checkout(info.md5, str(tmp_path / "data"))
    assert (tmp_path / "data" / "f1.txt").read_bytes() == b"one\n"
    with pytest.raises(CacheError, match="not in the cache"):
        cache.checkout(MD5, str(tmp_path / "data" / "f1.txt"))
    assert (tmp_path / "data" / "f1.txt").exists()


def test_legacy_objects(tmp_path: Path) -> None:
    cache = ObjectCache(str(tmp_path / "cache"))
    obj = Path(cache.oid_path(MD5, legacy=True))
    obj.parent.mkdir(parents=True)
    obj.write_bytes(b"a\r\nb\n")
    assert cache.exists(MD5, legacy=True) and not cache.exists(MD5)
    cache.checkout(MD5, str(tmp_path / "out"), legacy=True)
    assert (tmp_path / "out").read_bytes() == b"a\r\nb\n"


def _dvc_dir(repo: Path) -> Path:
    (repo / ".dvc").mkdir(parents=True, exist_ok=True)
    return repo / ".dvc"


def test_cache_settings_defaults(tmp_path: Path) -> None:
    _dvc_dir(tmp_path)
    assert cache_settings(str(tmp_path)) == (str(tmp_path / ".dvc" / "cache"), ["reflink", "copy"])
    (tmp_path / ".dvc" / "config").write_text("")
    assert cache_settings(str(tmp_path))[1] == ["reflink", "copy"]


def test_cache_settings_from_config_and_local(tmp_path: Path) -> None:
    dvc = _dvc_dir(tmp_path)
    (dvc / "config").write_text(
        "[core]\n"
        "    remote = storage\n"
        "    autostage = true\n"
        "['remote \"storage\"']\n"
        "    url = /tmp/dvc-storage\n"
        "[cache]\n"
        "    dir = ../../shared-cache\n"
        '    type = "hardlink,symlink"\n'
    )
    cache_dir, types = cache_settings(str(tmp_path))
    assert cache_dir == str(tmp_path.parent / "shared-cache")
    assert types == ["hardlink", "symlink"]

    (dvc / "config.local").write_text("[cache]\ntype = reflink, copy  # local override\n")
    shared = str(tmp_path.parent / "shared-cache")
    assert cache_settings(str(tmp_path)) == (shared, ["reflink", "copy"])
    assert ObjectCache.for_repo(str(tmp_path)).cache_dir == shared


def test_cache_settings_errors(tmp_path: Path) -> None:
    dvc = _dvc_dir(tmp_path)
    (dvc / "config").write_text("[cache]\ntype = teleport\n")
    with pytest.raises(CacheError, match="unknown cache.type 'teleport'"):
        cache_settings(str(tmp_path))
    (dvc / "config").write_text("dir = no section header\n")
    with pytest.raises(ConfigError, match="cannot parse .*; fix its INI syntax"):
        cache_settings(str(tmp_path))
