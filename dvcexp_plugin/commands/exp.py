"""``dvcexp exp ...``: DVC's experiment commands.

``exp run`` is here; the read-only views (``show``, ``list``, ``diff``) are in
:mod:`.exp_show`, the ones that move refs or files (``apply``, ``branch``,
``remove``, ``rename``, ``save``) in :mod:`.exp_manage`.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from dvcexp_plugin.errors import DvcExpError


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    exp = subparsers.add_parser("exp", aliases=["experiments"], parents=parents,
                                help="Run and review experiments.")
    sub = exp.add_subparsers(dest="exp_cmd", metavar="COMMAND")

    from dvcexp_plugin.commands.repro import add_repro_arguments

    run = sub.add_parser(
        "run", parents=parents, help="Run or resume an experiment.",
        description="Reproduce the pipeline as an experiment: results are committed to "
        "refs/exps/... and left in the workspace; HEAD does not move.",
    )
    add_repro_arguments(run)
    run.add_argument("-S", "--set-param", "--params", action="append", default=[],
                     metavar="[<filename>:]<param_name>=<param_value>",
                     help="Use the specified param value when reproducing pipelines.")
    run.add_argument("-n", "--name", metavar="<name>",
                     help="Human-readable experiment name. If not specified, a name will be "
                     "auto-generated.")
    run.add_argument("-m", "--message", metavar="<message>",
                     help="Custom commit message to use when committing the experiment.")
    run.add_argument("--queue", action="store_true",
                     help="Stage this experiment in the run queue for future execution.")
    run.add_argument("--temp", dest="tmp_dir", action="store_true",
                     help="Run this experiment in a separate temporary directory instead of "
                     "your workspace.")
    run.add_argument("-C", "--copy-paths", action="append", default=[], metavar="<path>",
                     help="List of ignored or untracked paths to copy into the temp directory. "
                     "Only used if `--temp` or `--queue` is specified.")
    run.add_argument("--rev", metavar="<experiment or commit>",
                     help="Start from this experiment's (or commit's) state instead of HEAD; "
                     "an experiment keeps its baseline. Needs `--temp` or `--queue`.")
    run.add_argument("--reset", action="store_true",
                     help="Remove `persist: true` outputs before running.")
    run.add_argument("--run-all", action="store_true",
                     help="Execute all experiments in the run queue (-j slots, one DAG).")
    run.set_defaults(func=run_exp)

    from dvcexp_plugin.commands import exp_manage, exp_show

    exp_show.add_parsers(sub, parents)
    exp_manage.add_parsers(sub, parents)


def run_exp(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.experiments.run import run_experiment
    from dvcexp_plugin.plugins import plugin_manager

    if args.run_all or not args.queue:
        from dvcexp_plugin.commands.repro import warm_engine

        warm_engine(args)
    repo, pipeline = load_repo_pipeline()
    if args.rev and not (args.tmp_dir or args.queue):
        raise DvcExpError("`--rev` needs `--temp` or `--queue`: a workspace run starts "
                          "from the workspace")
    if args.tmp_dir and not args.queue:
        from dvcexp_plugin.experiments.temp_run import run_temp

        result = run_temp(repo, pipeline, args, cwd=os.getcwd(), out=sys.stdout)
        if result.sha and result.ref:
            plugin_manager().hook.dvcexp_experiment_saved(
                name=result.name, ref=result.ref, sha=result.sha, baseline=result.baseline
            )
        return 0
    if args.queue:
        from dvcexp_plugin.experiments.enqueue import enqueue

        enqueue(repo, pipeline, args, cwd=os.getcwd(), out=sys.stdout)
        if not args.run_all:
            return 0
    if args.run_all:
        return _run_all(repo, args)
    if args.reset:
        from dvcexp_plugin.experiments.temp_run import reset_persist

        reset_persist(repo.root, pipeline)
    result = run_experiment(repo, pipeline, args, cwd=os.getcwd(), out=sys.stdout)
    if result.sha and result.ref:
        plugin_manager().hook.dvcexp_experiment_saved(
            name=result.name, ref=result.ref, sha=result.sha, baseline=result.baseline
        )
    return 0


def _run_all(repo: Any, args: argparse.Namespace) -> int:
    """``exp run --run-all``: run the queue in the foreground, then DVC's summary."""
    from dvcexp_plugin.experiments.queue_store import QueueStore
    from dvcexp_plugin.experiments.queue_worker import try_lock, work

    handle = try_lock(repo.root)
    if handle is None:
        raise DvcExpError("a queue runner is already running ('dvcexp queue status'); "
                          "follow it with 'dvcexp queue logs -f <name>'")
    store = QueueStore(repo.root)
    store.clear_stop()  # a run overrides an earlier `queue stop`
    before = {e.id for e in store.entries() if e.status in ("Success", "Failed")}
    print("Following logs for all queued experiments.")
    try:
        work(repo.root, max(1, args.jobs))
    finally:
        handle.close()
    done = [e for e in store.entries() if e.id not in before]
    failed = [e.name for e in done if e.status == "Failed"]
    succeeded = [e.name for e in done if e.status == "Success"]
    if failed:
        print(f"Failed to reproduce experiment(s) '{', '.join(failed)}'")
    print("")
    print(f"Ran experiment(s): {', '.join(succeeded)}")
    print("To apply the results of an experiment to your workspace run:")
    print("")
    print("\tdvcexp exp apply <exp>")
    return 0
