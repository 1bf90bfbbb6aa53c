"""``exp run`` in the workspace: overrides, repro, one experiment commit, one ref.

The flow, as DVC's workspace executor: check the name and the git identity
before touching anything; apply ``-S`` overrides to the params files; print
``Reproducing experiment '<name>'``; reproduce (stage commands see
``DVC_EXP_NAME`` and ``DVC_EXP_BASELINE_REV``); then snapshot the tree DVC
commits (tracked changes, staged new files, the dvc.yaml/dvc.lock of stages
that ran, their untracked non-ignored deps and uncached outputs, top-level
params/metrics/plots files), commit it with the baseline as only parent, and
publish it compare-and-swap at ``refs/exps/<b[:2]>/<b[2:]>/<name>`` through the
``dvcexp_snapshot`` hook. HEAD never moves; the results stay in the workspace.
"""
from __future__ import annotations

import argparse
import os
import posixpath
from dataclasses import dataclass
from typing import Any, TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline, Stage
from dvcexp_plugin.pipeline.stage import is_url
from dvcexp_plugin.repo import Repo


class ExperimentExistsError(DvcExpError):
    """An experiment of that name already exists for the baseline."""


@dataclass
class ExperimentResult:
    """What ``exp run`` made."""

    name: str
    baseline: str
    ref: str | None
    sha: str | None


def exp_message(ran_entries: dict[str, Any], message: str | None) -> str:
    """DVC's commit message: ``dvc: commit experiment <sha256 of the ran stages>``."""
    if message:
        return message
    from dvcexp_plugin.experiments.names import exp_hash

    return f"dvc: commit experiment {exp_hash(ran_entries)}"


def top_level_files(root: str, pipeline: Pipeline) -> list[str]:
    """Existing files named by top-level ``params``, ``metrics`` and ``plots`` (DVC adds them)."""
    from dvcexp_plugin.pipeline.yamlio import load_yaml_file

    found: list[str] = []
    for dvcfile in pipeline.dvcfiles:
        data = load_yaml_file(os.path.join(root, dvcfile), shown_as=dvcfile) or {}
        base = posixpath.dirname(dvcfile)
        for key in ("params", "metrics"):
            for item in data.get(key) or []:
                if isinstance(item, str):
                    found.append(posixpath.normpath(posixpath.join(base, item)))
        plots = data.get("plots") or []
        for item in plots if isinstance(plots, list) else []:
            if isinstance(item, str):
                found.append(posixpath.normpath(posixpath.join(base, item)))
            elif isinstance(item, dict):
                for name, props in item.items():
                    ys = (props or {}).get("y") if isinstance(props, dict) else None
                    sources = list(ys) if isinstance(ys, dict) else [name]
                    for source in sources:
                        found.append(posixpath.normpath(posixpath.join(base, str(source))))
    return [p for p in found if os.path.exists(os.path.join(root, p))]


def stage_files(root: str, stage: Stage, git: Any) -> list[str]:
    """DVC's ``_get_stage_files``: what a stage that ran adds to the experiment commit."""
    files = [stage.dvcfile]
    if not stage.data_source:
        files.append(stage.lockfile)
    files = [f for f in files if os.path.exists(os.path.join(root, f))]
    for dep in stage.deps:
        path = stage.repo_path(dep)
        if is_url(dep) or path.startswith("../") or not os.path.exists(os.path.join(root, path)):
            continue
        if not git.is_ignored(path):
            files.append(path)
    for out in stage.outs:
        path = stage.repo_path(out.path)
        if not out.cache and os.path.exists(os.path.join(root, path)) and not git.is_ignored(path):
            files.append(path)
    return files



def choose_name(git: Any, baseline: str, name: str | None, force: bool) -> str:
    """``-n`` checked (git's ref rules; an existing name needs ``-f``), or a random name."""
    from dvcexp_plugin.experiments.names import random_name, validate_name
    from dvcexp_plugin.git.exp_refs import ExpRef

    if not name:
        return random_name(lambda n: git.get_ref(ExpRef(baseline, n).ref) is not None)
    validate_name(name)
    if git.get_ref(ExpRef(baseline, name).ref) and not force:
        raise ExperimentExistsError(
            f"Experiment conflicts with existing experiment '{name}'. To overwrite the "
            "existing experiment run: dvcexp exp run -f ..."
        )
    return name


