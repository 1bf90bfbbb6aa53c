"""``exp run --queue``: store each sweep point as a commit and a queue entry.

Each entry's commit holds the workspace as an experiment would see it — HEAD's
tree, tracked changes, staged new files — with that entry's ``-S`` overrides
applied; its message is DVC's stash message ``dvc-exp:<HEAD>:<baseline>:<name>``.
The user's workspace, index and HEAD end as they were.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Any, TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.experiments.queue_store import QueueEntry, QueueStore
from dvcexp_plugin.pipeline import Pipeline
from dvcexp_plugin.repo import Repo

#: the repro flags an entry remembers and its run honours
ENTRY_FLAGS = ("targets", "single_item", "force", "pipeline", "all_pipelines", "downstream",
               "recursive", "force_downstream", "pull", "allow_missing")


def _entry_commit(git: Any, cwd: str, overrides: dict[str, list[str]], message: str,
                  baseline: str) -> str:
    """Commit the workspace with ``overrides`` applied; the user's files are never written."""
    from dvcexp_plugin import params as params_mod

    edited: dict[str, bytes | None] = {}
    files: dict[str, list[str]] = {}
    for file, values in overrides.items():  # two spellings of one file edit it once
        path = os.path.normpath(os.path.join(cwd, file))
        files.setdefault(path, []).extend(values)
    for path, values in files.items():
        shown = os.path.relpath(path, cwd)
        text = params_mod.updated_text(path, values, shown_as=shown)
        edited[os.path.relpath(path, git.root).replace(os.sep, "/")] = text.encode("utf-8")
    tree = git.snapshot_tree([p for p in edited if os.path.exists(os.path.join(git.root, p))])
    sha: str = git.commit_workspace(tree, edited, message, [baseline])
    return sha


def enqueue(repo: Repo, pipeline: Pipeline, args: argparse.Namespace, cwd: str,
            out: TextIO) -> list[QueueEntry]:
    """Queue one entry per sweep point; print DVC's lines for each."""
    from dvcexp_plugin import params as params_mod
    from dvcexp_plugin.experiments.names import random_name, validate_name
    from dvcexp_plugin.experiments.run import experiment_git
    from dvcexp_plugin.experiments.temp_run import (
        check_copy_paths,
        entry_commit,
        start_point,
        warn_untracked_deps,
    )
    from dvcexp_plugin.git.exp_refs import ExpRef

    git = experiment_git(repo.root)
    git.identity("author")  # fail now, not when the entry finishes
    # --rev: the experiment's (or commit's) tree; its baseline stays
    rev, baseline = start_point(git, getattr(args, "rev", None))
    copied = check_copy_paths(repo.root, cwd, list(getattr(args, "copy_paths", None) or []))
    overrides = params_mod.parse_set_params(list(args.set_param or []))
    points = params_mod.expand_sweeps(overrides) if overrides else [{}]
    store = QueueStore(repo.root)
    taken = {e.name for e in store.entries() if e.baseline == baseline}
    if args.name:
        validate_name(args.name)
    names: list[str] = []
    for index in range(len(points)):
        if args.name:
            name = args.name if len(points) == 1 else f"{args.name}-{index + 1}"
        else:
            name = random_name(lambda n: n in taken or n in names
                               or git.get_ref(ExpRef(baseline, n).ref) is not None)
        names.append(name)
    if args.name and len(points) == 1 and not args.force:
        if git.get_ref(ExpRef(baseline, args.name).ref) is not None:
            raise DvcExpError(
                f"Experiment conflicts with existing experiment '{args.name}'. To overwrite "
                "the existing experiment run: dvcexp exp run -f ..."
            )
    if rev is None:
        for point in points:  # validate every point before queueing any
            for file, values in point.items():
                params_mod.updated_text(os.path.join(cwd, file), values, shown_as=file)
    remembered = {flag: getattr(args, flag, None) for flag in ENTRY_FLAGS}
    remembered["copy_paths"] = copied
    remembered["reset"] = bool(getattr(args, "reset", False))
    warned = False
    queued = []
    for point, name in zip(points, names, strict=True):
        print(f"Queueing with overrides '{point}'.", file=out)
        message = f"dvc-exp:{baseline}:{baseline}:{name}"
        sha = entry_commit(git, repo.root, cwd, point, message, baseline, rev)
        if not warned:
            warn_untracked_deps(git, sha, pipeline, repo.root, copied)
            warned = True
        entry = QueueEntry(id=store.new_id(), name=name, baseline=baseline, rev=sha,
                           created=time.time(), overrides=point, args=remembered)
        git.set_ref(entry.ref, sha)
        store.save(entry)
        print(f"Queued experiment '{name}' for future execution.", file=out)
        queued.append(entry)
    return queued
