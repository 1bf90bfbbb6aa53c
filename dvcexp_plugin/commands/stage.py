"""``dvcexp stage list``: the resolved stages, as ``dvc stage list``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from dvcexp_plugin.commands.loading import load_repo_pipeline, select_stages


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    stage = subparsers.add_parser("stage", parents=parents, help="Commands to list stages.")
    stage_sub = stage.add_subparsers(dest="stage_cmd", metavar="COMMAND")
    listing = stage_sub.add_parser(
        "list", parents=parents, help="List stages in the project.",
        description="List stages in the project (the dvc.yaml of the current directory by "
        "default; --all for every dvc.yaml and .dvc file).",
    )
    listing.add_argument("targets", nargs="*", metavar="targets",
                         help="Show stages from a dvc.yaml file or a directory "
                         "('dvc.yaml' by default).")
    listing.add_argument("--all", action="store_true", help="List all of the stages in the repo.")
    listing.add_argument("--fail", action="store_true",
                         help="Fail immediately, do not suppress any syntax errors.")
    listing.add_argument("-R", "--recursive", action="store_true",
                         help="List all stages inside the specified directory.")
    listing.add_argument("--name-only", "--names-only", action="store_true",
                         help="List only stage names.")
    listing.add_argument("--json", action="store_true",
                         help="Print the resolved stages as JSON (dvcexp extension; the fields "
                         "of the corpus' expected_stages.json).")
    listing.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dvcexp_plugin.pipeline.describe import display_address, stage_as_dict, stage_list_rows

    cwd = os.getcwd()
    tolerant = args.all and not args.fail and not args.json
    skipped: list[str] = []
    repo, pipeline = load_repo_pipeline(
        onerror=(lambda path, exc: skipped.append(path)) if tolerant else None
    )
    if args.all:
        stages = pipeline.stages
    else:
        # DVC keeps the order in which the targets were typed
        stages = []
        seen: set[str] = set()
        for target in args.targets or ["dvc.yaml"]:
            for stage in select_stages(pipeline, [target], recursive=args.recursive, cwd=cwd):
                if stage.addressing not in seen:
                    seen.add(stage.addressing)
                    stages.append(stage)
    if args.json:
        print(json.dumps([stage_as_dict(s) for s in stages], indent=2))
        return 0
    if args.name_only:
        for stage in stages:
            print(display_address(stage, repo.root, cwd))
        return 0
    from dvcexp_plugin.pipeline.describe import format_table

    text = format_table(stage_list_rows(stages, repo.root, cwd))
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