def experiment_contents(
    root: str, pipeline: Pipeline, ran: list[str], git: Any
) -> tuple[dict[str, Any], list[str]]:
    """The lock entries of the stages that ran (for the message) and the untracked
    files DVC adds to the experiment commit (never cached outputs)."""
    from dvcexp_plugin.lock_read import read_lockfile

    by_address = {s.addressing: s for s in pipeline.stages}
    entries: dict[str, Any] = {}
    for address in ran:
        stage = by_address.get(address)
        if stage is not None and not stage.data_source:
            lock = read_lockfile(os.path.join(root, stage.lockfile))
            entries[stage.name] = lock.get(stage.name) or {}
    extra: list[str] = []
    # the tree holds the files of every stage, run or skipped: a no-op re-run gives
    # the same tree as the run before it (seen with DVC 3.67.1)
    for stage in pipeline.stages:
        extra.extend(stage_files(root, stage, git))
    extra.extend(top_level_files(root, pipeline))
    cached = {stage.repo_path(o.path) for stage in pipeline.stages for o in stage.outs
              if o.cache}
    kept = [p for p in sorted(set(extra))
            if not any(p == c or p.startswith(c + "/") for c in cached)]
    return entries, kept

def experiment_git(root: str) -> Any:
    """The git repository that experiments of the DVC project at ``root`` are saved in.

    :raises DvcExpError: the project is a subdirectory of its git repository
        (``dvc init --subdir``), which dvcexp does not save experiments for yet;
        checked before anything changes
    """
    from dvcexp_plugin.git.repo import GitRepo

    git = GitRepo.find(root)
    if os.path.realpath(git.root) != os.path.realpath(root):
        rel = os.path.relpath(root, git.root)
        raise DvcExpError(
            f"the DVC project is in '{rel}', a subdirectory of its git repository "
            "(dvc init --subdir); dvcexp saves experiments only for a project at the "
            "repository's root: use 'dvc exp' here"
        )
    return git


def run_experiment(
    repo: Repo,
    pipeline: Pipeline,
    args: argparse.Namespace,
    cwd: str,
    out: TextIO,
) -> ExperimentResult:
    """``dvcexp exp run`` in the workspace (see module docstring)."""
    from dvcexp_plugin import params as params_mod
    from dvcexp_plugin.git.exp_refs import ExpRef
    from dvcexp_plugin.plugins import plugin_manager
    from dvcexp_plugin.repro_flow import reproduce

    git = experiment_git(repo.root)
    baseline = git.head_sha()
    git.identity("author")  # fail before anything changes when git has no identity
    name = choose_name(git, baseline, args.name, bool(args.force))
    overrides = params_mod.parse_set_params(list(args.set_param or []))
    if overrides:
        params_mod.reject_sweeps(overrides)
        params_mod.apply_all(cwd, overrides)
    print(f"Reproducing experiment '{name}'", file=out)
    env = {"DVC_EXP_NAME": name, "DVC_EXP_BASELINE_REV": baseline}
    ran: list[str] = []
    if overrides:
        # reload: -S may change interpolated values of the pipeline
        from dvcexp_plugin.commands.loading import load_repo_pipeline

        repo, pipeline = load_repo_pipeline()
    reproduce(repo, pipeline, args, cwd=cwd, out=out, env=env, ran=ran, summary=False)
    if getattr(args, "dry", False):
        return ExperimentResult(name=name, baseline=baseline, ref=None, sha=None)
    # the hash covers only the stages that ran; the tree, every stage's files
    entries, extra = experiment_contents(repo.root, pipeline, ran, git)
    for files in overrides:
        path = posixpath.normpath(posixpath.join(os.path.relpath(cwd, repo.root), files))
        if os.path.exists(os.path.join(repo.root, path)):
            extra.append(path)
    message = exp_message(entries, getattr(args, "message", None))
    ref = ExpRef(baseline, name).ref
    # a firstresult hook: the sha itself (or None)
    sha = plugin_manager().hook.dvcexp_snapshot(
        git=git, baseline=baseline, ref=ref, paths=sorted(set(extra)), message=message,
        force=bool(args.force),
    )
    print("", file=out)
    print(f"Ran experiment(s): {name}", file=out)
    print("Experiment results have been applied to your workspace.", file=out)
    return ExperimentResult(name=name, baseline=baseline, ref=ref, sha=sha)
