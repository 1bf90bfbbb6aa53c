"""Recording a stage's outputs: cache, run-cache, ``dvc.lock`` and ``.gitignore``.

Everything here is written atomically (temp file + rename) so a killed job
never leaves half an object, half a run-cache entry or half a lock file.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Collection
from typing import Any

from dvcexp_plugin.cache import ObjectCache
from dvcexp_plugin.errors import CacheError, DvcExpError
from dvcexp_plugin.hashing import HashInfo
from dvcexp_plugin.lock import build_entry, dumps_yaml, run_cache_key, run_cache_value, write_entry
from dvcexp_plugin.pipeline import Stage
from dvcexp_plugin.pipeline.yamlio import parse_yaml
from dvcexp_plugin.stage_state import item_for
from dvcexp_plugin.workspace_hasher import WorkspaceHasher


class OutputMissingError(DvcExpError):
    """A declared output does not exist after the command ran."""


class StageRecorder:
    """Restores and records the outputs of one stage.

    :param root: repository root
    :param stage: the stage
    :param cache: the object cache
    :param hasher: workspace hashes for this job
    :param lock_shown: the lock file's path in messages (repo-relative by default)
    """

    def __init__(
        self,
        root: str,
        stage: Stage,
        cache: ObjectCache,
        hasher: WorkspaceHasher,
        lock_shown: str | None = None,
        lock_before: Collection[str] = (),
    ) -> None:
        self.root = root
        #: stages DVC's serial order writes after this one (a new entry goes before them)
        self.lock_before = lock_before
        self.stage = stage
        self.cache = cache
        self.hasher = hasher
        #: the lock file's path in messages (DVC: relative to the cwd)
        self.lock_shown = lock_shown or stage.lockfile
        #: repo paths changed for git by :meth:`commit_entry`
        self.changed_files: list[str] = []

    def _abs(self, out_path: str) -> str:
        return os.path.join(self.root, self.stage.repo_path(out_path))

    # -- before running ----------------------------------------------------
    def verify_outputs(self) -> None:
        """Frozen stages: every output must exist."""
        missing = [o.path for o in self.stage.outs if not os.path.lexists(self._abs(o.path))]
        if missing:
            raise OutputMissingError(
                f"output '{missing[0]}' of frozen stage '{self.stage.addressing}' does not "
                "exist; unfreeze the stage or restore the output"
            )

    def outputs_unchanged(self, entry: dict[str, Any]) -> bool:
        """Whether every output equals ``entry``'s and cached ones are in the cache.

        DVC's ``changed_outs``: an output that is deleted, modified or (when
        cached) not in the cache makes the stage changed.
        """
        locked = {item.get("path"): item for item in entry.get("outs") or []}
        for out in self.stage.outs:
            item = locked.get(out.path)
            if not item or "md5" not in item:
                return False
            current = self.hasher.hash(self.stage.repo_path(out.path))
            if current is None or current.md5 != item["md5"]:
                return False
            info = HashInfo(item["md5"], item.get("size") or 0, item.get("nfiles"))
            if out.cache and not self.cache.is_complete(info, legacy="hash" not in item):
                return False
        return True

    def outputs_restorable(self, entry: dict[str, Any]) -> bool:
        """DVC's ``outs_cached`` for ``entry``, without touching the workspace.

        A cached output must be complete in the cache, an uncached one must
        already match.
        """
        locked = {item.get("path"): item for item in entry.get("outs") or []}
        for out in self.stage.outs:
            item = locked.get(out.path)
            if not item or "md5" not in item:
                return False
            if out.cache:
                info = HashInfo(item["md5"], item.get("size") or 0, item.get("nfiles"))
                if not self.cache.is_complete(info, legacy="hash" not in item):
                    return False
                continue
            current = self.hasher.hash(self.stage.repo_path(out.path))
            if current is None or current.md5 != item["md5"]:
                return False
        return True

    def restore_outputs(self, entry: dict[str, Any]) -> bool:
        """Make every output match ``entry`` (from the cache where needed).

        As DVC's ``outs_cached``: a cached output must be complete in the
        cache; an uncached one (``cache: false``) must already match.

        :returns: False when some output cannot be restored (the stage must run)
        """
        locked = {item.get("path"): item for item in entry.get("outs") or []}
        plan: list[tuple[str, dict[str, Any]]] = []
        for out in self.stage.outs:
            item = locked.get(out.path)
            if not item or "md5" not in item or "hash" not in item:
                return False
            current = self.hasher.hash(self.stage.repo_path(out.path))
            if current is not None and current.md5 == item["md5"]:
                continue
            if not out.cache:
                return False
            info = HashInfo(item["md5"], item.get("size") or 0, item.get("nfiles"))
            if not self.cache.is_complete(info):
                return False
            plan.append((out.path, item))
        for path, item in plan:
            try:
                self.cache.checkout(item["md5"], self._abs(path), bool(item.get("isexec")))
            except CacheError:
                return False
            self.hasher.forget(self.stage.repo_path(path))
        return True

    def remove_outputs(self) -> None:
        """Delete non-persistent outputs before the command runs (as DVC)."""
        for out in self.stage.outs:
            if out.persist:
                continue
            path = self._abs(out.path)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.unlink(path)

    # -- run-cache ---------------------------------------------------------
    def _runs_dir(self, key: str) -> str:
        return os.path.join(self.cache.cache_dir, "runs", key[:2], key)

    def _key(self, inputs: dict[str, Any]) -> str:
        paths = sorted(o.path for o in self.stage.outs)
        return run_cache_key({**inputs, "outs": [{"path": p} for p in paths]})

    def run_cache_lookup(self, inputs: dict[str, Any]) -> dict[str, Any] | None:
        """The newest run-cache entry for this exact input state, if any."""
        directory = self._runs_dir(self._key(inputs))
        try:
            names = [n for n in os.listdir(directory) if not n.startswith(".")]
        except FileNotFoundError:
            return None
        names.sort(key=lambda n: os.path.getmtime(os.path.join(directory, n)), reverse=True)
        for name in names:
            try:
                with open(os.path.join(directory, name), encoding="utf-8") as fobj:
                    entry = parse_yaml(fobj.read(), name)
            except (OSError, DvcExpError):
                continue
            if isinstance(entry, dict) and entry.get("cmd") == inputs.get("cmd"):
                return entry
        return None

    def _save_run_cache(self, entry: dict[str, Any]) -> None:
        directory = self._runs_dir(self._key({k: v for k, v in entry.items() if k != "outs"}))
        target = os.path.join(directory, run_cache_value(entry))
        if os.path.exists(target):
            return
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".{secrets.token_hex(8)}.tmp")
        with open(tmp, "w", encoding="utf-8") as fobj:
            fobj.write(dumps_yaml(entry))
        os.replace(tmp, target)

    # -- after running -----------------------------------------------------
    def record_outputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Hash and cache every output; return the stage's complete lock entry."""
        items = []
        for out in self.stage.outs:
            repo_path = self.stage.repo_path(out.path)
            info = self.hasher.hash(repo_path)
            if info is None:
                raise OutputMissingError(
                    f"output '{out.path}' does not exist after running stage "
                    f"'{self.stage.addressing}'; make the command create it or remove it "
                    "from the stage's outputs"
                )
            self._save(repo_path, info)
            if out.cache and self.cache.cache_types[0] in ("hardlink", "symlink"):
                self.cache.checkout(info.md5, self._abs(out.path), info.isexec)
            items.append(item_for(out.path, info))
        return build_entry(
            self.stage.cmd, list(inputs.get("deps") or []), dict(inputs.get("params") or {}), items
        )

    def _save(self, repo_path: str, info: HashInfo) -> None:
        path = os.path.join(self.root, repo_path)
        if info.is_dir:
            self.cache.save_tree(path, self.hasher.manifests[info.md5])
        else:
            self.cache.save_file(path, info.md5)

    def commit_entry(self, entry: dict[str, Any], save_run_cache: bool = False) -> list[str]:
        """Write the lock entry (and run-cache entry, .gitignore lines); DVC's log lines.

        The repo paths of the files changed for git (the lock file when its
        entry changed, ``.gitignore`` files that got a line) are added to
        :attr:`changed_files`, for DVC's "To track the changes with git" hint.
        """
        if save_run_cache:
            self._save_run_cache(entry)
        gitignores = self._ignore_cached_outputs()
        update = write_entry(os.path.join(self.root, self.stage.lockfile), self.stage.name, entry,
                             self.lock_before)
        if update.generated or update.updated:
            self.changed_files.append(self.stage.lockfile)
        self.changed_files.extend(g for g in gitignores if g not in self.changed_files)
        return update.messages(self.lock_shown)

    def _ignore_cached_outputs(self) -> list[str]:
        changed = []
        for out in self.stage.outs:
            if out.cache:
                gitignore = add_to_gitignore(self.root, self.stage.repo_path(out.path))
                if gitignore and gitignore not in changed:
                    changed.append(gitignore)
        return changed


def add_to_gitignore(root: str, repo_path: str) -> str | None:
    """Add ``/name`` to the ``.gitignore`` beside a cached output, as DVC does.

    :returns: the ``.gitignore``'s repo path when a line was added, else None
    """
    if not os.path.exists(os.path.join(root, ".git")) and not _in_git(root):
        return None
    parent, name = os.path.split(repo_path)
    gitignore = os.path.join(root, parent, ".gitignore")
    entry = f"/{name}"
    os.makedirs(os.path.dirname(gitignore), exist_ok=True)
    with open(gitignore, "a+", encoding="utf-8") as fobj:
        fcntl.flock(fobj, fcntl.LOCK_EX)  # parallel jobs append to the same file
        fobj.seek(0)
        text = fobj.read()
        if entry in text.splitlines():
            return None
        prefix = "" if not text or text.endswith("\n") else "\n"
        fobj.write(f"{prefix}{entry}\n")
    return os.path.join(parent, ".gitignore")


def _in_git(root: str) -> bool:
    path = os.path.abspath(root)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
