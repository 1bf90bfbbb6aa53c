"""The ``repro`` command's flow: flags → plan → engine → DVC's messages."""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any, TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline, Stage
from dvcexp_plugin.plan import Plan, ReproOptions, plan_repro
from dvcexp_plugin.repo import Repo, unquote
from dvcexp_plugin.reproduce import ReproductionError, execute, frozen_warning, skip_lines
from dvcexp_plugin.stage_runner import REPRODUCED, shown_address
from dvcexp_plugin.status import StatusChecker

UP_TO_DATE = "Data and pipelines are up to date."
PUSH_HINT = "Use `dvc push` to send your updates to remote storage."


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
    ran: list[str] | None = None,
    summary: bool = True,
) -> int:
    """Plan and run; returns the exit code (errors are raised).

    :param ran: filled with the addressings of the stages that reproduced (ran,
        restored from the run-cache, verified), in DVC's order — DVC's return
        value of ``Repo.reproduce``; also on failure, with those that did
    :param summary: print ``dvc repro``'s closing lines (``Data and pipelines are
        up to date.``, the git hint, ``Use `dvc push` …``); ``dvc exp run``
        prints none of them
    """
    if ran is None:
        ran = []
    from dvcexp_plugin.cache import ObjectCache
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.status import StatusChecker
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    if args.pull:
        # DVC only warns (its run-cache pull fails) and goes on reproducing
        if not unquote(repo.config.get("core", {}).get("remote", "")):
            print(
                f"WARNING: Failed to pull run cache: config file error: no remote specified "
                f"in {repo.root}. Create a default remote with\n"
                "    dvc remote add -d <remote name> <remote url>",
                file=sys.stderr,
            )
        else:
            print("WARNING: dvcexp does not pull from remotes; data missing from the "
                  "local cache is reproduced instead", file=sys.stderr)
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
        if args.allow_missing:
            # DVC's changed(allow_missing=True): missing data alone is no change;
            # what the stages changed for other reasons feed still runs
            missing_only = {
                a for a in plan.changed if _only_missing(pipeline, plan, checker, a)
            }
            if missing_only:
                changed = {a: v for a, v in plan.changed.items() if a not in missing_only}
                keep = set(changed) | set(plan.forced)
                if not options.force:
                    keep = _downstream_within(pipeline, plan, keep)
                plan.changed = changed
                plan.to_run = [s for s in plan.to_run if s.addressing in keep]
    to_run = {s.addressing for s in plan.to_run}
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
        return _dry_run(repo, pipeline, plan, args, out, cwd, summary)
    reported: set[str] = set()  # data sources verified here, before the engine
    data_sources = [s for s in plan.order if s.data_source]
    if data_sources:
        from dvcexp_plugin.data_source_commit import commit_data_source
        from dvcexp_plugin.workspace_hasher import WorkspaceHasher

        hasher = WorkspaceHasher(repo.root)
        for stage in data_sources:
            if stage.addressing in to_run and stage.addressing in plan.changed:
                print(f"Verifying data sources in stage: '{stage.addressing}'", file=out)
                commit_data_source(repo.root, stage, hasher)
                print("", file=out)
                reported.add(stage.addressing)
                ran.append(stage.addressing)
        plan.to_run = [s for s in plan.to_run if not s.data_source]
    if not plan.to_run:
        _print_lines(skip_lines(plan, reported, repo.root, cwd)[1], out)
        if summary:
            print(PUSH_HINT if reported else UP_TO_DATE, file=out)
        return 0
    on_error = "ignore" if args.ignore_errors else "keep-going" if args.keep_going else "fail"
    outcome = execute(
        repo, pipeline, plan, jobs=max(1, args.jobs), on_error=on_error,
        force_downstream=args.force_downstream, env=env, out=out, exclude=reported,
        pull=args.pull, cwd=cwd, allow_missing=args.allow_missing,
    )
    graph = pipeline.graph
    ran.extend(s.addressing for s in plan.to_run
               if (outcome.results.get(s.addressing) or {}).get("status") in REPRODUCED)

    def shown(address: str) -> str:
        return shown_address(graph.by_address[address], repo.root, cwd)

    if outcome.engine_error and not outcome.failed:
        raise ReproductionError(
            f"{outcome.engine_error} (run files kept in '{os.path.relpath(outcome.run_dir or '')}')"
        )
    if outcome.failed and on_error == "fail":
        first = outcome.failed[0]
        detail = outcome.results.get(first, {}).get("error") or "the stage's job failed"
        raise ReproductionError(f"failed to reproduce '{shown(first)}': {detail}")
    leftover = outcome.unprinted + outcome.trailing if on_error != "fail" else outcome.trailing
    if leftover and outcome.ends_reproduced:
        print("", file=out)
    _print_lines(leftover, out)
    if outcome.failed and on_error == "keep-going":
        names = _join([f"'{shown(a)}'" for a in outcome.failed])
        segment = " stages:" if len(outcome.failed) > 1 else ""
        raise ReproductionError(f"failed to reproduce{segment} {names}")
    reproduced = [a for a in ran if a in outcome.results]
    changed_files: list[str] = []
    for result in outcome.results.values():
        changed_files += [f for f in result.get("changed_files") or [] if f not in changed_files]
    if summary:
        _git_hint(repo, changed_files, cwd, out)
        print(PUSH_HINT if reproduced or reported else UP_TO_DATE, file=out)
    return 0


