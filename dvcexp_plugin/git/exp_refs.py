"""Where DVC keeps experiments: ``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>``.

The constant names are DVC's (``dvc/repo/experiments/refs.py``), so code and
notes can be read side by side with DVC's.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dvcexp_plugin.git.errors import GitError

if TYPE_CHECKING:
    from dvcexp_plugin.git.repo import GitRepo

EXPS_NAMESPACE = "refs/exps"
#: stash of workspace and ``--temp`` runs (0 or 1 entries)
EXPS_STASH = f"{EXPS_NAMESPACE}/stash"
WORKSPACE_STASH = EXPS_STASH
APPLY_NAMESPACE = f"{EXPS_NAMESPACE}/apply"
#: HEAD before ``exp apply``
APPLY_HEAD = f"{APPLY_NAMESPACE}/ORIG_HEAD"
#: the workspace before ``exp apply``
APPLY_STASH = f"{APPLY_NAMESPACE}/stash"
CELERY_NAMESPACE = f"{EXPS_NAMESPACE}/celery"
#: queued (``--queue``) entries
CELERY_STASH = f"{CELERY_NAMESPACE}/stash"
#: stash commits of failed queued runs
CELERY_FAILED_STASH = f"{CELERY_NAMESPACE}/failed"
#: dvcexp's queue entries, one ref each (not DVC's: inside ``celery`` so DVC skips them)
QUEUE_NAMESPACE = f"{CELERY_NAMESPACE}/dvcexp"
EXEC_NAMESPACE = f"{EXPS_NAMESPACE}/exec"
#: the last applied experiment
EXEC_APPLY = f"{EXEC_NAMESPACE}/EXEC_APPLY"
#: symbolic ref to the experiment ref being written
EXEC_BRANCH = f"{EXEC_NAMESPACE}/EXEC_BRANCH"
EXEC_BASELINE = f"{EXEC_NAMESPACE}/EXEC_BASELINE"
#: the commit an executor checks out (DVC leaves it behind after workspace runs)
EXEC_HEAD = f"{EXEC_NAMESPACE}/EXEC_HEAD"
#: the stash commit an executor applies on top of EXEC_HEAD
EXEC_MERGE = f"{EXEC_NAMESPACE}/EXEC_MERGE"
TEMP_NAMESPACE = f"{EXPS_NAMESPACE}/temp"
STASHES = frozenset({WORKSPACE_STASH, CELERY_STASH})
#: namespaces under refs/exps that hold no experiments
ITER_SKIP_NAMESPACES = frozenset(
    {APPLY_NAMESPACE, CELERY_NAMESPACE, EXEC_NAMESPACE, TEMP_NAMESPACE}
)

_SHA = re.compile(r"^[0-9a-f]{40}$")
# one ref-name component; stricter than git so an id is also a safe directory name
_ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$")


class InvalidExpRefError(GitError):
    """A ref name is not an experiment ref."""


def is_skipped(ref: str) -> bool:
    """Whether ``ref`` lies in a namespace that never holds experiments (as DVC skips them)."""
    return ref in STASHES or any(ref.startswith(ns + "/") for ns in ITER_SKIP_NAMESPACES)


@dataclass(frozen=True, order=True)
class ExpRef:
    """An experiment: its baseline commit and its name."""

    baseline_sha: str
    name: str

    def __post_init__(self) -> None:
        if not _SHA.match(self.baseline_sha):
            raise InvalidExpRefError(
                f"baseline '{self.baseline_sha}' is not a full 40-digit sha; resolve it first"
            )
        if not self.name or "/" in self.name:
            raise InvalidExpRefError(f"'{self.name}' is not an experiment name")

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        """``refs/exps/<b[:2]>/<b[2:]>/<name>``."""
        return f"{EXPS_NAMESPACE}/{self.baseline_sha[:2]}/{self.baseline_sha[2:]}/{self.name}"

    @classmethod
    def parse(cls, ref: str) -> ExpRef | None:
        """The experiment ``ref`` names, or None when it names something else."""
        parts = ref.split("/")
        if (
            len(parts) != 5
            or "/".join(parts[:2]) != EXPS_NAMESPACE
            or is_skipped(ref)
            or not _SHA.match(parts[2] + parts[3])
            or len(parts[2]) != 2
            or not parts[4]
        ):
            return None
        return cls(parts[2] + parts[3], parts[4])

    @classmethod
    def from_ref(cls, ref: str) -> ExpRef:
        """Like :meth:`parse`, but raising.

        :raises InvalidExpRefError: ``ref`` is not ``refs/exps/<2>/<38>/<name>``
        """
        found = cls.parse(ref)
        if found is None:
            raise InvalidExpRefError(
                f"'{ref}' is not an experiment ref (refs/exps/<sha[:2]>/<sha[2:]>/<name>)"
            )
        return found


def baseline_prefix(baseline_sha: str) -> str:
    """The ref prefix under which ``baseline_sha``'s experiments live (with final ``/``)."""
    return f"{EXPS_NAMESPACE}/{baseline_sha[:2]}/{baseline_sha[2:]}/"


