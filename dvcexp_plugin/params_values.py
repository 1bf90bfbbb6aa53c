"""Current values of tracked params, and how they differ from ``dvc.lock``.

Used by status now and by the stage runner to write lock entries: both need
the values DVC records — a listed key's value (a whole subtree for a section
key), or every top-level key for a whole-file dependency.
"""
from __future__ import annotations

import os
from typing import Any

from dvcexp_plugin.pipeline.params_files import has_key, lookup, read_params_file


class ParamsReader:
    """Reads params files once per pass.

    :param root: repository root; paths given to methods are repo-relative
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._files: dict[str, Any] = {}

    def data(self, repo_path: str) -> Any:
        if repo_path not in self._files:
            self._files[repo_path] = read_params_file(
                os.path.join(self.root, repo_path), shown_as=repo_path
            )
        return self._files[repo_path]

    def values(self, repo_path: str, keys: tuple[str, ...]) -> dict[str, Any]:
        """Tracked values: ``{key: value}`` for listed keys that exist, or the whole file."""
        data = self.data(repo_path)
        if not keys:
            return dict(data) if isinstance(data, dict) else {}
        return {key: lookup(data, key) for key in keys if has_key(data, key)}

    def changed_keys(
        self, repo_path: str, keys: tuple[str, ...], locked: dict[str, Any] | None
    ) -> dict[str, str]:
        """Per-key status: ``new``, ``deleted`` or ``modified`` (DVC's order of keys)."""
        actual = self.values(repo_path, keys)
        info = locked or {}
        names = list(keys) if keys else list(dict.fromkeys([*actual, *info]))
        status: dict[str, str] = {}
        for name in names:
            if name not in actual:
                status[name] = "deleted"
            elif name not in info:
                status[name] = "new"
            elif not _same(actual[name], info[name]):
                status[name] = "modified"
        return status


def _same(actual: Any, locked: Any) -> bool:
    # a tuple (from a .py params file) equal to the locked list is unchanged
    if isinstance(actual, tuple):
        actual = list(actual)
    return bool(actual == locked)