def _print_lines(lines: list[tuple[str, str]], out: TextIO) -> None:
    for stream, line in lines:
        print(line, file=sys.stderr if stream == "err" else out, flush=True)


def _join(words: list[str]) -> str:
    """DVC's ``humanize.join``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _git_hint(repo: Repo, changed: list[str], cwd: str, out: TextIO) -> None:
    """DVC's "To track the changes with git" hint (``scm_context``), in a git repo.

    With ``core.autostage`` DVC stages the files instead; dvcexp does not run
    git for the user, so it prints nothing then.
    """
    if not changed or not os.path.exists(os.path.join(repo.root, ".git")):
        return
    if unquote(repo.config.get("core", {}).get("autostage", "")).lower() in ("true", "1"):
        return
    files = " ".join(shlex.quote(os.path.relpath(os.path.join(repo.root, f), cwd))
                     for f in changed)
    print(f"\nTo track the changes with git, run:\n\n\tgit add {files}\n\n"
          "To enable auto staging, run:\n\n\tdvc config core.autostage true", file=out)


def _dry_run(
    repo: Repo,
    pipeline: Pipeline,
    plan: Plan,
    args: argparse.Namespace,
    out: TextIO,
    cwd: str,
    summary: bool = True,
) -> int:
    """``--dry``: DVC's lines for each planned stage, nothing changed on disk.

    As DVC, a stage "would run" when it changed, is forced (``-f``) or follows
    one that would run (``--force-downstream``); DVC's dry run also announces a
    run-cache hit for the state recorded in ``dvc.lock`` before printing the
    commands (``stage_cache.restore(dry=True)`` never hashes the workspace).
    """
    graph = pipeline.graph
    forced = set(plan.forced)
    changed = set(plan.changed)
    if args.allow_missing:
        changed = {a for a in changed if a in {s.addressing for s in plan.to_run}}
    previous = False
    reproduced = False
    for stage in plan.order:
        address = stage.addressing
        shown = shown_address(stage, repo.root, cwd)
        if previous:
            print("", file=out)
        if stage.frozen:
            _print_lines([frozen_warning(stage, shown)], out)
        force = address in forced
        if not force and address not in changed:
            prefix = "" if stage.data_source else "Stage "
            print(f"{prefix}'{shown}' didn't change, skipping", file=out)
            previous = False
            continue
        previous = reproduced = True
        if args.force_downstream and not args.single_item:
            forced.update(graph.downstream.get(address, []))
        if stage.frozen or not stage.cmd:
            continue
        if not force and _dry_cache_hit(repo, stage, plan.changed.get(address) or []):
            print(f"Stage '{shown}' is cached - skipping run, checking out outputs", file=out)
        print(f"Running stage '{shown}':", file=out)
        for command in stage.cmd if isinstance(stage.cmd, list) else [stage.cmd]:
            print(f"> {command}", file=out)
    if summary:
        print(PUSH_HINT if reproduced else UP_TO_DATE, file=out)
    return 0


def _dry_cache_hit(repo: Repo, stage: Stage, status: list[object]) -> bool:
    """Whether DVC's dry run says "is cached" (see :func:`_dry_run`)."""
    from dvcexp_plugin.cache import ObjectCache
    from dvcexp_plugin.lock import build_entry
    from dvcexp_plugin.lock_read import read_lockfile
    from dvcexp_plugin.stage_record import StageRecorder
    from dvcexp_plugin.stage_state import can_run_cache
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    if not can_run_cache(stage):
        return False
    locked = read_lockfile(os.path.join(repo.root, stage.lockfile)).get(stage.name) or {}
    if not locked:
        return False
    with StatCache(repo.root) as stat_cache:
        recorder = StageRecorder(repo.root, stage, ObjectCache.for_repo(repo.root),
                                 WorkspaceHasher(repo.root, stat_cache))
        deps_changed = any(isinstance(i, dict) and "changed deps" in i for i in status)
        outs_hashed = all("md5" in i for i in locked.get("outs") or []) and len(
            locked.get("outs") or []) == len(stage.outs)
        if locked.get("cmd") == stage.cmd and not deps_changed and outs_hashed:
            entry: dict[str, Any] | None = locked
        else:
            entry = recorder.run_cache_lookup(build_entry(
                stage.cmd, list(locked.get("deps") or []), dict(locked.get("params") or {}), []
            ))
        return entry is not None and recorder.outputs_restorable(entry)


