"""``exp show``: the workspace and each baseline with its experiments, as DVC's JSON.

The table forms (CSV, Markdown, rich) are in :mod:`.show_table`. Never imports
snakemake or hydra.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from dvcexp_plugin.experiments.collect import RevisionCollector
from dvcexp_plugin.experiments.resolve import describe, first_parent_revs, reachable_commits
from dvcexp_plugin.git.exp_refs import iter_exp_refs
from dvcexp_plugin.git.repo import GitRepo


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%dT%H:%M:%S")


def collect_show(
    root: str,
    collector: RevisionCollector,
    git: GitRepo,
    revs: list[str] | None = None,
    all_branches: bool = False,
    all_tags: bool = False,
    all_commits: bool = False,
    num: int = 1,
    hide_workspace: bool = False,
    param_deps: bool = False,
) -> list[dict[str, Any]]:
    """DVC's ``exp show --json`` list: the workspace, then each baseline with its experiments.

    Baselines are ``revs`` (HEAD when no selection is given) with ``num`` first
    parents each, the tips of all branches (``-a``), all tags (``-T``), or every
    commit reachable from HEAD, branches and tags, newest first (``-A``).
    """
    rows: list[dict[str, Any]] = []
    if not hide_workspace:
        data = collector.collect(collector.workspace_reader(), "workspace", None,
                                 param_deps=param_deps)
        rows.append({"rev": "workspace", "name": None, "data": data, "error": None,
                     "experiments": None})
    refs = iter_exp_refs(git)
    by_baseline: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in refs.items():
        by_baseline.setdefault(ref.baseline_sha, []).append((ref.name, sha))
    for baseline in _baselines(git, revs, num, all_branches, all_tags, all_commits):
        rows.append(_baseline_row(git, collector, baseline, by_baseline.get(baseline, []),
                                  param_deps))
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
    git: GitRepo, collector: RevisionCollector, baseline: str,
    exps: list[tuple[str, str]], param_deps: bool,
) -> dict[str, Any]:
    info = git.commit_info(baseline)
    data = collector.collect(_reader(git, baseline), baseline, _iso(info.commit_time),
                             list_files=lambda: git.list_files(baseline), param_deps=param_deps)
    experiments = []
    dated = []
    for name, sha in exps:
        exp_info = git.commit_info(sha)
        dated.append((exp_info.commit_time, sha, name))
    for commit_time, sha, name in sorted(dated, reverse=True):
        exp_data = _cached_collect(collector, git, sha, _iso(commit_time), param_deps)
        experiments.append({
            "revs": [{"rev": sha, "name": name, "data": exp_data, "error": None,
                      "experiments": None}],
            "executor": None,
            "name": name,
        })
    experiments += _queue_rows(git, collector, baseline, param_deps)
    return {"rev": baseline, "name": describe(git, [baseline])[baseline], "data": data,
            "error": None,
            "experiments": experiments or None}


#: DVC's executor states for entries of its queue, by our queue status
_QUEUE_STATES = {"Queued": "queued", "Running": "running", "Failed": "failed"}


def _queue_rows(
    git: GitRepo, collector: RevisionCollector, baseline: str, param_deps: bool
) -> list[dict[str, Any]]:
    """Queued, running and failed queue entries of ``baseline``, as DVC lists its queue's.

    DVC orders them active, queued, failed after the finished experiments; an
    entry's data is its stored workspace (params with its overrides; no results).
    """
    from dvcexp_plugin.experiments.queue_store import QueueStore

    rows = []
    entries = [e for e in QueueStore(collector.root).entries()
               if e.baseline == baseline and e.status in _QUEUE_STATES]
    order = {"Running": 0, "Queued": 1, "Failed": 2}
    for entry in sorted(entries, key=lambda e: (order[e.status], e.created)):
        if git.get_ref(entry.ref) is None and entry.status != "Running":
            continue  # its commit is gone (removed): nothing to show
        data = collector.collect(_reader(git, entry.rev), entry.rev, _iso(int(entry.created)),
                                 list_files=_lister(git, entry.rev), param_deps=param_deps)
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


def _cache_path(root: str, sha: str, param_deps: bool) -> str:
    import os

    name = sha[2:] + ("-param-deps" if param_deps else "") + ".json"
    return os.path.join(root, ".dvc", "tmp", "dvcexp", "exp-cache", sha[:2], name)


def _cached_collect(
    collector: RevisionCollector, git: GitRepo, sha: str, timestamp: str, param_deps: bool
) -> dict[str, Any]:
    """An experiment commit's data, cached by sha (commits never change; DVC caches too).

    Results holding an error (e.g. a cached metric missing from the cache) are not
    cached, so they are read again once the data is there.
    """
    import json
    import os
    import secrets

    path = _cache_path(collector.root, sha, param_deps)
    try:
        with open(path, encoding="utf-8") as fobj:
            cached: dict[str, Any] = json.load(fobj)
            return cached
    except (OSError, ValueError):
        pass
    data = collector.collect(_reader(git, sha), sha, timestamp, list_files=_lister(git, sha),
                             param_deps=param_deps)
    sections = [data.get("params") or {}, data.get("metrics") or {}]
    if any("error" in item for section in sections for item in section.values()):
        return data
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "w", encoding="utf-8") as fobj:
            json.dump(data, fobj)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only .dvc/tmp only costs speed
    return data
