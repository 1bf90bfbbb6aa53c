"""``exp save``: commit the workspace as an experiment without running anything.

As DVC 3.x: every stage (or the ``targets``) is committed first, as ``dvc commit
--force`` does (outputs hashed into the cache, ``dvc.lock`` updated with the
current deps, params and outs); then the experiment commit gets the tracked
changes (``git add -u``), staged files, the files named by top-level
``metrics``/``params``/``plots``, an untracked ``dvc.lock`` and the ``-I``
paths. Other untracked files are left out and listed in a warning. The commit's
only parent is HEAD, its message ``dvc: commit experiment <hash>`` where the
hash covers the lock entries of the committed stages. HEAD does not move and
the workspace keeps its files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline, Stage


class OutputDoesNotExistError(DvcExpError):
    """A stage's output is missing, so the stage cannot be committed."""


@dataclass
class SavedExperiment:
    """What ``exp save`` made."""

    name: str
    baseline: str
    ref: str
    sha: str
    #: untracked files left out of the commit (DVC warns about them)
    untracked: list[str] = field(default_factory=list)


def save(
    root: str,
    pipeline: Pipeline,
    *,
    name: str | None = None,
    force: bool = False,
    include_untracked: list[str] | None = None,
    message: str | None = None,
    stages: list[Stage] | None = None,
    cwd: str | None = None,
    out: TextIO | None = None,
) -> SavedExperiment:
    """Save the workspace as experiment ``name`` (random when None); see the module docstring.

    :param stages: stages to commit (default: all of the pipeline)
    :param include_untracked: untracked paths (relative to ``cwd``) to commit as well
    :param out: where the ``Updating lock file`` lines go
    :raises ExperimentExistsError: ``name`` exists for HEAD and ``force`` is not set
    """
    from dvcexp_plugin.experiments.manage import ExperimentExistsError
    from dvcexp_plugin.experiments.names import random_name, validate_name
    from dvcexp_plugin.experiments.run import exp_message, experiment_git, top_level_files
    from dvcexp_plugin.git.exp_refs import ExpRef
    from dvcexp_plugin.plugins import plugin_manager

    git = experiment_git(root)
    baseline = git.head_sha()
    git.identity("author")  # fail before anything changes when git has no identity
    if name:
        validate_name(name)
        if git.get_ref(ExpRef(baseline, name).ref) and not force:
            raise ExperimentExistsError(name, "save")
    else:
        name = random_name(lambda n: git.get_ref(ExpRef(baseline, n).ref) is not None)
    entries = commit_stages(root, stages if stages is not None else pipeline.stages, out)
    extra = top_level_files(root, pipeline)
    status = git.status()
    untracked = set(status.untracked)
    extra += [s.lockfile for s in pipeline.stages if s.lockfile in untracked]
    base = cwd or root
    for path in include_untracked or []:
        rel = os.path.relpath(os.path.join(base, path), root)
        extra.append(rel.replace(os.sep, "/"))
    ref = ExpRef(baseline, name).ref
    # firstresult hook: the sha itself
    sha = plugin_manager().hook.dvcexp_snapshot(
        git=git, baseline=baseline, ref=ref, paths=sorted(set(extra)),
        message=exp_message(entries, message), force=force,
    ) or git.get_ref(ref)
    included = set(extra)
    left_out = [
        p for p in status.untracked
        if p not in included and not any(p.startswith(d.rstrip("/") + "/") for d in included)
    ]
    return SavedExperiment(name, baseline, ref, str(sha), left_out)


def commit_stages(
    root: str, stages: list[Stage], out: TextIO | None = None
) -> dict[str, dict[str, Any]]:
    """``dvc commit --force`` of ``stages``: cache outputs, write their lock entries.

    :returns: ``{stage name: lock entry}`` of the pipeline stages (for the exp hash)
    :raises OutputDoesNotExistError: a stage's output is missing
    """
    from dvcexp_plugin.cache import ObjectCache
    from dvcexp_plugin.lock_read import read_lockfile
    from dvcexp_plugin.params_values import ParamsReader
    from dvcexp_plugin.stage_record import StageRecorder
    from dvcexp_plugin.stage_state import input_entry
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    cache = ObjectCache.for_repo(root)
    entries: dict[str, dict[str, Any]] = {}
    said: set[str] = set()  # DVC logs "Updating lock file" once per lock file
    with StatCache(root) as stat_cache:
        hasher = WorkspaceHasher(root, stat_cache)
        reader = ParamsReader(root)
        for stage in stages:
            for output in stage.outs:
                if not os.path.lexists(os.path.join(root, stage.repo_path(output.path))):
                    raise OutputDoesNotExistError(
                        f"output '{output.path}' does not exist; run the stage that makes it "
                        f"('dvcexp repro {stage.addressing}') before saving"
                    )
            if stage.data_source:
                _commit_data_source(root, stage, hasher)
                continue
            recorder = StageRecorder(root, stage, cache, hasher)
            entry = recorder.record_outputs(input_entry(stage, hasher, reader))
            for line in recorder.commit_entry(entry):
                if out is not None and line not in said:
                    print(line, file=out)
                said.add(line)
            entries[stage.name] = read_lockfile(os.path.join(root, stage.lockfile)).get(
                stage.name
            ) or entry
    return entries


def _commit_data_source(root: str, stage: Stage, hasher: Any) -> None:
    from dvcexp_plugin.data_source_commit import commit_data_source
    from dvcexp_plugin.pipeline.yamlio import load_yaml_file

    data = load_yaml_file(os.path.join(root, stage.dvcfile), shown_as=stage.dvcfile) or {}
    for item in data.get("outs") or []:
        info = hasher.hash(stage.repo_path(str(item.get("path"))))
        if info is None or info.md5 != item.get("md5"):
            commit_data_source(root, stage, hasher)
            return