def iter_exp_refs(
    repo: GitRepo | str | os.PathLike[str], baseline: str | None = None
) -> dict[ExpRef, str]:
    """``{ExpRef: experiment commit sha}``, optionally only for one ``baseline`` sha.

    Refs in DVC's skipped namespaces (apply, celery, exec, temp, the stashes)
    and anything not shaped like an experiment ref are left out.

    :param repo: an open repository or a path inside one
    :param baseline: a full baseline sha; None lists every baseline
    """
    from dvcexp_plugin.git.repo import GitRepo

    git = GitRepo.find(repo, require_commit=False)
    prefix = baseline_prefix(baseline) if baseline else EXPS_NAMESPACE + "/"
    found: dict[ExpRef, str] = {}
    for name, sha in git.iter_refs(prefix).items():
        exp = ExpRef.parse(name)
        if exp is not None:
            found[exp] = sha
    return found


def queue_ref(entry_id: str) -> str:
    """``refs/exps/celery/dvcexp/<entry_id>``: the ref that keeps a queued entry's commit alive.

    DVC lists nothing under ``refs/exps/celery/`` (``exp show``, ``exp list`` and
    ``queue status`` were checked with DVC 3.67.1), so entries stay dvcexp's own.

    :raises InvalidExpRefError: ``entry_id`` is not letters, digits, ``-``, ``_`` and inner dots
    """
    if not _ENTRY_ID.match(entry_id) or entry_id.endswith(".lock"):
        raise InvalidExpRefError(
            f"'{entry_id}' is not a queue entry id; use letters, digits, '-', '_' "
            "(and inner dots), like the ids dvcexp generates"
        )
    return f"{QUEUE_NAMESPACE}/{entry_id}"


def parse_queue_ref(ref: str) -> str | None:
    """The entry id of queue ref ``ref``, or None when ``ref`` is something else."""
    prefix = QUEUE_NAMESPACE + "/"
    entry_id = ref[len(prefix) :] if ref.startswith(prefix) else ""
    if not _ENTRY_ID.match(entry_id) or entry_id.endswith(".lock"):
        return None
    return entry_id


def iter_queue_refs(repo: GitRepo | str | os.PathLike[str]) -> dict[str, str]:
    """``{entry id: entry commit sha}`` for every queue ref.

    :param repo: an open repository or a path inside one
    """
    from dvcexp_plugin.git.repo import GitRepo

    git = GitRepo.find(repo, require_commit=False)
    found: dict[str, str] = {}
    for name, sha in git.iter_refs(QUEUE_NAMESPACE + "/").items():
        entry_id = parse_queue_ref(name)
        if entry_id is not None:
            found[entry_id] = sha
    return found
