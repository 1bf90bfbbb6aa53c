"""The ``repro`` command's flow: flags → plan → engine → DVC's messages."""
from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline
from dvcexp_plugin.plan import ReproOptions, plan_repro
from dvcexp_plugin.repo import Repo
from dvcexp_plugin.reproduce import ReproductionError, execute

UP_TO_DATE = "Data and pipelines are up to date."


def options_from_args(args: argparse.Namespace) -> ReproOptions:
    return ReproOptions(
        targets=list(args.targets),
        single_item=args.single_item,
        recursive=args.recursive,
        downstream=args.downstream,
        all_pipelines=args.all_pipelines,
        force=args.force,
        force_downstream=args.force_downstream,
    )


def reproduce(
    repo: Repo,
    pipeline: Pipeline,
    args: argparse.Namespace,
    cwd: str,
    out: TextIO,
    env: dict[str, str] | None = None,
) -> int:
    """Plan and run; returns the exit code (errors are raised)."""
    from dvcexp_plugin.cache import ObjectCache
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.status import StatusChecker
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    if args.pull:
        remotes = [s for s in repo.config if s.startswith("remote")]
        if not remotes:
            raise DvcExpError(
                "--pull needs a DVC remote, and none is configured; add one with "
                "'dvc remote add -d <name> <url>' or drop --pull"
            )
    options = options_from_args(args)
    if args.pipeline and options.targets:
        # -p: the whole pipeline (connected component) the targets belong to
        graph = pipeline.graph
        from dvcexp_plugin.plan import collect_targets

        seeds = [s.addressing for s in collect_targets(pipeline, options, cwd)]
        component = set(graph.upstream_closure(seeds))
        component |= set(graph.downstream_closure(sorted(component)))
        component = set(graph.upstream_closure(sorted(component)))
        options.targets = [a for a in graph.topological() if a in component]
        options.targets = [
            graph.by_address[a].dvcfile + ":" + graph.by_address[a].name for a in options.targets
        ]
    with StatCache(repo.root) as stat_cache:
        checker = StatusChecker(
            repo.root, ObjectCache.for_repo(repo.root), WorkspaceHasher(repo.root, stat_cache), cwd
        )
        plan = plan_repro(pipeline, options, checker, cwd)
    to_run = {s.addressing for s in plan.to_run}
    if args.allow_missing:
        to_run = {a for a in to_run if not _only_missing(plan.changed.get(a))}
        plan.to_run = [s for s in plan.to_run if s.addressing in to_run]
    if args.interactive:
        chosen = []
        for stage in plan.to_run:
            answer = _ask(f"Going to reproduce stage: '{stage.addressing}'. Are you sure you "
                          "want to continue? [y/n] ")
            if answer:
                chosen.append(stage)
        plan.to_run = chosen
        to_run = {s.addressing for s in chosen}
    if args.dry:
        for stage in plan.order:
            if stage.addressing in plan.changed and stage.addressing in to_run:
                print(f"Running stage '{stage.addressing}':", file=out)
                for command in stage.cmd if isinstance(stage.cmd, list) else [stage.cmd]:
                    print(f"> {command}", file=out)
                print("", file=out)
            else:
                print(f"Stage '{stage.addressing}' didn't change, skipping", file=out)
        return 0
    for stage in plan.order:
        if stage.addressing not in to_run:
            print(f"Stage '{stage.addressing}' didn't change, skipping", file=out)
    if not plan.to_run:
        print(UP_TO_DATE, file=out)
        return 0
    outcome = execute(
        repo, pipeline, plan, jobs=max(1, args.jobs),
        keep_going=args.keep_going or args.ignore_errors,
        force_downstream=args.force_downstream, env=env, out=out,
    )
    if outcome.engine_error and not outcome.failed:
        raise ReproductionError(
            f"{outcome.engine_error} (run files kept in '{os.path.relpath(outcome.run_dir or '')}')"
        )
    if outcome.failed and not args.ignore_errors:
        first = outcome.failed[0]
        detail = outcome.results.get(first, {}).get("error") or "the stage's job failed"
        where = os.path.relpath(outcome.run_dir or "", cwd)
        raise ReproductionError(f"failed to reproduce '{first}': {detail} (logs: '{where}')")
    return 0


def _only_missing(status: list[object] | None) -> bool:
    """A stage whose only change is outputs missing or not in cache (``--allow-missing``)."""
    if not status:
        return False
    for item in status:
        if not isinstance(item, dict) or set(item) != {"changed outs"}:
            return False
        states = set(item["changed outs"].values())
        if not states <= {"deleted", "not in cache"}:
            return False
    return True


def _ask(prompt: str) -> bool:
    if not sys.stdin.isatty():
        raise DvcExpError("--interactive needs a terminal to ask on; run without -i")
    return input(prompt).strip().lower() in ("y", "yes")
