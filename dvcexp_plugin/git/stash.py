"""Stash commits shaped as ``git stash push -u`` makes them, kept under any ref.

``exp apply`` saves the workspace to ``refs/exps/apply/stash`` before it writes
an experiment's files, as DVC does, so that ``git stash apply
refs/exps/apply/stash`` brings the old workspace back. A stash commit ``W`` has
the parents ``HEAD``, ``I`` (the index) and, with untracked files, ``U`` (those
files only, no parent); its tree is the work tree's tracked files.
"""
from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from dulwich.config import Config
from dulwich.index import IndexEntry, commit_tree
from dulwich.objects import ObjectID
from dulwich.repo import Repo

from dvcexp_plugin.git import worktree as _worktree

if TYPE_CHECKING:
    from dvcexp_plugin.git.repo import GitRepo


def index_tree(repo: Repo) -> str:
    """The index as a tree; conflicted entries are left out."""
    index = _worktree._full_index(repo)
    blobs = [
        (path, entry.sha, entry.mode)
        for path, entry in index.items()
        if isinstance(entry, IndexEntry)
    ]
    return commit_tree(repo.object_store, blobs).decode("ascii")


def files_tree(repo: Repo, config: Config, paths: list[str]) -> str:
    """A tree of exactly the work-tree files ``paths`` (repo-relative)."""
    index = _worktree._full_index(repo)
    reader = _worktree._WorkTreeReader(repo, config, index, write=True)
    root = os.fsencode(repo.path)
    blobs = []
    for path in paths:
        rel = os.fsencode(_worktree._relative(repo, path))
        full = os.path.join(root, rel)
        st = os.lstat(full)
        blobs.append((rel, reader.blob_id(full, st), reader.mode_of(st, None)))
    return commit_tree(repo.object_store, blobs).decode("ascii")


def reset_index(repo: Repo) -> None:
    """Point every index entry at HEAD's blob; entries that already match keep their stat data.

    A new entry gets zero stat data, so git re-hashes that file on its next look.
    """
    index = _worktree._full_index(repo)
    head = _worktree._head_entries(repo)
    changed = False
    for path in list(index.paths()):
        if path not in head:
            del index[path]
            changed = True
    for path, (sha, mode) in head.items():
        entry = index[path] if path in index else None
        if isinstance(entry, IndexEntry) and (entry.sha, entry.mode) == (sha, mode):
            continue
        index[path] = IndexEntry(0, 0, 0, 0, mode, 0, 0, 0, ObjectID(sha))
        changed = True
    if changed:
        index.write()


def drop_reflog(repo: Repo, name: str) -> None:
    """Delete ``logs/<name>`` in the common git directory, if there is one."""
    path = os.path.join(os.fsdecode(repo.commondir()), "logs", *name.split("/"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def clear_stash(git: GitRepo, ref: str) -> None:
    """Drop the stash at ``ref`` and its entries (reflog), as ``git stash clear`` does."""
    git.delete_ref(ref)
    git.drop_reflog(ref)


def push_stash(git: GitRepo, ref: str, message: str, include_untracked: bool = True) -> str | None:
    """Save the work tree's changes as a stash commit at ``ref``; the work tree is not touched.

    :param message: the stash message; the commit says ``On <branch>: <message>``
    :param include_untracked: also save untracked (not ignored) files, as ``git stash -u``
    :returns: the stash commit, or None when there was nothing to save (no ref written)
    """
    status = git.status()
    untracked = [p for p in status.untracked if not p.endswith("/")] if include_untracked else []
    if not status.has_tracked_changes and not untracked:
        return None
    head = git.head_sha()
    subject = (git.commit_info(head).message.splitlines() or [""])[0]
    branch = git.head_branch() or "(no branch)"
    on = f"{branch}: {head[:7]} {subject}"
    index = git.commit_tree(git.index_tree(), [head], f"index on {on}\n")
    parents = [head, index]
    if untracked:
        parents.append(git.commit_tree(git.files_tree(untracked), [], f"untracked files on {on}\n"))
    text = f"On {branch}: {message}"
    stash = git.commit_tree(git.snapshot_tree(), parents, text + "\n")
    git.set_ref(ref, stash, force=True, message=text)
    return stash
