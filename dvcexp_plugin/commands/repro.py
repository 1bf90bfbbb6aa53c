"""``dvcexp repro``: DVC's ``repro`` flags, Snakemake's scheduling."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_repro_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags ``repro`` shares with ``exp run``."""
    parser.add_argument("targets", nargs="*", help="Stages to reproduce. 'dvc.yaml' by default.")
    parser.add_argument("-f", "--force", action="store_true",
                        help="Reproduce even if dependencies were not changed.")
    parser.add_argument("-i", "--interactive", action="store_true",
                        help="Ask for confirmation before reproducing each stage.")
    parser.add_argument("-s", "--single-item", action="store_true",
                        help="Reproduce only single data item without recursive "
                        "dependencies check.")
    parser.add_argument("-p", "--pipeline", action="store_true",
                        help="Reproduce the whole pipeline that the specified targets belong to.")
    parser.add_argument("-P", "--all-pipelines", action="store_true",
                        help="Reproduce all pipelines in the repo.")
    parser.add_argument("-R", "--recursive", action="store_true",
                        help="Reproduce all stages in the specified directory.")
    parser.add_argument("--downstream", action="store_true",
                        help="Start from the specified stages when reproducing pipelines.")
    parser.add_argument("--force-downstream", action="store_true",
                        help="Reproduce all descendants of a changed stage even if their direct "
                        "dependencies didn't change.")
    parser.add_argument("--pull", action="store_true",
                        help="Try automatically pulling missing data.")
    parser.add_argument("--allow-missing", action="store_true",
                        help="Skip stages with missing data but no other changes.")
    parser.add_argument("--dry", action="store_true",
                        help="Only print the commands that would be executed without actually "
                        "executing.")
    parser.add_argument("-k", "--keep-going", action="store_true",
                        help="Continue executing, skipping stages having dependencies on the "
                        "failed stages")
    parser.add_argument("--ignore-errors", action="store_true", help="Ignore errors from stages.")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="<number>",
                        help="Run up to N stages at once (default 1: DVC's serial order).")


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "repro", parents=parents, help="Reproduce complete or partial pipelines.",
        description="Reproduce complete or partial pipelines by running their stages as "
        "needed, in the order defined, independent stages in parallel with -j.",
    )
    add_repro_arguments(parser)
    parser.set_defaults(func=run)


def warm_engine(args: argparse.Namespace) -> None:
    """Start Snakemake's import now when this run will use it (``-j N``; not ``--dry``)."""
    uses_engine = getattr(args, "jobs", 1) > 1 or os.environ.get("DVCEXP_ENGINE") == "snakemake"
    if uses_engine and not getattr(args, "dry", False):
        from dvcexp_plugin import engine

        engine.warm_up()


def run(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.repro_flow import reproduce

    warm_engine(args)
    repo, pipeline = load_repo_pipeline()
    return reproduce(repo, pipeline, args, cwd=os.getcwd(), out=sys.stdout)
