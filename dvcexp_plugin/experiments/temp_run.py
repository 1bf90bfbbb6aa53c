"""``exp run --temp``: one experiment in an isolated workspace, in the foreground.

As DVC's ``TempDirQueue``: the workspace (tracked changes, staged new files,
``-S`` overrides) becomes a commit exactly as a queue entry does — the user's
files are never touched — which is written to
``.dvc/tmp/exps/standalone/tmpXXXXXXXX/`` (cache shared, ``.dvc/config.local``
propagated), plus the ``-C/--copy-paths`` paths. The pipeline is reproduced
there (``DVC_ROOT`` still names the user's repository), the result committed
with the baseline as only parent and published compare-and-swap. The
workspace is removed afterwards; a failed run keeps its stage logs in
``.dvc/tmp/dvcexp/temp-logs/<name>.log``.

Shared with ``--queue``: ``-C`` validation and copying, the untracked-dependency
warning, ``--rev`` (start from an experiment's or commit's tree) and
``--reset`` (remove ``persist: true`` outputs first).
"""
from __future__ import annotations

import argparse
import os
import posixpath
import shutil
import sys
import tempfile
from typing import Any, TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline
from dvcexp_plugin.repo import Repo

TEMP_LOGS = os.path.join(".dvc", "tmp", "dvcexp", "temp-logs")


def check_copy_paths(root: str, cwd: str, paths: list[str]) -> list[str]:
    """``-C`` paths as repo-relative ``/`` paths; a missing one is DVC's error.

    :raises DvcExpError: ``Unable to copy '<path>'. It is not a file or directory.``
    """
    found: list[str] = []
    for path in paths:
        full = os.path.abspath(os.path.join(cwd, path))
        if not (os.path.isfile(full) or os.path.isdir(full)):
            raise DvcExpError(f"Unable to copy '{full}'. It is not a file or directory.")
        rel = os.path.relpath(full, root)
        if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
            raise DvcExpError(f"Unable to copy '{full}'. It is outside the repository.")
        found.append(rel.replace(os.sep, "/"))
    return found


def copy_into(root: str, workspace: str, paths: list[str]) -> None:
    """Copy repo-relative ``paths`` (files or directories) from ``root`` into ``workspace``."""
    for path in paths:
        src = os.path.join(root, path)
        dst = os.path.join(workspace, path)
        try:
            if os.path.isdir(src):
                shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
            elif os.path.isfile(src):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)
            else:
                raise DvcExpError(f"Unable to copy '{src}'. It is not a file or directory.")
        except OSError as exc:
            raise DvcExpError(f"Unable to copy '{src}' to '{dst}'.") from exc


def warn_untracked_deps(git: Any, rev: str, pipeline: Pipeline, root: str,
                        copied: list[str]) -> list[str]:
    """Warn about stage deps present here but absent from ``rev``'s tree and not ``-C``'d.

    Outputs of other stages are not warned about (the pipeline makes them).
    :returns: the paths warned about
    """
    from dvcexp_plugin.pipeline.stage import is_url

    outs = {s.repo_path(o.path) for s in pipeline.stages for o in s.outs}
    tracked = set(git.list_files(rev))
    warned: list[str] = []
    for stage in pipeline.stages:
        for dep in stage.deps:
            path = stage.repo_path(dep)
            if (is_url(dep) or path.startswith("../") or path in warned
                    or not os.path.exists(os.path.join(root, path))):
                continue
            if any(path == o or path.startswith(o + "/") for o in outs):
                continue
            if any(path == c or path.startswith(c + "/") for c in copied):
                continue
            if path in tracked or any(t.startswith(path + "/") for t in tracked):
                continue
            warned.append(path)
            print(f"WARNING: '{path}', a dependency of stage '{stage.addressing}', is not "
                  "tracked by Git and will be missing from the experiment's workspace; "
                  f"copy it with '-C {path}'", file=sys.stderr)
    return warned


