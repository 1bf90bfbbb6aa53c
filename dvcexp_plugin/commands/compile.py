"""``dvcexp compile``: print the engine rules for the pipeline (for ``include:``)."""
from __future__ import annotations

import argparse
import os
from typing import Any

from dvcexp_plugin.commands.loading import load_repo_pipeline, select_stages


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compile", parents=parents, help="Print the Snakemake rules of the pipeline.",
        description="Translate stages into engine rules (a Snakefile a Snakemake workflow "
        "can include:). Deterministic: the same pipeline gives the same text.",
    )
    parser.add_argument("targets", nargs="*", help="Stages to translate (all by default).")
    parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
    parser.add_argument("--prefix", default="", help="Prepend this to every rule name.")
    parser.add_argument("--translator", default="snakemake", help="Translator to use.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dvcexp_plugin.plugins import get_translator

    repo, pipeline = load_repo_pipeline()
    stages = pipeline.stages
    if args.targets:
        stages = select_stages(pipeline, args.targets, cwd=os.getcwd())
    translator = get_translator(args.translator, repo.root, args.prefix)
    from dvcexp_plugin.stage_state import directory_outputs

    text = translator.translate(
        stages, pipeline.stages, dir_outputs=directory_outputs(repo.root, pipeline.stages)
    )
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fobj:
            fobj.write(text)
    else:
        print(text, end="")
    return 0
