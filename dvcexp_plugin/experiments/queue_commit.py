"""The last job of a queued experiment: save it the moment its stages are done.

:func:`commit_entry` runs as the ``q<n>_commit`` rule of a queue run (a ``run:``
block in the engine's thread pool, see :func:`snakemake_job`). It commits the entry's workspace
as DVC's experiment tree (the stages' files, their untracked deps, uncached
outputs, top-level files; baseline as only parent; DVC's message), publishes
``refs/exps/<b[:2]>/<b[2:]>/<name>`` compare-and-swap, keeps the log, and
marks the entry ``Success``.
"""
from __future__ import annotations

import json
import os
from typing import Any

from dvcexp_plugin.experiments.queue_store import QueueEntry, QueueStore


def rule_results(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Address → result record of each of an entry's jobs that finished (run order)."""
    results = os.path.join(os.path.dirname(info["spec"]), "results")
    found: dict[str, dict[str, Any]] = {}
    for rule in info["rules"]:
        try:
            with open(os.path.join(results, f"{rule}.json"), encoding="utf-8") as fobj:
                found[info["addresses"][rule]] = json.load(fobj)
        except (OSError, ValueError):
            continue
    return found


def collect_log(store: QueueStore, entry: QueueEntry, info: dict[str, Any]) -> None:
    """Join the entry's stage logs, in run order, into the queue's log for it."""
    from dvcexp_plugin.command_log import log_path

    workspace = info["workspace"]
    with open(store.log_path(entry.id), "w", encoding="utf-8") as out:
        out.write(f"Reproducing experiment '{entry.name}'\n")
        for rule in info["rules"]:
            path = log_path(workspace, info["addresses"][rule])
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as fobj:
                    out.write(f"Running stage '{info['addresses'][rule]}':\n")
                    out.write(fobj.read())
        for address, data in rule_results(info).items():
            if data.get("status") == "failed":
                out.write(f"ERROR: failed to reproduce '{address}': {data.get('error')}\n")


def commit_entry(queue_json: str, entry_id: str) -> int:
    from dvcexp_plugin.experiments.names import exp_hash
    from dvcexp_plugin.experiments.queue_kill import EntryControl, finish_killed
    from dvcexp_plugin.experiments.run import experiment_contents
    from dvcexp_plugin.git.exp_refs import ExpRef
    from dvcexp_plugin.git.repo import GitRepo
    from dvcexp_plugin.pipeline import load_pipeline

    with open(queue_json, encoding="utf-8") as fobj:
        queue = json.load(fobj)
    store = QueueStore(queue["root"])
    entry = store.load(entry_id)
    info = queue["entries"][entry_id]
    if entry is None:
        return 1
    if EntryControl.for_entry(store, entry_id).kill_signal() is not None:
        finish_killed(store, entry_id)  # killed after its last command: not saved
        return 1
    workspace = info["workspace"]
    results = os.path.join(os.path.dirname(info["spec"]), "results")
    ran: list[str] = []
    for rule in info["rules"]:
        with open(os.path.join(results, f"{rule}.json"), encoding="utf-8") as fobj:
            if json.load(fobj).get("status") in ("ran", "cached"):
                ran.append(info["addresses"][rule])
    git = GitRepo.find(queue["root"])
    pipeline = load_pipeline(workspace)
    entries, extra = experiment_contents(workspace, pipeline, ran, git)
    tree = git.snapshot_dir(entry.rev, workspace, extra)
    message = f"dvc: commit experiment {exp_hash(entries)}"
    sha = git.commit_tree(tree, [entry.baseline], message)
    ref = ExpRef(entry.baseline, entry.name).ref
    old = git.get_ref(ref)
    if old is not None and not entry.args.get("force"):
        collect_log(store, entry, info)
        store.finish(entry.id, False, None, f"Experiment conflicts with existing experiment "
                     f"'{entry.name}'; queue it again with -f to overwrite it")
        return 1
    git.set_ref(ref, sha, expected_old=old)
    collect_log(store, entry, info)
    store.finish(entry.id, True, sha, None)
    git.delete_ref(entry.ref)
    return 0


class CommitFailedError(Exception):
    """Raised to Snakemake when the entry could not be saved (its record says why)."""


def snakemake_job(queue_json: str, entry_id: str) -> None:
    """The body of a queue run's ``q<n>_commit`` rule (a ``run:`` block in a thread)."""
    if commit_entry(queue_json, entry_id) != 0:
        raise CommitFailedError(f"experiment {entry_id} was not saved")

