"""Errors raised by :mod:`dvcexp_plugin.git`.

Kept apart from the dulwich-backed modules so that callers can catch them
without paying for a dulwich import.
"""
from __future__ import annotations

from dvcexp_plugin.errors import DvcExpError


class GitError(DvcExpError):
    """A git operation failed; the message names the object and the fix."""


class NotAGitRepoError(GitError):
    """The path is not inside a git work tree."""


class NoCommitsError(GitError):
    """The repository has no commit yet, so there is no baseline."""


class UnknownRevisionError(GitError):
    """A revision (branch, tag, sha, ``HEAD~1``…) names no commit."""


class IdentityError(GitError):
    """No git user name or email is configured."""


class RefConflictError(GitError):
    """A compare-and-swap ref update lost: the ref is not what the caller expected."""


class WorkspaceError(GitError):
    """A queue workspace cannot be written from, or read back into, a commit."""
