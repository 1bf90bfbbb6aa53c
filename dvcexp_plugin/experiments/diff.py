"""The data behind ``exp diff``, ``params diff``, ``metrics show`` and ``metrics diff``.

Each revision (a git revision, an experiment name, or the workspace) is read
as ``exp show`` reads it (:class:`RevisionCollector`), then compared with
:func:`dvcexp_plugin.experiments.compare.diff`. Never imports snakemake or hydra.
"""
from __future__ import annotations

from typing import Any

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.experiments.collect import RevisionCollector
from dvcexp_plugin.experiments.compare import diff, errored_files
from dvcexp_plugin.experiments.resolve import resolve_rev
from dvcexp_plugin.git.errors import UnknownRevisionError
from dvcexp_plugin.git.repo import GitRepo

#: the revision name of the working tree in ``params diff`` and ``metrics diff``
WORKSPACE = "workspace"


class ExpDiffError(DvcExpError):
    """``exp diff`` could not read a revision (DVC exits 1 here, not 255)."""

    exit_code = 1


def revision_data(
    git: GitRepo, collector: RevisionCollector, rev: str | None, param_deps: bool = False
) -> dict[str, Any]:
    """``exp show``'s ``data`` of ``rev``; None is the workspace.

    :raises UnknownRevisionError: ``rev`` names no commit or experiment
    """
    if rev is None:
        return collector.collect(collector.workspace_reader(), WORKSPACE, None,
                                 param_deps=param_deps)
    sha = resolve_rev(git, rev)
    return collector.collect(lambda path: git.read_file(sha, path), sha, None,
                             list_files=lambda: git.list_files(sha), param_deps=param_deps)


def exp_diff(
    git: GitRepo,
    collector: RevisionCollector,
    a_rev: str | None = None,
    b_rev: str | None = None,
    *,
    with_unchanged: bool = False,
    param_deps: bool = False,
) -> dict[str, dict[str, Any]]:
    """``{"metrics": diff, "params": diff}`` from ``a_rev`` (HEAD) to ``b_rev`` (workspace).

    :raises ExpDiffError: a revision names nothing
    """
    try:
        old = revision_data(git, collector, a_rev or "HEAD", param_deps)
        new = revision_data(git, collector, b_rev, param_deps)
    except UnknownRevisionError as exc:
        raise ExpDiffError(f"failed to show experiments diff - {exc}") from None
    return {key: diff(old[key], new[key], with_unchanged) for key in ("metrics", "params")}


def section_diff(
    git: GitRepo,
    collector: RevisionCollector,
    section: str,
    a_rev: str | None = None,
    b_rev: str | None = None,
    *,
    with_unchanged: bool = False,
    param_deps: bool = False,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``params diff``/``metrics diff``: the changes of ``section``, and the revisions
    (as named by the user) with unreadable files.

    :param section: ``"params"`` or ``"metrics"``
    :raises UnknownRevisionError: a revision names nothing
    """
    a_rev, b_rev = a_rev or "HEAD", b_rev or WORKSPACE
    sides = []
    for rev in (a_rev, b_rev):
        data = revision_data(git, collector, None if rev == WORKSPACE else rev, param_deps)
        sides.append(data[section])
    errored = [rev for rev, files in zip((a_rev, b_rev), sides, strict=True)
               if errored_files(files)]
    return diff(sides[0], sides[1], with_unchanged), list(dict.fromkeys(errored))


def errored_message(revs: list[str]) -> str:
    """DVC's stderr line about unreadable metrics (also used by ``params diff``)."""
    return f"DVC failed to load some metrics for following revisions: '{', '.join(revs)}'."
