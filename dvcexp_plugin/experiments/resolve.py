"""What a user's ``<experiment>`` argument names, as DVC resolves it.

* :func:`resolve_name` — experiment names (or full ``refs/exps/...`` names) to refs;
  a name used under several baselines means the one under HEAD, else it is ambiguous.
* :func:`resolve_rev` — a git revision first, then an experiment name (DVC's
  ``dvc.scm.resolve_rev``).
* :func:`first_parent_revs` — ``--rev R -n N`` baselines.
* :func:`describe` — the branch or tag name shown for a baseline.
"""
from __future__ import annotations

from collections.abc import Iterable

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.git.errors import UnknownRevisionError
from dvcexp_plugin.git.exp_refs import ExpRef, InvalidExpRefError, iter_exp_refs
from dvcexp_plugin.git.repo import GitRepo


class InvalidArgumentError(DvcExpError):
    """A command's arguments name nothing usable (DVC's ``InvalidArgumentError``)."""


class InvalidExpRevError(InvalidArgumentError):
    """The revision is neither a commit nor an experiment."""

    def __init__(self, rev: str, cause: str | None = None) -> None:
        text = f"'{rev}' does not appear to be an experiment commit."
        super().__init__(f"{text}: {cause}" if cause else text)


class AmbiguousExpNameError(InvalidArgumentError):
    """A name is used by experiments of several baselines, none of them HEAD."""

    def __init__(self, name: str, refs: Iterable[ExpRef]) -> None:
        full = ", ".join(str(ref) for ref in sorted(refs))
        super().__init__(
            f"Ambiguous name '{name}' refers to multiple experiments. Use one of the "
            f"following full refnames instead: {full}"
        )


class UnresolvedExpNamesError(InvalidArgumentError):
    """Some names name no experiment (DVC's wording: ``'x' is not a valid experiment name``)."""

    def __init__(self, names: list[str]) -> None:
        joined = "; ".join(names)
        if len(names) > 1:
            text = f"'{joined}' are not valid experiment names"
        else:
            text = f"'{joined}' is not a valid experiment name"
        super().__init__(f"{text}; list them with 'dvcexp exp list --all-commits'")
        self.names = names


def resolve_name(git: GitRepo, names: Iterable[str]) -> dict[str, ExpRef | None]:
    """``{name: ExpRef or None}`` for experiment names or ``refs/exps/...`` ref names.

    A full ref name counts only when the ref exists.

    :raises AmbiguousExpNameError: a bare name exists under several baselines, not HEAD's
    :raises InvalidExpRefError: a ``refs/...`` name that is not an experiment ref
    """
    wanted = list(dict.fromkeys(names))
    refs = iter_exp_refs(git)
    head = git.head_sha()
    result: dict[str, ExpRef | None] = {}
    for name in wanted:
        if name.startswith("refs/"):
            ref = ExpRef.from_ref(name)
            result[name] = ref if ref in refs else None
            continue
        found = sorted(ref for ref in refs if ref.name == name)
        if len(found) > 1:
            at_head = [ref for ref in found if ref.baseline_sha == head]
            if not at_head:
                raise AmbiguousExpNameError(name, found)
            found = at_head
        result[name] = found[0] if found else None
    return result


def resolve_rev(git: GitRepo, rev: str) -> str:
    """The commit ``rev`` names: a git revision, else an experiment name.

    :raises UnknownRevisionError: neither (or an ambiguous experiment name)
    """
    try:
        return git.resolve(rev)
    except UnknownRevisionError:
        if rev == "HEAD" or rev.startswith("refs/"):
            raise
        try:
            ref = resolve_name(git, [rev])[rev]
        except AmbiguousExpNameError:
            raise UnknownRevisionError(
                f"ambiguous Git revision '{rev}'; name the experiment by its full ref "
                "(dvcexp exp list --all-commits)"
            ) from None
        except InvalidExpRefError:
            ref = None
        sha = git.get_ref(ref.ref) if ref else None
        if sha is None:
            sha = _queue_entry_rev(git, rev)  # a queued or failed queue entry, as DVC's
        if sha is None:
            raise
        return sha


def _queue_entry_rev(git: GitRepo, name: str) -> str | None:
    """The stored workspace commit of the newest queue entry called ``name``."""
    from dvcexp_plugin.experiments.queue_store import QueueStore

    for entry in reversed(QueueStore(git.root).entries()):
        if entry.name == name and entry.status != "Success" and git.get_ref(entry.ref):
            return entry.rev
    return None


def exp_refs_at(git: GitRepo, sha: str) -> list[ExpRef]:
    """The experiment refs whose tip is commit ``sha``."""
    return sorted(ref for ref, tip in iter_exp_refs(git).items() if tip == sha)


def first_parent_revs(git: GitRepo, revs: list[str], num: int) -> list[str]:
    """Each rev and its first parents, ``num`` commits per rev (all when negative).

    :raises UnknownRevisionError: a rev names nothing
    """
    found: list[str] = []
    for rev in revs:
        if num == 0:
            continue
        sha: str | None = resolve_rev(git, rev)
        count = 0
        while sha is not None and (num < 0 or count < num):
            if sha not in found:
                found.append(sha)
            count += 1
            if count == num:
                break  # its parents are not needed (nor the objects read for them)
            parents = git.commit_info(sha).parents
            sha = parents[0] if parents else None
    return found


def reachable_commits(git: GitRepo) -> list[str]:
    """Every commit reachable from HEAD, branches, remote branches and tags, newest first."""
    starts = [git.head_sha()]
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/"):
        starts += [_peeled(git, sha) for sha in git.iter_refs(prefix).values()]
    seen: dict[str, int] = {}
    todo = list(dict.fromkeys(starts))
    while todo:
        sha = todo.pop()
        if sha in seen:
            continue
        try:
            info = git.commit_info(sha)
        except DvcExpError:
            continue  # a tag of a tree or blob
        seen[sha] = info.commit_time
        todo.extend(p for p in info.parents if p not in seen)
    return sorted(seen, key=lambda s: seen[s], reverse=True)


def describe(git: GitRepo, shas: Iterable[str]) -> dict[str, str | None]:
    """A name per commit: HEAD's branch, else a tag, else a branch, else None."""
    head = git.head_sha()
    head_branch = git.head_branch()
    tags: dict[str, str] = {}
    for ref, sha in git.iter_refs("refs/tags/").items():
        tags.setdefault(_peeled(git, sha), ref.removeprefix("refs/tags/"))
    branches: dict[str, str] = {}
    for ref, sha in git.iter_refs("refs/heads/").items():
        branches.setdefault(sha, ref.removeprefix("refs/heads/"))
    names: dict[str, str | None] = {}
    for sha in shas:
        if sha == head and head_branch:
            names[sha] = head_branch
        else:
            names[sha] = tags.get(sha) or branches.get(sha)
    return names


def _peeled(git: GitRepo, sha: str) -> str:
    # an annotated tag points at a tag object; the baseline is the commit behind it
    try:
        return git.resolve(sha)
    except DvcExpError:
        return sha
