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
    run.set_defaults(func=run_exp)

    from dvcexp_plugin.commands import exp_manage, exp_show

    exp_show.add_parsers(sub, parents)
    exp_manage.add_parsers(sub, parents)


def run_exp(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.experiments.run import run_experiment
    from dvcexp_plugin.plugins import plugin_manager

    repo, pipeline = load_repo_pipeline()
    result = run_experiment(repo, pipeline, args, cwd=os.getcwd(), out=sys.stdout)
    if result.sha and result.ref:
        plugin_manager().hook.dvcexp_experiment_saved(
            name=result.name, ref=result.ref, sha=result.sha, baseline=result.baseline
        )
    return 0
