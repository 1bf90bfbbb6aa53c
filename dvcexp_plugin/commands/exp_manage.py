"""``dvcexp exp apply``, ``branch``, ``remove``, ``rename`` and ``save``."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from dvcexp_plugin.errors import DvcExpError


class RemoteNotSupportedError(DvcExpError):
    """``-g/--git-remote``: dvcexp works on local experiments only."""

    def __init__(self, remote: str) -> None:
        super().__init__(
            f"experiments on Git remote '{remote}' are not supported by dvcexp; use "
            "'dvc exp remove/rename -g' or 'git push <remote> :refs/exps/...'"
        )


class ExpSaveError(DvcExpError):
    """``exp save`` failed (DVC exits 1 here, not 255)."""

    exit_code = 1


def add_parsers(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Register ``apply``, ``branch``, ``remove``, ``rename`` and ``save`` under ``exp``."""
    from dvcexp_plugin.commands.exp_show import add_rev_selection

    apply = sub.add_parser("apply", parents=parents,
                           help="Apply the changes from an experiment to your workspace.")
    apply.add_argument("--no-force", action="store_false", dest="force",
                       help="Fail if this command would overwrite conflicting changes.")
    apply.add_argument("experiment", help="Experiment to be applied.")
    apply.set_defaults(func=run_apply)

    branch = sub.add_parser("branch", parents=parents,
                            help="Promote an experiment to a Git branch.")
    branch.add_argument("experiment", help="Experiment to be promoted.")
    branch.add_argument("branch", nargs="?", default=None,
                        help="Optional name for the new Git branch. Defaults to "
                        "'{experiment-name}-branch'.")
    branch.set_defaults(func=run_branch)

    remove = sub.add_parser("remove", aliases=["rm"], parents=parents, help="Remove experiments.")
    add_rev_selection(remove, "Remove", default=False)
    remove.add_argument("--keep", action="store_true",
                        help="Keep the selected experiments instead of removing them.")
    remote_or_queue = remove.add_mutually_exclusive_group()
    remote_or_queue.add_argument("--queue", action="store_true",
                                 help="Remove all queued experiments.")
    remote_or_queue.add_argument("-g", "--git-remote", metavar="<git_remote>",
                                 help="Name or URL of the Git remote to remove the experiment "
                                 "from (not supported).")
    remove.add_argument("experiment", nargs="*", metavar="<experiment>",
                        help="Experiments to remove.")
    remove.set_defaults(func=run_remove)

    rename = sub.add_parser("rename", parents=parents, help="Rename experiments.")
    rename.add_argument("-g", "--git-remote", metavar="<git_remote>",
                        help="Name or URL of the Git remote (not supported).")
    rename.add_argument("experiment", nargs="?", metavar="<experiment>",
                        help="Experiment to rename.")
    rename.add_argument("name", metavar="<name>", help="New name for the experiment.")
    rename.add_argument("-f", "--force", action="store_true",
                        help="Replace experiment if it already exists.")
    rename.set_defaults(func=run_rename)

    save = sub.add_parser("save", parents=parents, help="Save current workspace as an experiment.")
    save.add_argument("targets", nargs="*",
                      help="Limit DVC caching to these .dvc files and stage names.")
    save.add_argument("-R", "--recursive", action="store_true",
                      help="Cache subdirectories of the specified directory.")
    save.add_argument("-f", "--force", action="store_true",
                      help="Replace experiment if it already exists.")
    save.add_argument("--json", action="store_true", help="Show output in JSON format.")
    save.add_argument("-n", "--name", metavar="<name>",
                      help="Human-readable experiment name. If not specified, a name will be "
                      "auto-generated.")
    save.add_argument("-I", "--include-untracked", action="append", default=[], metavar="<path>",
                      help="List of untracked paths to include in the experiment.")
    save.add_argument("-m", "-M", "--message", metavar="<message>",
                      help="Custom commit message to use when committing the experiment.")
    save.set_defaults(func=run_save)


def _git() -> Any:
    from dvcexp_plugin.git.repo import GitRepo
    from dvcexp_plugin.repo import find_root

    return GitRepo.find(find_root())


def _join(words: list[str]) -> str:
    """DVC's ``humanize.join``: ``'a', 'b' and 'c'``."""
    quoted = [repr(w) for w in words]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def run_apply(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.experiments.apply import apply

    if not args.force:
        print("The --no-force option is deprecated and will be removed in a future DVC release. "
              "To revert the result of 'exp apply', run:\n\n\tgit reset --hard\n"
              "\tgit stash apply refs/exps/apply/stash\n")
    apply(_git(), args.experiment, lambda: load_repo_pipeline()[1])
    print(f"Changes for experiment '{args.experiment}' have been applied to your current "
          "workspace.")
    return 0


def run_branch(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments.manage import branch

    name, exp_name = branch(_git(), args.experiment, args.branch)
    print(f"Git branch '{name}' has been created from experiment '{exp_name}'.\n"
          f"To switch to the new branch run:\n\n\tgit checkout {name}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments.manage import remove
    from dvcexp_plugin.experiments.queue_store import QueueStore
    from dvcexp_plugin.experiments.resolve import InvalidArgumentError
    from dvcexp_plugin.repo import find_root

    if not bool(args.all_commits or args.rev or args.queue) ^ bool(args.experiment):
        raise InvalidArgumentError(
            "Either provide an `experiment` argument, or use the `--rev` or `--all-commits` "
            "or `--queue` flag."
        )
    if args.git_remote:
        raise RemoteNotSupportedError(args.git_remote)
    git = _git()
    removed = remove(git, names=args.experiment, revs=args.rev, num=args.num,
                     all_commits=args.all_commits, keep=args.keep, queue=args.queue,
                     store=QueueStore(find_root()))
    print(f"Removed experiments: {_join(removed)}" if removed else "No experiments to remove.")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    from dvcexp_plugin.experiments.manage import rename
    from dvcexp_plugin.experiments.resolve import InvalidArgumentError

    if not (args.experiment and args.name):
        raise InvalidArgumentError(
            "An experiment to rename and a new experiment name are required."
        )
    if args.git_remote:
        raise RemoteNotSupportedError(args.git_remote)
    renamed = rename(_git(), args.experiment, args.name, force=args.force)
    print(f"Renamed experiments: {_join(renamed)}" if renamed else "No experiments to rename.")
    return 0


def run_save(args: argparse.Namespace) -> int:
    from dvcexp_plugin.commands.loading import load_repo_pipeline, select_stages
    from dvcexp_plugin.commands.output import write_json
    from dvcexp_plugin.experiments.save import save
    from dvcexp_plugin.plugins import plugin_manager

    try:
        repo, pipeline = load_repo_pipeline()
        stages = (select_stages(pipeline, args.targets, args.recursive, cwd=os.getcwd())
                  if args.targets else None)
        saved = save(repo.root, pipeline, name=args.name, force=args.force,
                     include_untracked=args.include_untracked, message=args.message,
                     stages=stages, cwd=os.getcwd(), out=sys.stdout)
    except DvcExpError as exc:
        raise ExpSaveError(f"failed to save experiment - {exc}") from exc
    plugin_manager().hook.dvcexp_experiment_saved(
        name=saved.name, ref=saved.ref, sha=saved.sha, baseline=saved.baseline
    )
    if saved.untracked:
        print("WARNING: The following untracked files were present in the workspace before "
              "saving but will not be included in the experiment commit:\n\t"
              + ", ".join(saved.untracked), file=sys.stderr)
    if args.json:
        write_json({"ref": saved.sha})
    else:
        print(f"Experiment has been saved as: {saved.name}")
    return 0
