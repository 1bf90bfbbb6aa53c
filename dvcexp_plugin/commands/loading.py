"""Shared by commands: find the repo, load its pipeline, pick target stages."""
from __future__ import annotations

import os
from collections.abc import Callable

from dvcexp_plugin.errors import DvcExpError, StageNotFoundError
from dvcexp_plugin.pipeline import Pipeline, Stage, load_pipeline
from dvcexp_plugin.repo import Repo


def _walk_key(stage: Stage) -> tuple[list[str], str]:
    # a directory's own files come before its subdirectories (a top-down walk)
    directory, _, name = stage.dvcfile.rpartition("/")
    return (directory.split("/") if directory else [], name)


def load_repo_pipeline(
    onerror: Callable[[str, DvcExpError], None] | None = None,
) -> tuple[Repo, Pipeline]:
    """The repository around the working directory and all its stages.

    ``.dvc`` files join the dvc.yaml stages in walk order, as DVC lists them.

    :param onerror: skip broken dvc.yaml/dvc.lock files instead of failing
        (``stage list --all``)
    """
    from dvcexp_plugin.lock_read import read_lockfile
    from dvcexp_plugin.pipeline.datasources import load_data_stages

    repo = Repo.discover()
    pipeline = load_pipeline(repo.root, parsing_config=repo.parsing_config, onerror=onerror)
    broken: set[str] = set()
    for dvcfile in pipeline.dvcfiles:
        # DVC reads each dvc.lock with its dvc.yaml: an invalid lock fails every command
        try:
            read_lockfile(os.path.join(repo.root, os.path.dirname(dvcfile), "dvc.lock"))
        except DvcExpError as exc:
            if onerror is None:
                raise
            onerror(dvcfile, exc)
            broken.add(dvcfile)
    stages = [s for s in pipeline.stages if s.dvcfile not in broken]
    data = load_data_stages(repo.root)
    if data or broken:
        stages = sorted(stages + data, key=_walk_key)
        pipeline = Pipeline(root=repo.root, stages=stages,
                            dvcfiles=[f for f in pipeline.dvcfiles if f not in broken])
    return repo, pipeline


def select_stages(
    pipeline: Pipeline,
    targets: list[str],
    recursive: bool = False,
    cwd: str | None = None,
    outputs: bool = False,
) -> list[Stage]:
    """Stages named by targets, in pipeline order, without duplicates.

    With ``recursive``, a directory target means every dvc.yaml below it; with
    ``outputs`` an output path names the stage producing it (``status``,
    ``repro`` and ``dag`` accept those in DVC).
    """
    chosen: dict[str, Stage] = {}
    for target in targets:
        if recursive:
            base = os.path.relpath(os.path.join(cwd or os.getcwd(), target), pipeline.root)
            base = "" if base == "." else base.replace(os.sep, "/")
            found = [
                s for s in pipeline.stages
                if not base or s.dvcfile == f"{base}/dvc.yaml" or s.dvcfile.startswith(base + "/")
                or s.dvcfile == base
            ]
            if not found:
                raise StageNotFoundError(f"no stages found in '{target}'")
        else:
            found = pipeline.find(target, cwd=cwd, outputs=outputs)
        for stage in found:
            chosen.setdefault(stage.addressing, stage)
    order = {s.addressing: i for i, s in enumerate(pipeline.stages)}
    return sorted(chosen.values(), key=lambda s: order[s.addressing])