def _downstream_within(pipeline: Pipeline, plan: Plan, seeds: set[str]) -> set[str]:
    """``seeds`` and every planned stage below them (frozen stages cut the graph)."""
    graph = pipeline.graph
    planned = {s.addressing for s in plan.order}
    found: set[str] = set()
    todo = [a for a in seeds if a in planned]
    while todo:
        node = todo.pop()
        if node in found:
            continue
        found.add(node)
        todo.extend(d for d in graph.downstream.get(node, [])
                    if d in planned and not graph.by_address[d].frozen)
    return found


def _only_missing(pipeline: Pipeline, plan: Plan, checker: StatusChecker, address: str) -> bool:
    """DVC's ``changed(allow_missing=True)`` is False: only missing data changed.

    Outputs may be deleted or not in the cache; deps may be deleted, unless the
    upstream stage's lock records a different hash for that path than this
    stage's lock (then the dep counts as modified). Any other change counts.
    """
    stage = pipeline.graph.by_address[address]
    status = plan.changed.get(address) or []
    if stage.always_changed or stage.is_callback:
        return False
    locked_deps = {i.get("path"): i.get("md5") for i in checker.lock_entry(stage).get("deps") or []}
    shown_deps = {checker.show(stage.repo_path(d)): d for d in stage.deps}
    upstream_outs: dict[str, Any] = {}
    for up in pipeline.graph.upstream.get(address, []):
        up_stage = pipeline.graph.by_address[up]
        for item in checker.lock_entry(up_stage).get("outs") or []:
            upstream_outs[up_stage.repo_path(item.get("path", ""))] = item.get("md5")
    for item in status:
        if not isinstance(item, dict):
            return False  # "changed command", "always changed"
        for section, changes in item.items():
            for path, state in changes.items():
                if section == "changed outs" and state in ("deleted", "not in cache"):
                    continue
                if section == "changed deps" and state == "deleted" and path in shown_deps:
                    dep = shown_deps[path]
                    repo_path = stage.repo_path(dep)
                    if repo_path in upstream_outs and upstream_outs[repo_path] != locked_deps.get(
                        dep
                    ):
                        return False
                    continue
                return False
    return True


def _ask(prompt: str) -> bool:
    if not sys.stdin.isatty():
        raise DvcExpError("--interactive needs a terminal to ask on; run without -i")
    return input(prompt).strip().lower() in ("y", "yes")
