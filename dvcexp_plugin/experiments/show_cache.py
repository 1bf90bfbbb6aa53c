"""What ``exp show`` learnt about the commits of one baseline, kept for the next ``exp show``.

A commit never changes, so its params, metrics, deps and outs are read once, as
DVC keeps them in ``.dvc/tmp/exps/cache``. One file per baseline,
``.dvc/tmp/dvcexp/exp-show/<baseline sha>.json``, holds the baseline and each of
its experiments: one read answers ``exp show`` for a thousand experiments.

What we collect for a commit also depends on the workspace: a commit whose
``dvc.yaml`` files are the workspace's is read with the workspace's (resolved)
pipeline. So the file records a key made of the workspace pipeline and its
``dvc.yaml`` bytes (and ``--param-deps``); a file with another key, or one that
cannot be read, counts as empty and is replaced.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from dvcexp_plugin.experiments.show_workspace import save_text

if TYPE_CHECKING:
    from dvcexp_plugin.pipeline import Pipeline

#: bump when the shape of the file or of the collected data changes
_VERSION = 1


def workspace_key(pipeline: Pipeline, dvcfiles: tuple[bytes | None, ...], param_deps: bool) -> str:
    """The key of cached data collected with this workspace pipeline.

    :param dvcfiles: the bytes of ``pipeline.dvcfiles`` in the workspace
    """
    digest = hashlib.sha256(repr((_VERSION, param_deps, pipeline.dvcfiles, dvcfiles,
                                  pipeline.stages)).encode())
    return digest.hexdigest()


class ShowCache:
    """The cached commits of one baseline.

    :param root: the repository root
    :param baseline: the baseline's full sha
    :param key: :func:`workspace_key` of this run
    """

    def __init__(self, root: str, baseline: str, key: str) -> None:
        self.path = os.path.join(root, ".dvc", "tmp", "dvcexp", "exp-show", f"{baseline}.json")
        self.key = key
        self._commits = self._load()
        self._changed = False

    def _load(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as fobj:
                doc = json.load(fobj)
        except (OSError, ValueError):
            return {}  # absent, unreadable or corrupted: collected again
        if not isinstance(doc, dict) or doc.get("key") != self.key:
            return {}
        commits = doc.get("commits")
        return commits if isinstance(commits, dict) else {}

    def get(self, sha: str) -> tuple[int, dict[str, Any]] | None:
        """``(commit time, data)`` of commit ``sha``, or None when not cached."""
        entry = self._commits.get(sha)
        if not isinstance(entry, dict):
            return None
        when, data = entry.get("time"), entry.get("data")
        if not isinstance(when, int) or not isinstance(data, dict):
            return None
        return when, data

    def put(self, sha: str, commit_time: int, data: dict[str, Any]) -> None:
        """Remember ``data`` of commit ``sha``, unless it holds an error.

        Errors (e.g. a cached metric missing from the cache) may go away once the
        data is there, so those commits are read again next time.
        """
        sections = [data.get("params") or {}, data.get("metrics") or {}]
        if any("error" in item for section in sections for item in section.values()):
            return
        self._commits[sha] = {"time": commit_time, "data": data}
        self._changed = True

    def save(self, shas: set[str]) -> None:
        """Write the file if anything was added, keeping only the commits ``shas``.

        Experiments removed since are dropped. A read-only ``.dvc/tmp`` only costs speed.
        """
        if not self._changed and set(self._commits) <= shas:
            return
        save_text(self.path, json.dumps({"key": self.key, "commits": {
            sha: e for sha, e in self._commits.items() if sha in shas}}))  # one C call
