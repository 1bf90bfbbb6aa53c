"""``dvc status`` semantics: how each stage differs from its ``dvc.lock`` entry.

A stage's status is a list, in DVC's order, of ``{"changed deps": {...}}``,
``{"changed outs": {...}}``, ``"always changed"`` and ``"changed command"``.
Paths are shown relative to the working directory, as DVC does.
"""
from __future__ import annotations

import os
from typing import Any

from dvcexp_plugin.cache import ObjectCache
from dvcexp_plugin.hashing import HashInfo
from dvcexp_plugin.lock_read import read_lockfile
from dvcexp_plugin.params_values import ParamsReader
from dvcexp_plugin.pipeline import Stage
from dvcexp_plugin.pipeline.stage import is_url
from dvcexp_plugin.workspace_hasher import WorkspaceHasher

StatusItem = Any  # a dict section or a plain string, as in DVC's JSON


class StatusChecker:
    """Computes stage statuses for one repository (one pass, shared hashing).

    :param root: the repository root
    :param cache: the object cache (for "not in cache")
    :param hasher: hashes workspace paths, memoised for this pass
    :param cwd: paths are shown relative to it
    """

    def __init__(
        self, root: str, cache: ObjectCache, hasher: WorkspaceHasher, cwd: str | None = None
    ) -> None:
        self.root = root
        self.cache = cache
        self.hasher = hasher
        self.cwd = cwd or os.getcwd()
        self.params = ParamsReader(root)
        self._locks: dict[str, dict[str, Any]] = {}

    def lock_entry(self, stage: Stage) -> dict[str, Any]:
        """The stage's entry in its dvc.lock (``{}`` when absent); a ``.dvc`` file is its own."""
        if stage.data_source:
            from dvcexp_plugin.pipeline.datasources import read_data_file

            return read_data_file(self.root, stage.dvcfile)
        if stage.lockfile not in self._locks:
            self._locks[stage.lockfile] = read_lockfile(os.path.join(self.root, stage.lockfile))
        return self._locks[stage.lockfile].get(stage.name) or {}

    def show(self, repo_path: str) -> str:
        """A repo-relative path as DVC prints it (relative to the cwd)."""
        if is_url(repo_path):
            return repo_path
        return os.path.relpath(os.path.join(self.root, repo_path), self.cwd)

    def status(self, stage: Stage) -> list[StatusItem]:
        """DVC's status list for one stage (empty when up to date)."""
        entry = self.lock_entry(stage)
        result: list[StatusItem] = []
        if not stage.frozen and not (stage.data_source and any(is_url(d) for d in stage.deps)):
            deps = self._deps_status(stage, entry)
            if deps:
                result.append({"changed deps": deps})
        outs = self._outs_status(stage, entry)
        if outs:
            result.append({"changed outs": outs})
        if stage.always_changed or stage.is_callback:
            result.append("always changed")
        if entry and not stage.data_source and entry.get("cmd") != stage.cmd:
            result.append("changed command")
        return result

    # -- deps ------------------------------------------------------------
    def _deps_status(self, stage: Stage, entry: dict[str, Any]) -> dict[str, Any]:
        locked = {item.get("path"): item for item in entry.get("deps") or []}
        changed: dict[str, Any] = {}
        for dep in stage.deps:
            repo_path = stage.repo_path(dep)
            state = self._path_state(repo_path, locked.get(dep), use_cache=False)
            if state:
                changed[self.show(repo_path)] = state
        lock_params = entry.get("params") or {}
        for params_dep in stage.params:
            repo_path = stage.repo_path(params_dep.path)
            shown = self.show(repo_path)
            if not os.path.exists(os.path.join(self.root, repo_path)):
                changed[shown] = "deleted"
                continue
            if params_dep.path not in lock_params:
                changed[shown] = "new"
                continue
            locked_values = lock_params[params_dep.path]
            keys = self.params.changed_keys(repo_path, params_dep.keys, locked_values)
            if keys:
                changed[shown] = keys
        return changed

    # -- outs ------------------------------------------------------------
    def _outs_status(self, stage: Stage, entry: dict[str, Any]) -> dict[str, str]:
        locked = {item.get("path"): item for item in entry.get("outs") or []}
        changed: dict[str, str] = {}
        for out in stage.outs:
            repo_path = stage.repo_path(out.path)
            state = self._path_state(repo_path, locked.get(out.path), use_cache=out.cache)
            if state:
                changed[self.show(repo_path)] = state
        return changed

    def _path_state(
        self, repo_path: str, locked: dict[str, Any] | None, use_cache: bool
    ) -> str | None:
        """``not in cache``/``deleted``/``modified`` or None, in DVC's precedence."""
        if is_url(repo_path):
            return None  # remote deps are checked by repro, not status
        item = locked or {}
        md5 = item.get("md5")
        legacy = bool(item) and "hash" not in item
        info = HashInfo(md5=md5 or "", size=item.get("size") or 0, nfiles=item.get("nfiles"))
        if md5 and use_cache and not self.cache.is_complete(info, legacy=legacy):
            return "not in cache"
        actual = self.hasher.hash(repo_path, legacy=legacy)
        if actual is None:
            return "deleted"
        if actual.md5 != md5:
            return "modified"
        return None


def format_status(status: dict[str, list[StatusItem]]) -> str:
    """The text ``dvc status`` prints for a non-empty status."""
    lines: list[str] = []
    for name, items in status.items():
        lines.append(f"{name}:")
        for item in items:
            if isinstance(item, str):
                lines.append(f"\t{item}")
                continue
            for section, changes in item.items():
                lines.append(f"\t{section}:")
                for path, state in changes.items():
                    if isinstance(state, dict):
                        lines.append(f"\t\t{path}:")
                        for key, key_state in state.items():
                            lines.append(f"\t\t\t{key_state + ':':<20}{key}")
                    else:
                        lines.append(f"\t\t{state + ':':<20}{path}")
    return "\n".join(lines)
