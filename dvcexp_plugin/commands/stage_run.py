"""``dvcexp stage-run RULE``: one stage as a job of a user's Snakemake workflow.

The rules printed by ``dvcexp compile`` call this: it resolves the pipeline,
finds the stage behind the rule name and runs it with DVC's rules (skip,
run-cache, run; cache, dvc.lock).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "stage-run", parents=parents, help="Run one stage as a workflow job.",
        description="Run one stage (by rule name or addressing) with DVC's semantics.",
    )
    parser.add_argument("rule", help="Rule name from 'dvcexp compile', or stage addressing.")
    parser.add_argument("--prefix", default="", help="The --prefix given to 'dvcexp compile'.")
    parser.add_argument("-f", "--force", action="store_true", help="Run even if unchanged.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dvcexp_translators.snakemake import rule_names

    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.errors import StageNotFoundError
    from dvcexp_plugin.stage_runner import StageRunner

    repo, pipeline = load_repo_pipeline()
    names = rule_names(pipeline.stages, args.prefix)
    by_rule = {rule: addr for addr, rule in names.items()}
    address = by_rule.get(args.rule, args.rule)
    if address not in pipeline.graph.by_address:
        raise StageNotFoundError(
            f"no stage behind rule '{args.rule}'; regenerate the rules with 'dvcexp compile'"
        )
    stage = pipeline.graph.by_address[address]
    result = StageRunner(repo.root, stage, force=args.force).run()
    for line in result.lock_lines:
        print(line)
    if result.status == "failed":
        print(f"ERROR: failed to reproduce '{address}': {result.error}", file=sys.stderr)
        return 255
    return 0
