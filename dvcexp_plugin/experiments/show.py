"""``exp show``: the workspace and each baseline with its experiments, as DVC's JSON.

The table forms (CSV, Markdown, rich) are in :mod:`.show_table`. Never imports
snakemake or hydra.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from dvcexp_plugin.experiments.resolve import describe, first_parent_revs, reachable_commits
from dvcexp_plugin.experiments.show_cache import ShowCache
from dvcexp_plugin.experiments.show_workspace import ShowWorkspace
from dvcexp_plugin.git.exp_refs import iter_exp_refs
from dvcexp_plugin.git.repo import GitRepo


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%dT%H:%M:%S")


def collect_show(
    workspace: ShowWorkspace,
    git: GitRepo,
    revs: list[str] | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    num: int = 1,
    hide_workspace: bool = False,
) -> list[dict[str, Any]]:
    """DVC's ``exp show --json`` list: the workspace, then each baseline with its experiments.

    Baselines are ``revs`` (HEAD when no selection is given) with ``num`` first
    parents each, the tips of all branches (``-a``), all tags (``-T``), or every
    commit reachable from HEAD, branches and tags, newest first (``-A``).
    ``--param-deps`` is ``workspace.param_deps``.
    """
    rows: list[dict[str, Any]] = []
    if not hide_workspace:
        rows.append({"rev": "workspace", "name": None, "data": workspace.row(), "error": None,
                     "experiments": None})
    refs = iter_exp_refs(git)
    by_baseline: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in refs.items():
        by_baseline.setdefault(ref.baseline_sha, []).append((ref.name, sha))
    for baseline in _baselines(git, revs, num, all_branches, all_tags, all_commits):
        rows.append(_baseline_row(git, workspace, baseline, by_baseline.get(baseline, [])))
    return rows


def _baselines(
    git: GitRepo, revs: list[str] | None, num: int,
    all_branches: bool, all_tags: bool, all_commits: bool,
) -> list[str]:
    if not (revs or all_branches or all_tags or all_commits):
        revs = ["HEAD"]
    found = first_parent_revs(git, revs or [], num)
    if all_commits:
        found += reachable_commits(git)
    else:
        if all_branches:
            found += first_parent_revs(git, sorted(git.iter_refs("refs/heads/")), num)
        if all_tags:
            found += [git.resolve(tag) for tag in sorted(git.iter_refs("refs/tags/"))]
    return list(dict.fromkeys(found))


def _reader(git: GitRepo, sha: str) -> Any:
    return lambda path: git.read_file(sha, path)


def _lister(git: GitRepo, sha: str) -> Any:
    return lambda: git.list_files(sha)


def _baseline_row(
    git: GitRepo, workspace: ShowWorkspace, baseline: str, exps: list[tuple[str, str]],
) -> dict[str, Any]:
    cache = ShowCache(workspace.root, baseline, workspace.key)
    data = _commit_data(git, workspace, cache, baseline)[1]
    dated = [(_commit_data(git, workspace, cache, sha), sha, name) for name, sha in exps]
    cache.save({baseline, *(sha for _name, sha in exps)})
    experiments = []
    for (_time, exp_data), sha, name in sorted(dated, key=lambda d: (d[0][0], d[1], d[2]),
                                               reverse=True):
        experiments.append({
            "revs": [{"rev": sha, "name": name, "data": exp_data, "error": None,
                      "experiments": None}],
            "executor": None,
            "name": name,
        })
    experiments += _queue_rows(git, workspace, baseline)
    return {"rev": baseline, "name": describe(git, [baseline])[baseline], "data": data,
            "error": None,
            "experiments": experiments or None}


def _commit_data(
    git: GitRepo, workspace: ShowWorkspace, cache: ShowCache, sha: str
) -> tuple[int, dict[str, Any]]:
    """``(commit time, data)`` of commit ``sha``: from the cache, else read and cached."""
    found = cache.get(sha)
    if found is None:
        commit_time = git.commit_info(sha).commit_time
        data = workspace.collector.collect(_reader(git, sha), sha, None,
                                           list_files=_lister(git, sha),
                                           param_deps=workspace.param_deps)
        cache.put(sha, commit_time, data)
        found = commit_time, data
    # the time zone may differ from the cached run's
    found[1]["timestamp"] = _iso(found[0])
    return found


#: DVC's executor states for entries of its queue, by our queue status
_QUEUE_STATES = {"Queued": "queued", "Running": "running", "Failed": "failed"}


def _queue_rows(git: GitRepo, workspace: ShowWorkspace, baseline: str) -> list[dict[str, Any]]:
    """Queued, running and failed queue entries of ``baseline``, as DVC lists its queue's.

    DVC orders them active, queued, failed after the finished experiments; an
    entry's data is its stored workspace (params with its overrides; no results).
    """
    from dvcexp_plugin.experiments.queue_store import QueueStore

    rows = []
    entries = [e for e in QueueStore(workspace.root).entries()
               if e.baseline == baseline and e.status in _QUEUE_STATES]
    order = {"Running": 0, "Queued": 1, "Failed": 2}
    for entry in sorted(entries, key=lambda e: (order[e.status], e.created)):
        if git.get_ref(entry.ref) is None and entry.status != "Running":
            continue  # its commit is gone (removed): nothing to show
        data = workspace.collector.collect(
            _reader(git, entry.rev), entry.rev, _iso(int(entry.created)),
            list_files=_lister(git, entry.rev), param_deps=workspace.param_deps)
        rows.append({
            "revs": [{"rev": entry.rev, "name": entry.name, "data": data,
                      "error": {"type": "ReproductionError", "msg": entry.error}
                      if entry.status == "Failed" else None,
                      "experiments": None}],
            "executor": {"state": _QUEUE_STATES[entry.status], "name": "dvcexp-queue",
                         "local": None},
            "name": entry.name,
        })
    return rows
