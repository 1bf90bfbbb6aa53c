"""``exp apply``: bring an experiment's files and cached outputs into the workspace.

As DVC 3.x does it, with HEAD left where it is:

1. ``refs/exps/apply/ORIG_HEAD`` = HEAD; the workspace (tracked changes and
   untracked files) is saved as a stash commit at ``refs/exps/apply/stash``
   (replacing the previous one; none when the workspace is clean).
2. Every file of the experiment's tree is written; other files stay as they
   are (untracked ones survive, tracked edits of files the experiment has are
   overwritten). The index is reset to HEAD, so the changes show as unstaged.
3. Cached outputs are checked out from the cache per the new ``dvc.lock``
   (``dvc checkout --force``); one missing from the cache is removed and
   reported.
4. ``refs/exps/exec/EXEC_APPLY`` = the experiment commit.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from dvcexp_plugin.cache import ObjectCache
from dvcexp_plugin.errors import CacheError
from dvcexp_plugin.experiments.collect import lock_entries
from dvcexp_plugin.experiments.resolve import InvalidExpRevError, resolve_rev
from dvcexp_plugin.git.errors import UnknownRevisionError
from dvcexp_plugin.git.exp_refs import APPLY_HEAD, APPLY_STASH, EXEC_APPLY
from dvcexp_plugin.git.repo import GitRepo
from dvcexp_plugin.git.stash import clear_stash, push_stash
from dvcexp_plugin.hashing import HashInfo
from dvcexp_plugin.pipeline import Pipeline


class CheckoutError(CacheError):
    """Outputs named by dvc.lock could not be restored from the cache."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(
            f"Checkout failed for following targets: {', '.join(paths)}. Is your cache up "
            "to date? Re-create them with 'dvcexp repro' (or pull them into .dvc/cache)"
        )
        self.paths = paths


def apply(git: GitRepo, rev: str, load_pipeline: Callable[[], Pipeline]) -> str:
    """Apply experiment (or any commit) ``rev`` to the workspace; see the module docstring.

    :param load_pipeline: loads the workspace's pipeline (called once the files are written)
    :returns: the applied commit
    :raises InvalidExpRevError: ``rev`` names no commit or experiment
    :raises CheckoutError: some cached outputs are not in the cache (git files are applied)
    """
    try:
        sha = resolve_rev(git, rev)
    except UnknownRevisionError as exc:
        raise InvalidExpRevError(rev, str(exc)) from None
    head = git.head_sha()
    clear_stash(git, APPLY_STASH)
    git.set_ref(APPLY_HEAD, head, force=True)
    push_stash(git, APPLY_STASH, f"dvc-exp-apply:{head}:{sha}:{rev}")
    git.checkout_files(sha, delete=False)
    git.reset_index()
    failed = checkout_outputs(git.root, load_pipeline())
    if failed:
        raise CheckoutError(failed)
    git.set_ref(EXEC_APPLY, sha, force=True)
    return sha


def checkout_outputs(root: str, pipeline: Pipeline) -> list[str]:
    """Make every cached output match its lock entry, as ``dvc checkout --force``.

    Outputs already matching are left alone; ``cache: false`` outputs are git's business.

    :returns: repo paths of outputs missing from the cache (removed from the workspace)
    """
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    def read(path: str) -> bytes | None:
        try:
            with open(os.path.join(root, path), "rb") as fobj:
                return fobj.read()
        except OSError:
            return None

    cache = ObjectCache.for_repo(root)
    entries = lock_entries(read, pipeline.stages)
    failed: list[str] = []
    with StatCache(root) as stat_cache:
        hasher = WorkspaceHasher(root, stat_cache)
        for stage in pipeline.stages:
            locked = {i.get("path"): i for i in entries.get(stage.addressing, {}).get("outs") or []}
            for out in stage.outs:
                item = locked.get(out.path)
                if not out.cache or not isinstance(item, dict) or not item.get("md5"):
                    continue
                repo_path = stage.repo_path(out.path)
                legacy = "hash" not in item
                current = hasher.hash(repo_path, legacy=legacy)
                md5 = str(item["md5"])
                if current is not None and current.md5 == md5:
                    continue
                target = os.path.join(root, repo_path)
                info = HashInfo(md5, item.get("size") or 0, item.get("nfiles"))
                if not cache.is_complete(info, legacy=legacy):
                    _remove(target)
                    failed.append(repo_path)
                    continue
                cache.checkout(md5, target, bool(item.get("isexec")), legacy=legacy)
    return failed


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)
