"""``dvcexp status``: which stages differ from dvc.lock, worded as ``dvc status``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from dvcexp_plugin.commands.loading import load_repo_pipeline, select_stages

UP_TO_DATE = "Data and pipelines are up to date."
EMPTY_PROJECT = (
    "There are no data or pipelines tracked in this project yet.\n"
    "See <https://dvc.org/doc/start> to get started!"
)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status", parents=parents, help="Show changed stages in the pipeline.",
        description="Show changed stages, compared with their dvc.lock entries.",
    )
    parser.add_argument("targets", nargs="*", help="Limit command scope to these stages or "
                        ".yaml files. Using -R, directories to search can also be given.")
    parser.add_argument("-d", "--with-deps", action="store_true",
                        help="Check status for all dependencies of the specified target.")
    parser.add_argument("-R", "--recursive", action="store_true",
                        help="Show status of all stages in the specified directory.")
    parser.add_argument("--json", action="store_true", help="Show status in JSON format.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dvcexp_plugin.cache import ObjectCache
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.status import StatusChecker, format_status
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    repo, pipeline = load_repo_pipeline()
    stages = pipeline.stages
    if args.targets:
        stages = select_stages(pipeline, args.targets, recursive=args.recursive, cwd=os.getcwd(),
                               outputs=True)
        if args.with_deps:
            wanted = pipeline.graph.upstream_closure([s.addressing for s in stages])
            stages = [pipeline.graph.by_address[a] for a in wanted]
    with StatCache(repo.root) as stat_cache:
        checker = StatusChecker(
            repo.root, ObjectCache.for_repo(repo.root), WorkspaceHasher(repo.root, stat_cache)
        )
        status: dict[str, Any] = {}
        for stage in stages:
            if stage.frozen:
                print(
                    f"WARNING: stage: '{stage.addressing}' is frozen. Its dependencies are "
                    "not going to be shown in the status output.",
                    file=sys.stderr,
                )
            result = checker.status(stage)
            if result:
                status[stage.addressing] = result
    if args.json:
        print(json.dumps(status))
    elif args.quiet:
        pass
    elif status:
        print(format_status(status))
    elif not pipeline.stages:
        print(EMPTY_PROJECT)
    else:
        print(UP_TO_DATE)
    return 1 if (args.quiet and status) else 0
