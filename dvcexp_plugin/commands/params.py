"""``dvcexp params diff``: params changed between two revisions (or a revision and the workspace).

Never imports snakemake or hydra.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from dvcexp_plugin.commands.exp_show import add_diff_flags

    params = subparsers.add_parser("params", parents=parents, help="Commands to display params.")
    sub = params.add_subparsers(dest="params_cmd", metavar="COMMAND")
    diff = sub.add_parser(
        "diff", parents=parents,
        help="Show changes in params between commits in the DVC repository, or between a "
        "commit and the workspace.",
    )
    diff.add_argument("a_rev", nargs="?", help="Old Git commit to compare (defaults to HEAD)")
    diff.add_argument("b_rev", nargs="?",
                      help="New Git commit to compare (defaults to the current workspace)")
    add_diff_flags(diff, precision=False)
    diff.add_argument("--deps", action="store_true",
                      help="Show only params that are stage dependencies.")
    diff.set_defaults(func=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.exp_show import context
    from dvcexp_plugin.commands.output import write_json
    from dvcexp_plugin.experiments.compare import diff_table
    from dvcexp_plugin.experiments.diff import errored_message, section_diff

    _repo, git, collector = context()
    changes, errored = section_diff(git, collector, "params", args.a_rev, args.b_rev,
                                    with_unchanged=args.all, param_deps=args.deps)
    if errored:
        print(errored_message(errored), file=sys.stderr)
    if args.json:
        write_json(changes)
    else:
        sys.stdout.write(diff_table(changes, "Param", args.a_rev, args.b_rev, markdown=args.md,
                                    no_path=args.no_path, show_changes=False))
    return 0
