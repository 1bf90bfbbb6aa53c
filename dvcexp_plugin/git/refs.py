"""Reading and compare-and-swap updating of refs.

Every write holds git's ``<ref>.lock`` file while it re-reads the current value,
so two processes racing for one ref cannot both win: the loser gets a
:class:`RefConflictError` naming what it found.

Writers of *different* refs never fail because of each other. dulwich needs
two helps for that (both seen with 8 processes): its reflog ``mkdir`` of a new
``logs/refs/...`` directory is not race-proof, so we create that directory
first; and deleting a ref removes its directory if empty, which can pull the
directory from under a writer that just made it, so that writer retries.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable

from dulwich.errors import RefFormatError
from dulwich.file import FileLocked
from dulwich.objects import ObjectID
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

from dvcexp_plugin.git.errors import GitError, RefConflictError

_SHA = re.compile(r"^[0-9a-f]{40}$")
#: attempts when a concurrent delete removes the ref's directory mid-write
_RETRIES = 5


def _name(name: str) -> Ref:
    raw = os.fsencode(name)
    if raw != b"HEAD" and not (raw.startswith(b"refs/") and check_ref_format(Ref(raw))):
        raise GitError(f"invalid ref name '{name}'; use a full name like 'refs/exps/...'")
    return Ref(raw)


def _sha(repo: Repo, sha: str, what: str) -> ObjectID:
    if not _SHA.match(sha):
        raise GitError(f"{what} '{sha}' is not a full 40-digit lowercase sha")
    raw = ObjectID(sha.encode("ascii"))
    if raw not in repo.object_store:
        raise GitError(f"{what} {sha} is not an object in this repository")
    return raw


def get_ref(repo: Repo, name: str) -> str | None:
    """The sha ``name`` points at (symbolic refs followed), or None."""
    try:
        value = repo.refs[_name(name)]
    except (KeyError, RefFormatError):
        return None
    return value.decode("ascii")


def _locked(name: str, exc: FileLocked) -> RefConflictError:
    return RefConflictError(
        f"ref '{name}' is being updated by another process ({os.fsdecode(exc.lockfilename)} "
        "exists); retry, or delete that file if no git process is running"
    )


def _short(sha: str | None) -> str:
    return sha[:7] if sha else "nothing"


def _prepare_reflog(repo: Repo, ref: Ref) -> None:
    base = repo.controldir() if ref == b"HEAD" else repo.commondir()
    folder = os.path.dirname(os.path.join(base, "logs", os.fsdecode(ref)))
    os.makedirs(folder, exist_ok=True)


def _retrying(update: Callable[[], bool]) -> bool:
    for _ in range(_RETRIES - 1):
        try:
            return update()
        except FileNotFoundError:
            continue  # the ref's directory was removed (emptied) by another process
    return update()


def set_ref(
    repo: Repo,
    name: str,
    new: str,
    expected_old: str | None,
    *,
    force: bool = False,
    message: str | None = None,
) -> None:
    """Atomically point ``name`` at ``new`` if it still holds ``expected_old``.

    :param expected_old: None = create, failing if the ref exists
    :param force: write whatever the ref holds now
    :raises RefConflictError: the check failed or another writer holds the lock
    """
    ref = _name(name)
    new_raw = _sha(repo, new, "new value of " + name)
    msg = message.encode("utf-8") if message else None
    if msg is not None:
        _prepare_reflog(repo, ref)
    old_raw: ObjectID | None = None
    if expected_old is not None and not force:
        if not _SHA.match(expected_old):
            raise GitError(f"expected value '{expected_old}' of {name} is not a full sha")
        old_raw = ObjectID(expected_old.encode("ascii"))
    try:
        if expected_old is None and not force:
            done = _retrying(lambda: repo.refs.add_if_new(ref, new_raw, message=msg))
        else:  # old_raw None with force: dulwich sets unconditionally
            done = _retrying(lambda: repo.refs.set_if_equals(ref, old_raw, new_raw, message=msg))
    except FileLocked as exc:
        raise _locked(name, exc) from None
    if not done:
        current = get_ref(repo, name)
        if expected_old is None:
            raise RefConflictError(
                f"ref '{name}' already exists (at {_short(current)}); "
                "pass its current sha as expected_old (or force) to replace it"
            )
        raise RefConflictError(
            f"ref '{name}' moved: expected {_short(expected_old)}, found {_short(current)}; "
            "another process updated it, re-read it and retry"
        )


def delete_ref(repo: Repo, name: str, expected_old: str | None = None) -> bool:
    """Delete ``name`` (not following symrefs); with ``expected_old``, only if it still matches.

    :returns: False when the ref did not exist and nothing was expected
    :raises RefConflictError: the ref is not at ``expected_old``, or is locked
    """
    ref = _name(name)
    if expected_old is None and repo.refs.read_ref(ref) is None:
        return False
    old_raw = ObjectID(expected_old.encode("ascii")) if expected_old else None
    try:
        done = _retrying(lambda: repo.refs.remove_if_equals(ref, old_raw))
    except FileLocked as exc:
        raise _locked(name, exc) from None
    if not done:
        raise RefConflictError(
            f"ref '{name}' moved: expected {_short(expected_old)}, "
            f"found {_short(get_ref(repo, name))}; not deleted"
        )
    return True

