"""Revision syntax: what ``main``, ``v1.0``, ``abc1234`` or ``HEAD~2^2`` name.

A subset of gitrevisions(7) that experiments need: full and short shas, ref
names with git's lookup order, ``@``, and any chain of ``~N``, ``^N``, ``^{}``.
"""
from __future__ import annotations

import re

from dulwich.objects import Commit, ObjectID, Tag
from dulwich.objectspec import scan_for_short_id
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

from dvcexp_plugin.git.errors import NoCommitsError, UnknownRevisionError

_PSEUDO_REF = re.compile(rb"^[A-Z_]*HEAD$")
_HEX = re.compile(rb"^[0-9a-f]{4,40}$")
_SUFFIX = re.compile(rb"~(\d*)|\^\{(\w*)\}|\^(\d*)")


def _unknown(rev: str) -> UnknownRevisionError:
    return UnknownRevisionError(
        f"unknown Git revision '{rev}'; check the name with 'git log --oneline --all'"
    )


def peel_to_commit(repo: Repo, sha: bytes, rev: str) -> Commit:
    """The commit ``sha`` is, or the annotated tag at ``sha`` points to."""
    obj = repo[ObjectID(sha)]
    while isinstance(obj, Tag):
        obj = repo[obj.object[1]]
    if not isinstance(obj, Commit):
        raise UnknownRevisionError(f"'{rev}' names a {obj.type_name.decode()}, not a commit")
    return obj


def _well_formed(name: bytes) -> bool:
    if _PSEUDO_REF.match(name):
        return True
    return name.startswith(b"refs/") and check_ref_format(Ref(name))


def _lookup_base(repo: Repo, base: bytes, rev: str) -> bytes:
    if base in (b"HEAD", b"@"):
        try:
            return bytes(repo.refs[Ref(b"HEAD")])
        except KeyError:
            raise NoCommitsError(
                f"'{rev}': the current branch has no commits yet; commit first"
            ) from None
    store = repo.object_store
    if len(base) == 40 and _HEX.match(base) and ObjectID(base) in store:
        return base
    # git's ref lookup order (gitrevisions(7) "<refname>"); only well-formed
    # names are tried, so a revision can never read a file outside .git/refs
    for candidate in (
        base,
        b"refs/" + base,
        b"refs/tags/" + base,
        b"refs/heads/" + base,
        b"refs/remotes/" + base,
        b"refs/remotes/" + base + b"/HEAD",
    ):
        if not _well_formed(candidate):
            continue
        try:
            return bytes(repo.refs[Ref(candidate)])
        except (KeyError, ValueError):
            continue
    if _HEX.match(base) and len(base) < 40:
        try:
            return bytes(scan_for_short_id(store, ObjectID(base), Commit).id)
        except KeyError:
            pass
        except Exception as exc:  # AmbiguousShortId
            raise UnknownRevisionError(
                f"short sha '{base.decode()}' is ambiguous; give more hex digits"
            ) from exc
    raise _unknown(rev)


def resolve_commit(repo: Repo, rev: str) -> Commit:
    """The commit ``rev`` names.

    :raises UnknownRevisionError: ``rev`` names nothing, or not a commit
    :raises NoCommitsError: ``rev`` is ``HEAD`` in a repository without commits
    """
    raw = rev.strip().encode("utf-8")
    cut = min((i for i in (raw.find(b"~"), raw.find(b"^")) if i >= 0), default=len(raw))
    base, suffix = raw[:cut], raw[cut:]
    if not base:
        raise _unknown(rev)
    commit = peel_to_commit(repo, _lookup_base(repo, base, rev), rev)
    pos = 0
    while pos < len(suffix):
        match = _SUFFIX.match(suffix, pos)
        if match is None:
            raise _unknown(rev)
        pos = match.end()
        tilde, peel, caret = match.groups()
        if peel is not None:
            if peel not in (b"", b"commit"):
                raise _unknown(rev)
            continue
        if tilde is not None:
            for _ in range(int(tilde or 1)):
                if not commit.parents:
                    raise _unknown(rev)
                commit = peel_to_commit(repo, commit.parents[0], rev)
            continue
        nth = int(caret or 1)
        if nth == 0:
            continue
        if nth > len(commit.parents):
            raise _unknown(rev)
        commit = peel_to_commit(repo, commit.parents[nth - 1], rev)
    return commit
