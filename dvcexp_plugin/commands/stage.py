"""``dvcexp stage list``: the resolved stages, as ``dvc stage list``."""
from __future__ import annotations

import argparse
import json
import os
from typing import Any

from dvcexp_plugin.commands.loading import load_repo_pipeline, select_stages


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    stage = subparsers.add_parser("stage", parents=parents, help="Commands to list stages.")
    stage_sub = stage.add_subparsers(dest="stage_cmd", metavar="COMMAND")
    listing = stage_sub.add_parser(
        "list", parents=parents, help="List stages in the project.",
        description="List stages in the project (the dvc.yaml of the current directory by "
        "default; --all for every dvc.yaml).",
    )
    listing.add_argument("targets", nargs="*", metavar="targets",
                         help="Show stages from a dvc.yaml file or a directory "
                         "('dvc.yaml' by default).")
    listing.add_argument("--all", action="store_true", help="List all of the stages in the repo.")
    listing.add_argument("-R", "--recursive", action="store_true",
                         help="List all stages inside the specified directory.")
    listing.add_argument("--name-only", "--names-only", action="store_true",
                         help="List only stage names.")
    listing.add_argument("--json", action="store_true",
                         help="Print the resolved stages as JSON (dvcexp extension).")
    listing.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dvcexp_plugin.pipeline.describe import describe, stage_as_dict

    repo, pipeline = load_repo_pipeline()
    if args.all:
        stages = pipeline.stages
    else:
        targets = args.targets or ["dvc.yaml"]
        stages = select_stages(pipeline, targets, recursive=args.recursive, cwd=os.getcwd())
    if args.json:
        print(json.dumps([stage_as_dict(s) for s in stages], indent=2))
        return 0
    if args.name_only:
        for stage in stages:
            print(stage.addressing)
        return 0
    rows = [(stage.addressing, describe(stage)) for stage in stages]
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        print(f"{name.ljust(width)}  {text}".rstrip())
    return 0
