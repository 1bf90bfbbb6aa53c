"""``dvcexp metrics show`` and ``metrics diff``: metrics files, read as DVC reads them.

Never imports snakemake or hydra.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from dvcexp_plugin.commands.exp_show import add_diff_flags

    metrics = subparsers.add_parser("metrics", parents=parents,
                                    help="Commands to display and compare metrics.")
    sub = metrics.add_subparsers(dest="metrics_cmd", metavar="COMMAND")
    show = sub.add_parser("show", parents=parents,
                          help="Print metrics, with optional formatting.")
    show.add_argument("--json", action="store_true", help="Show output in JSON format.")
    show.add_argument("--md", action="store_true",
                      help="Show tabulated output in the Markdown format (GFM).")
    show.add_argument("--precision", type=int, metavar="<n>",
                      help="Round metrics to `n` digits precision after the decimal point. "
                      "Rounds to 5 digits by default.")
    show.set_defaults(func=run_show)

    diff = sub.add_parser("diff", parents=parents,
                          help="Show changes in metrics between commits in the DVC repository, "
                          "or between a commit and the workspace.")
    diff.add_argument("a_rev", nargs="?", help="Old Git commit to compare (defaults to HEAD)")
    diff.add_argument("b_rev", nargs="?",
                      help="New Git commit to compare (defaults to the current workspace)")
    add_diff_flags(diff, precision=True)
    diff.set_defaults(func=run_diff)


def run_show(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.exp_show import context
    from dvcexp_plugin.commands.output import write_json
    from dvcexp_plugin.experiments.compare import DEFAULT_PRECISION, errored_files, metrics_table
    from dvcexp_plugin.experiments.diff import errored_message, revision_data

    _repo, git, collector = context()
    # DVC names the workspace "" when no revision was asked for
    shown = {"": revision_data(git, collector, None)["metrics"]}
    if errored_files(shown[""]):
        print(errored_message([""]), file=sys.stderr)
    if args.json:
        write_json({rev: {"data": files} for rev, files in shown.items()})
    else:
        sys.stdout.write(metrics_table(shown, markdown=args.md,
                                       precision=args.precision or DEFAULT_PRECISION))
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.exp_show import context
    from dvcexp_plugin.commands.output import write_json
    from dvcexp_plugin.experiments.compare import DEFAULT_PRECISION, diff_table
    from dvcexp_plugin.experiments.diff import errored_message, section_diff

    _repo, git, collector = context()
    changes, errored = section_diff(git, collector, "metrics", args.a_rev, args.b_rev,
                                    with_unchanged=args.all)
    if errored:
        print(errored_message(errored), file=sys.stderr)
    if args.json:
        write_json(changes)
    else:
        sys.stdout.write(diff_table(
            changes, "Metric", args.a_rev, args.b_rev, markdown=args.md, no_path=args.no_path,
            precision=args.precision or DEFAULT_PRECISION, round_digits=True,
        ))
    return 0
