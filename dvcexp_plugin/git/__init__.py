"""Everything dvcexp does with git, and the only package that imports dulwich.

Importing this package is cheap: dulwich loads when :class:`GitRepo` is first
used. Errors and experiment-ref helpers (:mod:`.exp_refs`) never load it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dvcexp_plugin.git.errors import (
    GitError,
    IdentityError,
    NoCommitsError,
    NotAGitRepoError,
    RefConflictError,
    UnknownRevisionError,
    WorkspaceError,
)

if TYPE_CHECKING:
    from dvcexp_plugin.git.repo import CommitInfo, GitRepo
    from dvcexp_plugin.git.worktree import GitStatus

__all__ = [
    "CommitInfo",
    "GitError",
    "GitRepo",
    "GitStatus",
    "IdentityError",
    "NoCommitsError",
    "NotAGitRepoError",
    "RefConflictError",
    "UnknownRevisionError",
    "WorkspaceError",
]

_LAZY = {"GitRepo": "repo", "CommitInfo": "repo", "GitStatus": "worktree"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
