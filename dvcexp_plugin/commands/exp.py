"""``dvcexp exp ...``: DVC's experiment commands."""
from __future__ import annotations

import argparse
import json
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

    show = sub.add_parser("show", parents=parents, help="Print experiments.")
    show.add_argument("-a", "--all-branches", action="store_true",
                      help="Show experiments derived from the tip of all Git branches.")
    show.add_argument("-T", "--all-tags", action="store_true",
                      help="Show experiments derived from all Git tags.")
    show.add_argument("-A", "--all-commits", action="store_true",
                      help="Show experiments derived from all Git commits.")
    show.add_argument("-n", "--num", type=int, default=1, metavar="<num>",
                      help="Show the last `num` commits from HEAD.")
    show.add_argument("--rev", action="append", metavar="<commit>",
                      help="Show experiments derived from the specified `<commit>` as baseline.")
    show.add_argument("--no-pager", action="store_true", help="Do not pipe output into a pager.")
    show.add_argument("--hide-workspace", action="store_true", help="Hide workspace row.")
    show.add_argument("--param-deps", action="store_true",
                      help="Show only params that are stage dependencies.")
    show.add_argument("--only-changed", action="store_true",
                      help="Only show metrics/params with values varying across the selected "
                      "experiments.")
    fmt = show.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="Print output in JSON format.")
    fmt.add_argument("--csv", action="store_true", help="Print output in csv format.")
    fmt.add_argument("--md", action="store_true", help="Show tabulated output in Markdown format.")
    show.set_defaults(func=run_show)

    listing = sub.add_parser("list", aliases=["ls"], parents=parents,
                             help="List local experiments.")
    listing.add_argument("-A", "--all-commits", action="store_true",
                         help="List all experiments in the repository.")
    listing.add_argument("--rev", action="append", metavar="<commit>",
                         help="List experiments derived from the specified `<commit>`.")
    names = listing.add_mutually_exclusive_group()
    names.add_argument("--name-only", "--names-only", action="store_true",
                       help="Only output experiment names (without parent commits).")
    names.add_argument("--sha-only", action="store_true",
                       help="Only output experiment commit hashes.")
    listing.set_defaults(func=run_list)


def _context() -> tuple[Any, Any, Any]:
    from dvcexp_plugin.cache import cache_settings
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.experiments.collect import RevisionCollector
    from dvcexp_plugin.git.repo import GitRepo

    repo, pipeline = load_repo_pipeline()
    git = GitRepo.find(repo.root)
    collector = RevisionCollector(repo.root, pipeline, cache_settings(repo.root)[0])
    return repo, git, collector


def run_show(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments import show

    repo, git, collector = _context()
    rows = show.collect_show(
        repo.root, collector, git, revs=args.rev,
        all_baselines=args.all_commits or args.all_branches or args.all_tags,
        num=args.num, hide_workspace=args.hide_workspace, param_deps=args.param_deps,
    )
    if args.json:
        print(json.dumps(rows, indent=4, default=str))
    elif args.csv:
        sys.stdout.write(show.render_csv(rows))
    elif args.md:
        sys.stdout.write(show.render_markdown(rows))
    else:
        sys.stdout.write(show.render_table(rows))
    return 0


def run_list(args: argparse.Namespace) -> int:
    from dvcexp_plugin.git.exp_refs import iter_exp_refs
    from dvcexp_plugin.git.repo import GitRepo

    git = GitRepo.find(os.getcwd())
    refs = iter_exp_refs(git)
    baselines = None if args.all_commits else {git.resolve(r) for r in (args.rev or ["HEAD"])}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in sorted(refs.items(), key=lambda kv: kv[0].name):
        if baselines is None or ref.baseline_sha in baselines:
            grouped.setdefault(ref.baseline_sha, []).append((ref.name, sha))
    for baseline, exps in grouped.items():
        if args.name_only:
            print("\n".join(name for name, _ in exps))
            continue
        if args.sha_only:
            print("\n".join(sha for _, sha in exps))
            continue
        branch = git.head_branch() if git.head_sha() == baseline else None
        print(f"{branch or baseline[:7]}:")
        for name, sha in exps:
            print(f"\t{sha[:7]} [{name}]")
    return 0


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