def start_point(git: Any, rev: str | None) -> tuple[str | None, str]:
    """``(tree rev or None for the workspace, baseline)`` for ``--rev``.

    An experiment keeps its own baseline; any other commit is its own baseline.
    """
    if not rev:
        return None, git.head_sha()
    from dvcexp_plugin.experiments.resolve import exp_refs_at, resolve_rev

    sha = resolve_rev(git, rev)
    refs = exp_refs_at(git, sha)
    return sha, (refs[0].baseline_sha if refs else sha)


def entry_commit(git: Any, root: str, cwd: str, overrides: dict[str, list[str]],
                 message: str, baseline: str, rev: str | None) -> str:
    """The commit an isolated run starts from: workspace (or ``rev``) + overrides."""
    if rev is None:
        from dvcexp_plugin.experiments.enqueue import _entry_commit

        return _entry_commit(git, cwd, overrides, message, baseline)
    from dvcexp_plugin import params as params_mod

    replaced: dict[str, bytes | None] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for file, values in overrides.items():
            path = posixpath.normpath(posixpath.join(
                os.path.relpath(cwd, root).replace(os.sep, "/"), file))
            data = git.read_file(rev, path)
            target = os.path.join(scratch, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as fobj:
                fobj.write(data or b"")
            text = params_mod.updated_text(target, values, shown_as=file)
            replaced[path] = text.encode("utf-8")
    sha: str = git.commit_workspace(rev, replaced, message, [baseline])
    return sha


def without_cached_outs(paths: list[str], pipeline: Pipeline) -> list[str]:
    """Drop cached outputs (and what is under them) from the paths to commit.

    In an isolated workspace the ``.gitignore`` DVC writes for an output exists only
    there, so the repository's ignore rules do not drop a cached output named as
    another stage's dep; DVC never commits one (``use_scm_ignore``).
    """
    cached = {s.repo_path(o.path) for s in pipeline.stages for o in s.outs if o.cache}
    return [p for p in paths
            if not any(p == c or p.startswith(c + "/") for c in cached)]


def reset_persist(workspace: str, pipeline: Pipeline) -> None:
    """``--reset``: remove every ``persist: true`` output."""
    for stage in pipeline.stages:
        for out in stage.outs:
            if out.persist:
                path = os.path.join(workspace, stage.repo_path(out.path))
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                elif os.path.lexists(path):
                    os.unlink(path)


def _keep_logs(workspace: str, root: str, name: str, ran_order: list[str],
               error: str | None) -> str:
    from dvcexp_plugin.command_log import LOG_DIR

    logs = os.path.join(workspace, LOG_DIR)
    target_dir = os.path.join(root, TEMP_LOGS)
    os.makedirs(target_dir, exist_ok=True)
    target = os.path.join(target_dir, f"{name}.log")
    with open(target, "w", encoding="utf-8") as out:
        out.write(f"Reproducing experiment '{name}'\n")
        names = sorted(os.listdir(logs)) if os.path.isdir(logs) else []
        for entry in names:
            with open(os.path.join(logs, entry), encoding="utf-8", errors="replace") as fobj:
                out.write(f"Running stage '{entry[:-4]}':\n")
                out.write(fobj.read())
        if error:
            out.write(f"ERROR: {error}\n")
    return target


def run_temp(repo: Repo, pipeline: Pipeline, args: argparse.Namespace, cwd: str,
             out: TextIO) -> Any:
    """``dvcexp exp run --temp`` (see module docstring); returns an ExperimentResult."""
    from dvcexp_plugin import params as params_mod
    from dvcexp_plugin.cache import cache_settings
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.experiments.run import (
        ExperimentExistsError,
        ExperimentResult,
        choose_name,
        exp_message,
        experiment_contents,
        experiment_git,
    )
    from dvcexp_plugin.git.exp_refs import ExpRef
    from dvcexp_plugin.repro_flow import reproduce

    git = experiment_git(repo.root)
    git.identity("author")
    rev, baseline = start_point(git, getattr(args, "rev", None))
    name = choose_name(git, baseline, args.name, bool(args.force))
    overrides = params_mod.parse_set_params(list(args.set_param or []))
    if overrides:
        params_mod.reject_sweeps(overrides)
    copied = check_copy_paths(repo.root, cwd, list(getattr(args, "copy_paths", None) or []))
    entry = entry_commit(git, repo.root, cwd, overrides,
                         f"dvc-exp:{baseline}:{baseline}:{name}", baseline, rev)
    warn_untracked_deps(git, entry, pipeline, repo.root, copied)
    standalone = os.path.join(repo.tmp_dir, "exps", "standalone")
    os.makedirs(standalone, exist_ok=True)
    workspace = tempfile.mkdtemp(prefix="tmp", dir=standalone)
    ran: list[str] = []
    old_cwd = os.getcwd()
    try:
        git.materialize(entry, workspace)
        setup_workspace(repo, workspace, cache_settings(repo.root))
        copy_into(repo.root, workspace, copied)
        ws_cwd = os.path.join(workspace, os.path.relpath(cwd, repo.root))
        os.makedirs(ws_cwd, exist_ok=True)
        os.chdir(ws_cwd)
        ws_repo, ws_pipeline = load_repo_pipeline()
        if getattr(args, "reset", False):
            reset_persist(workspace, ws_pipeline)
        print(f"Reproducing experiment '{name}'", file=out)
        env = {"DVC_EXP_NAME": name, "DVC_EXP_BASELINE_REV": baseline,
               "DVC_ROOT": repo.root}
        try:
            reproduce(ws_repo, ws_pipeline, args, cwd=ws_cwd, out=out, env=env, ran=ran,
                      summary=False)
        except DvcExpError as exc:
            _keep_logs(workspace, repo.root, name, ran, str(exc))
            raise
        except BaseException:
            _keep_logs(workspace, repo.root, name, ran, None)
            raise
        if getattr(args, "dry", False):
            return ExperimentResult(name=name, baseline=baseline, ref=None, sha=None)
        entries, extra = experiment_contents(workspace, ws_pipeline, ran, git)
        tree = git.snapshot_dir(entry, workspace, extra)
        sha = git.commit_tree(tree, [baseline], exp_message(entries, args.message))
        ref = ExpRef(baseline, name).ref
        old = git.get_ref(ref)
        if old is not None and not args.force:
            raise ExperimentExistsError(
                f"Experiment conflicts with existing experiment '{name}'. To overwrite the "
                "existing experiment run: dvcexp exp run -f ..."
            )
        git.set_ref(ref, sha, expected_old=old)
    finally:
        os.chdir(old_cwd)
        shutil.rmtree(workspace, ignore_errors=True)
    print("", file=out)
    print(f"Ran experiment(s): {name}", file=out)
    print("To apply the results of an experiment to your workspace run:", file=out)
    print("", file=out)
    print("\tdvcexp exp apply <exp>", file=out)
    return ExperimentResult(name=name, baseline=baseline, ref=ref, sha=sha)


def setup_workspace(repo: Repo, workspace: str, cache: tuple[str, list[str]]) -> None:
    """Propagate ``.dvc/config`` and ``.dvc/config.local``; share the repository's cache."""
    cache_dir, types = cache
    dvc_dir = os.path.join(workspace, ".dvc")
    os.makedirs(dvc_dir, exist_ok=True)
    for name in ("config", "config.local"):
        source = os.path.join(repo.dvc_dir, name)
        if os.path.exists(source):
            shutil.copyfile(source, os.path.join(dvc_dir, name))
    with open(os.path.join(dvc_dir, "config.local"), "a", encoding="utf-8") as fobj:
        # the workspace shares the repository's cache (absolute, so it wins)
        fobj.write(f"\n[cache]\n    dir = {cache_dir}\n    type = {','.join(types)}\n")
