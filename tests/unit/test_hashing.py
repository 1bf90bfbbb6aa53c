from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from dvcexp_plugin.errors import CacheError
from dvcexp_plugin.hashing import (
    CHUNK_SIZE,
    HashInfo,
    dir_manifest,
    file_md5,
    hash_path,
    is_text_block,
    legacy_file_md5,
    manifest_md5,
    md5_bytes,
)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_crlf_file_plain_and_legacy_hash_match_dvc(tmp_path: Path) -> None:
    # verified against DVC: 3.x hashes raw bytes, 2.x dos2unix drops the CR
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"a\r\nb\n")
    assert file_md5(str(path)).startswith("d644a2")
    assert file_md5(str(path)) == _md5(b"a\r\nb\n")
    assert legacy_file_md5(str(path)) == _md5(b"a\nb\n")
    assert legacy_file_md5(str(path)).startswith("dd8c6a")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert file_md5(str(path)) == _md5(b"") == legacy_file_md5(str(path))


def test_multi_mib_file_equals_whole_bytes_md5(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 12345)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert file_md5(str(path)) == _md5(data)


def test_legacy_binary_file_is_not_converted(tmp_path: Path) -> None:
    data = b"\x00\x01\r\n" * 100
    path = tmp_path / "bin"
    path.write_bytes(data)
    assert legacy_file_md5(str(path)) == _md5(data)


def test_legacy_text_decision_is_per_chunk_as_dvc3(tmp_path: Path) -> None:
    # DVC 3.x sniffs the first 512 bytes of every 1 MiB chunk (checked
    # against dvc-data 3.18): a text chunk is converted, a binary one is not
    text = (b"line\r\n" * CHUNK_SIZE)[:CHUNK_SIZE]
    binary = (b"\x00\xff\r\n" * CHUNK_SIZE)[:CHUNK_SIZE]
    path = tmp_path / "mixed"

    path.write_bytes(text + binary)
    assert legacy_file_md5(str(path)) == _md5(text.replace(b"\r\n", b"\n") + binary)

    path.write_bytes(binary + text)
    assert legacy_file_md5(str(path)) == _md5(binary + text.replace(b"\r\n", b"\n"))


def test_legacy_crlf_across_chunk_boundary_kept_as_dvc_does(tmp_path: Path) -> None:
    # DVC converts each 1 MiB chunk on its own, so a CRLF cut in two stays
    head = b"x" * (CHUNK_SIZE - 1) + b"\r"
    tail = b"\nend\r\n"
    path = tmp_path / "boundary.txt"
    path.write_bytes(head + tail)
    expected = _md5(head + tail.replace(b"\r\n", b"\n"))
    assert legacy_file_md5(str(path)) == expected
    assert expected != _md5((head + tail).replace(b"\r\n", b"\n"))


def test_is_text_block_threshold() -> None:
    assert is_text_block(b"")
    assert is_text_block(b"hello\n")
    assert not is_text_block(b"abc\x00")
    assert is_text_block(b"a" * 70 + b"\xff" * 30)
    assert not is_text_block(b"a" * 69 + b"\xff" * 31)


def test_dir_manifest_bytes_and_hash(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "f1.txt").write_bytes(b"one\n")
    (root / "f2.txt").write_bytes(b"two\n")
    (root / "sub" / "x.txt").write_bytes(b"xx\n")

    info, entries = hash_path(str(root))

    m1, m2, mx = _md5(b"one\n"), _md5(b"two\n"), _md5(b"xx\n")
    assert entries == [("f1.txt", m1), ("f2.txt", m2), ("sub/x.txt", mx)]
    expected = (
        f'[{{"md5": "{m1}", "relpath": "f1.txt"}}, '
        f'{{"md5": "{m2}", "relpath": "f2.txt"}}, '
        f'{{"md5": "{mx}", "relpath": "sub/x.txt"}}]'
    ).encode()
    assert dir_manifest(entries) == expected
    assert info == HashInfo(_md5(expected) + ".dir", size=11, nfiles=3)
    assert info.is_dir and not info.isexec


def test_dir_manifest_sorts_by_relpath_string() -> None:
    # "a.txt" < "a/b" as strings ('.' < '/'), which is how DVC sorts
    data = dir_manifest([("a/b", "1" * 32), ("a.txt", "2" * 32)])
    assert [item["relpath"] for item in json.loads(data)] == ["a.txt", "a/b"]
    assert manifest_md5(data) == md5_bytes(data) + ".dir"


def test_empty_dir_hash(tmp_path: Path) -> None:
    (tmp_path / "d" / "empty_sub").mkdir(parents=True)
    info, entries = hash_path(str(tmp_path / "d"))
    assert entries == []
    assert info == HashInfo(_md5(b"[]") + ".dir", size=0, nfiles=0)


def test_file_hash_info_and_isexec(tmp_path: Path) -> None:
    path = tmp_path / "run.sh"
    path.write_bytes(b"#!/bin/sh\n")
    info, entries = hash_path(str(path))
    assert entries is None
    assert info == HashInfo(_md5(b"#!/bin/sh\n"), 10)
    path.chmod(0o755)
    assert hash_path(str(path))[0].isexec
    path.chmod(0o654)  # any exec bit counts
    assert hash_path(str(path))[0].isexec


def test_symlinks_in_dir(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.txt").write_bytes(b"target\n")
    (outside / "inner.txt").write_bytes(b"inner\n")
    root = tmp_path / "d"
    root.mkdir()
    (root / "real.txt").write_bytes(b"real\n")
    (root / "link.txt").symlink_to(outside / "target.txt")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)

    info, entries = hash_path(str(root))

    # a file symlink is hashed by content; a directory symlink is not entered
    assert entries == [("link.txt", _md5(b"target\n")), ("real.txt", _md5(b"real\n"))]
    assert info.nfiles == 2 and info.size == 12


def test_ignore_callback_gets_posix_relpaths(tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "skip").mkdir(parents=True)
    (root / "keep").mkdir()
    (root / "skip" / "a").write_bytes(b"a")
    (root / "keep" / "b.log").write_bytes(b"b")
    (root / "keep" / "c").write_bytes(b"c")
    seen: list[str] = []

    def ignore(rel: str) -> bool:
        seen.append(rel)
        return rel == "skip/" or rel.endswith(".log")

    _, entries = hash_path(str(root), ignore=ignore)
    assert entries == [("keep/c", _md5(b"c"))]
    assert "skip/a" not in seen  # an ignored directory is not entered
    assert "keep/" in seen


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hash_path(str(tmp_path / "nope"))


def test_broken_symlink_and_dvcignore_inside_dir_are_errors(tmp_path: Path) -> None:
    root = tmp_path / "d"
    root.mkdir()
    (root / "dangling").symlink_to(tmp_path / "missing")
    with pytest.raises(CacheError, match="broken symlink"):
        hash_path(str(root))
    (root / "dangling").unlink()
    (root / ".dvcignore").write_bytes(b"")
    with pytest.raises(CacheError, match=".dvcignore"):
        hash_path(str(root))
