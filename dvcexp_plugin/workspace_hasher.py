"""Hashing repo paths for one command: stat cache, ``.dvcignore``, memoised.

Several stages often share a dependency; one pass hashes it once. Legacy
DVC 2.x lock entries (no ``hash:`` key) are compared with md5-dos2unix.
"""
from __future__ import annotations

import os
from collections.abc import Callable

from dvcexp_plugin.hashing import HashInfo, dir_manifest, hash_path, legacy_file_md5, manifest_md5
from dvcexp_plugin.pipeline.dvcignore import DvcIgnore
from dvcexp_plugin.statcache import StatCache


class WorkspaceHasher:
    """Memoised hashes of repo-relative paths.

    :param root: repository root
    :param stat_cache: persistent per-repo cache of file hashes (optional)
    """

    def __init__(self, root: str, stat_cache: StatCache | None = None) -> None:
        self.root = root
        self.stat_cache = stat_cache
        self.ignore = DvcIgnore(root)
        self._memo: dict[tuple[str, bool], HashInfo | None] = {}
        self.manifests: dict[str, list[tuple[str, str]]] = {}

    def _ignore_under(self, repo_path: str) -> Callable[[str], bool]:
        def ignored(rel: str) -> bool:
            is_dir = rel.endswith("/")
            return self.ignore.is_ignored(f"{repo_path}/{rel.rstrip('/')}", is_dir=is_dir)

        return ignored

    def hash(self, repo_path: str, legacy: bool = False) -> HashInfo | None:
        """The path's hash, or None when it does not exist."""
        key = (repo_path, legacy)
        if key not in self._memo:
            self._memo[key] = self._compute(repo_path, legacy)
        return self._memo[key]

    def forget(self, repo_path: str) -> None:
        """Drop memoised hashes of a path that has just been written."""
        for legacy in (False, True):
            self._memo.pop((repo_path, legacy), None)

    def forget_all(self) -> None:
        """Drop every memoised hash (after a command has written files)."""
        self._memo.clear()

    def _compute(self, repo_path: str, legacy: bool) -> HashInfo | None:
        path = os.path.join(self.root, repo_path)
        try:
            info, manifest = hash_path(
                path, stat_cache=self.stat_cache, ignore=self._ignore_under(repo_path)
            )
        except (FileNotFoundError, NotADirectoryError):
            return None
        if manifest is not None:
            self.manifests[info.md5] = manifest
        if not legacy:
            return info
        if manifest is None:
            return HashInfo(legacy_file_md5(path), info.size, isexec=info.isexec)
        entries = [(rel, legacy_file_md5(os.path.join(path, rel))) for rel, _ in manifest]
        return HashInfo(manifest_md5(dir_manifest(entries)), info.size, nfiles=info.nfiles)
