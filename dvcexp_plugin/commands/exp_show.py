"""``dvcexp exp show``, ``exp list`` and ``exp diff``: read-only views of experiments.

Nothing here imports snakemake or hydra (a test checks ``sys.modules``).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def add_rev_selection(parser: argparse.ArgumentParser, command: str, default: bool) -> None:
    """DVC's ``-A``, ``--rev`` and ``-n`` flags."""
    parser.add_argument("-A", "--all-commits", action="store_true",
                        help=f"{command} all experiments in the repository "
                        "(overrides `--rev` and `--num`).")
    suffix = " (HEAD by default)" if default else ""
    parser.add_argument("--rev", action="append", metavar="<commit>",
                        help=f"{command} experiments derived from the specified `<commit>` as "
                        f"baseline{suffix}.")
    parser.add_argument("-n", "--num", type=int, default=1, metavar="<num>",
                        help=f"{command} experiments from the last `num` commits (first "
                        "parents) starting from the `--rev` baseline. Give a negative value to "
                        "include all first-parent commits.")


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``show``, ``list`` and ``diff`` under ``exp``."""
    show = sub.add_parser("show", parents=parents, help="Print experiments.")
    add_rev_selection(show, "Show", default=True)
    show.add_argument("-a", "--all-branches", action="store_true",
                      help="Show experiments derived from the tip of all Git branches.")
    show.add_argument("-T", "--all-tags", action="store_true",
                      help="Show experiments derived from all Git tags.")
    show.add_argument("--no-pager", action="store_true", help="Do not pipe output into a pager.")
    show.add_argument("--only-changed", action="store_true",
                      help="Only show metrics/params with values varying across the selected "
                      "experiments.")
    show.add_argument("--drop", action="append", default=[], metavar="<regex_pattern>",
                      help="Remove the columns matching the specified regex pattern.")
    show.add_argument("--keep", action="append", default=[], metavar="<regex_pattern>",
                      help="Preserve the columns matching the specified regex pattern.")
    show.add_argument("--param-deps", action="store_true",
                      help="Show only params that are stage dependencies.")
    show.add_argument("--sort-by", metavar="<metric/param>",
                      help="Sort related experiments by the specified metric or param.")
    show.add_argument("--sort-order", choices=("asc", "desc"), default="asc",
                      help="Sort order to use with --sort-by. Defaults to ascending ('asc').")
    show.add_argument("--hide-workspace", action="store_true", help="Hide workspace row.")
    show.add_argument("--precision", type=int, metavar="<n>",
                      help="Round metrics/params to `n` digits precision after the decimal "
                      "point (CSV only, as DVC; tables use 5).")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="Print output in JSON format.")
    fmt.add_argument("--csv", action="store_true", help="Print output in csv format.")
    fmt.add_argument("--md", action="store_true", help="Show tabulated output in Markdown format.")
    show.set_defaults(func=run_show)

    listing = sub.add_parser("list", aliases=["ls"], parents=parents,
                             help="List local experiments.")
    add_rev_selection(listing, "List", default=True)
    names = listing.add_mutually_exclusive_group()
    names.add_argument("--name-only", "--names-only", action="store_true",
                       help="Only output experiment names (without parent commits).")
    names.add_argument("--sha-only", action="store_true",
                       help="Only output experiment commit hashes.")
    listing.set_defaults(func=run_list)

    diff = sub.add_parser("diff", parents=parents, help="Show changes between experiments.")
    diff.add_argument("a_rev", nargs="?", help="Old experiment to compare (defaults to HEAD)")
    diff.add_argument("b_rev", nargs="?",
                      help="New experiment to compare (defaults to the current workspace)")
    add_diff_flags(diff, precision=True)
    diff.add_argument("--param-deps", action="store_true",
                      help="Show only params that are stage dependencies.")
    diff.set_defaults(func=run_diff)


def add_diff_flags(parser: argparse.ArgumentParser, precision: bool) -> None:
    """``--all``, ``--json``, ``--md``, ``--no-path`` (and ``--precision``) of the diff commands."""
    parser.add_argument("--all", action="store_true",
                        help="Show unchanged metrics/params as well.")
    parser.add_argument("--json", action="store_true", help="Show output in JSON format.")
    parser.add_argument("--md", action="store_true",
                        help="Show tabulated output in the Markdown format (GFM).")
    parser.add_argument("--no-path", action="store_true",
                        help="Don't show metric/param path.")
    if precision:
        parser.add_argument("--precision", type=int, metavar="<n>",
                            help="Round metrics/params to `n` digits precision after the "
                            "decimal point. Rounds to 5 digits by default.")


def context() -> tuple[Any, Any, Any]:
    """``(repo, git, collector)`` for the repository around the working directory."""
    from dvcexp_plugin.cache import cache_settings
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.experiments.collect import RevisionCollector
    from dvcexp_plugin.git.repo import GitRepo

    repo, pipeline = load_repo_pipeline()
    git = GitRepo.find(repo.root)
    collector = RevisionCollector(repo.root, pipeline, cache_settings(repo.root)[0])
    return repo, git, collector


def run_show(args: argparse.Namespace) -> int:
    from dvcexp_plugin.repo import find_root

    root = find_root()
    output = None
    if args.json and not args.rev:
        from dvcexp_plugin.experiments.show_output import ShowOutput

        flags = [args.all_branches, args.all_tags, args.all_commits, args.num,
                 args.hide_workspace, args.param_deps, sys.stdout.isatty()]
        output = ShowOutput(root, flags)
        stored = output.get()
        if stored is not None:
            sys.stdout.write(stored.decode("utf-8"))
            return 0
    from contextlib import nullcontext

    from dvcexp_plugin.experiments import show
    from dvcexp_plugin.experiments.show_workspace import ShowWorkspace
    from dvcexp_plugin.git.repo import GitRepo

    with output.recording() if output else nullcontext() as recorder:
        workspace = ShowWorkspace(root, args.param_deps)
        git = GitRepo.find(root)
        rows = show.collect_show(
            workspace, git, revs=args.rev, all_branches=args.all_branches,
            all_tags=args.all_tags, all_commits=args.all_commits, num=args.num,
            hide_workspace=args.hide_workspace,
        )
    if args.json:
        from dvcexp_plugin.commands.output import json_text

        text = json_text(rows, sys.stdout)
        sys.stdout.write(text)
        if output is not None and recorder is not None:
            output.save(text, recorder, workspace.files)
        return 0
    from dvcexp_plugin.experiments import show_table
    from dvcexp_plugin.experiments.compare import DEFAULT_PRECISION

    # as DVC: --precision only reaches the CSV; tables always round to 5 digits
    table = show_table.build_table(
        rows, fill="" if args.csv else show_table.FILL_VALUE,
        precision=(args.precision or None) if args.csv else DEFAULT_PRECISION,
        iso=args.csv, sort_by=args.sort_by, sort_order=args.sort_order,
    )
    show_table.select_columns(table, keep=args.keep, drop=args.drop,
                              only_changed=args.only_changed, merge_experiment=not args.csv)
    if args.csv:
        sys.stdout.write(show_table.render_csv(table))
    elif args.md:
        sys.stdout.write(show_table.render_markdown(table))
    else:
        sys.stdout.write(show_table.render_rich(table))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments.resolve import describe, first_parent_revs
    from dvcexp_plugin.git.exp_refs import iter_exp_refs
    from dvcexp_plugin.git.repo import GitRepo

    git = GitRepo.find(os.getcwd())
    baselines = None
    if not args.all_commits:
        baselines = set(first_parent_revs(git, args.rev or ["HEAD"], args.num))
    grouped: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in sorted(iter_exp_refs(git).items()):
        if baselines is None or ref.baseline_sha in baselines:
            grouped.setdefault(ref.baseline_sha, []).append((ref.name, sha))
    names = {} if args.name_only or args.sha_only else describe(git, grouped)
    for baseline, exps in grouped.items():
        if not (args.name_only or args.sha_only):
            print(f"{names.get(baseline) or baseline[:7]}:")
        for name, sha in exps:
            if args.name_only:
                print(name)
            elif args.sha_only:
                print(sha)
            else:
                print(f"\t{sha[:7]} [{name}]")
    return 0


def run_diff(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.output import write_json
    from dvcexp_plugin.experiments.compare import DEFAULT_PRECISION, diff_table
    from dvcexp_plugin.experiments.diff import exp_diff

    _repo, git, collector = context()
    result = exp_diff(git, collector, args.a_rev, args.b_rev, with_unchanged=args.all,
                      param_deps=args.param_deps)
    if args.json:
        write_json(result)
        return 0
    precision = args.precision or DEFAULT_PRECISION
    for index, (key, title) in enumerate((("metrics", "Metric"), ("params", "Param"))):
        if index:
            print()  # DVC prints the separator even when a table is empty
        sys.stdout.write(diff_table(
            result[key], title, args.a_rev, args.b_rev, markdown=args.md, no_path=args.no_path,
            on_empty_diff="diff not supported",
            precision=precision if key == "metrics" else None,
        ))
    return 0
