"""``exp branch``, ``exp remove`` and ``exp rename``: ref operations on experiments.

Each moves refs compare-and-swap, so a concurrent ``exp run`` that rewrote a
ref in between makes the operation fail instead of losing that experiment.
"""
from __future__ import annotations

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.experiments.names import validate_name
from dvcexp_plugin.experiments.queue_store import FAILED, QUEUED, SUCCESS, QueueEntry, QueueStore
from dvcexp_plugin.experiments.resolve import (
    InvalidArgumentError,
    InvalidExpRevError,
    UnresolvedExpNamesError,
    exp_refs_at,
    first_parent_revs,
    resolve_name,
    resolve_rev,
)
from dvcexp_plugin.git.errors import UnknownRevisionError
from dvcexp_plugin.git.exp_refs import EXEC_APPLY, EXEC_BRANCH, ExpRef, iter_exp_refs
from dvcexp_plugin.git.repo import GitRepo


class ExperimentExistsError(DvcExpError):
    """The target name is taken under that baseline."""

    def __init__(self, name: str, command: str) -> None:
        super().__init__(
            f"Experiment conflicts with existing experiment '{name}'. To overwrite the "
            f"existing experiment run: dvcexp exp {command} -f ..."
        )


def branch(git: GitRepo, exp_rev: str, branch_name: str | None = None) -> tuple[str, str]:
    """Create git branch ``branch_name`` (default ``<exp>-branch``) at an experiment.

    :returns: ``(branch name, experiment name)``
    :raises InvalidArgumentError: ``exp_rev`` names nothing, several experiments,
        or the branch exists
    """
    try:
        sha = resolve_rev(git, exp_rev)
    except UnknownRevisionError as exc:
        raise InvalidArgumentError(f"{exp_rev}: {exc}") from None
    refs = exp_refs_at(git, sha)
    if len(refs) > 1:
        head = git.head_sha()
        refs = [ref for ref in refs if ref.baseline_sha == head] or refs
        if len(refs) > 1:
            full = ", ".join(str(ref) for ref in refs)
            raise InvalidArgumentError(
                f"Ambiguous experiment name '{exp_rev}' can refer to multiple experiments. "
                f"To create a branch use a full experiment ref: {full}"
            )
    if not refs:
        raise InvalidExpRevError(exp_rev, "list experiments with 'dvcexp exp list'")
    ref = refs[0]
    name = branch_name or f"{ref.name}-branch"
    branch_ref = f"refs/heads/{name}"
    if git.get_ref(branch_ref):
        raise InvalidArgumentError(f"Git branch '{name}' already exists.")
    if not _valid_branch(name):
        raise InvalidArgumentError(
            f"'{name}' is not a valid git branch name; see 'git check-ref-format --branch'"
        )
    git.set_ref(branch_ref, sha, expected_old=None,
                message=f"dvc: Created from experiment '{ref.name}'")
    return name, ref.name


def _valid_branch(name: str) -> bool:
    from dvcexp_plugin.experiments.names import is_valid_name

    parts = name.split("/")
    return name != "HEAD" and not name.startswith("-") and all(is_valid_name(p) for p in parts)


def remove(
    git: GitRepo,
    names: list[str] | None = None,
    revs: list[str] | None = None,
    num: int = 1,
    all_commits: bool = False,
    keep: bool = False,
    queue: bool = False,
    store: QueueStore | None = None,
) -> list[str]:
    """Delete experiment refs and queue entries, chosen as DVC's ``exp remove`` chooses them.

    :param names: experiment names or full refs, or names/ids/rev prefixes of queued or
        finished queue entries (all must resolve, else nothing is removed); a name
        that is both an experiment and a finished queue entry removes both
    :param revs: baselines whose experiments go (with ``num`` first parents each)
    :param all_commits: every experiment (queue entries stay)
    :param keep: remove every experiment *except* the selected ones
    :param queue: every queued (not yet running) entry too
    :param store: the queue (needed for ``queue`` and for names of queue entries)
    :returns: what was removed, as DVC reports it (names as given, or experiment names)
    """
    if keep and queue:
        raise InvalidArgumentError("Cannot use both `--keep` and `--queue`.")
    refs = iter_exp_refs(git)
    chosen: list[ExpRef] = []
    removed: list[str] = []
    entries: list[QueueEntry] = []
    if queue and store is not None:
        entries = [e for e in store.entries() if e.status == QUEUED]
        removed.extend(e.name or e.rev[:7] for e in entries)
    if names:
        found = resolve_name(git, names)
        queued = store.match(names, (QUEUED, SUCCESS, FAILED)) if store else {}
        missing = [name for name, ref in found.items() if ref is None and not queued.get(name)]
        if missing:
            raise UnresolvedExpNamesError(missing)
        for name, ref in found.items():
            removed.append(name)
            if ref is not None:
                chosen.append(ref)
            entry = queued.get(name)
            if entry is not None:
                entries.append(entry)
    elif revs:
        baselines = set(first_parent_revs(git, revs, num))
        by_name = {ref.name: ref for ref in sorted(refs) if ref.baseline_sha in baselines}
        removed.extend(by_name)
        chosen.extend(by_name.values())
    elif all_commits:
        chosen.extend(sorted(refs))
        removed.extend(ref.name for ref in chosen)
    if keep:
        chosen = sorted(set(refs) - set(chosen))
        removed = [ref.name for ref in chosen]
    delete_refs(git, {ref: refs[ref] for ref in chosen})
    if entries and store is not None:
        # an entry the runner claimed meanwhile is running now and stays
        store.remove({e.id: e for e in entries}.values(), (QUEUED, SUCCESS, FAILED),
                     git.delete_ref)
    return removed


def delete_refs(git: GitRepo, refs: dict[ExpRef, str]) -> None:
    """Delete experiment refs (each only if it still points where it did).

    As DVC: ``EXEC_BRANCH`` goes with them, and ``EXEC_APPLY`` when it names one of them.
    """
    if not refs:
        return
    applied = git.get_ref(EXEC_APPLY)
    if git.get_ref(EXEC_BRANCH) is not None:
        git.delete_ref(EXEC_BRANCH)
    for ref, sha in refs.items():
        if applied == sha:
            git.delete_ref(EXEC_APPLY)
            applied = None
        git.delete_ref(ref.ref, expected_old=sha)


def rename(git: GitRepo, exp_name: str, new_name: str, force: bool = False) -> list[str]:
    """Rename an experiment (its ref moves; the commit stays).

    :returns: the names renamed; empty when ``new_name`` equals ``exp_name``
    :raises UnresolvedExpNamesError: ``exp_name`` names no experiment
    :raises ExperimentExistsError: ``new_name`` exists under that baseline, without ``force``
    """
    if exp_name == new_name:
        return []
    ref = resolve_name(git, [exp_name])[exp_name]
    if ref is None:
        raise UnresolvedExpNamesError([exp_name])
    # DVC checks for a clash first; an invalid name can never clash (no such ref exists)
    validate_name(new_name)
    target = ExpRef(ref.baseline_sha, new_name)
    existing = git.get_ref(target.ref)
    if existing and not force:
        raise ExperimentExistsError(new_name, "rename")
    sha = git.get_ref(ref.ref)
    assert sha is not None
    git.set_ref(target.ref, sha, expected_old=existing, force=force)
    git.delete_ref(ref.ref, expected_old=sha)
    return [exp_name]
