"""Shared by commands: find the repo, load its pipeline, pick target stages."""
from __future__ import annotations

import os

from dvcexp_plugin.errors import StageNotFoundError
from dvcexp_plugin.pipeline import Pipeline, Stage, load_pipeline
from dvcexp_plugin.repo import Repo


def load_repo_pipeline() -> tuple[Repo, Pipeline]:
    """The repository around the working directory and all its stages."""
    from dvcexp_plugin.lock import read_lockfile
    from dvcexp_plugin.pipeline.datasources import load_data_stages

    repo = Repo.discover()
    pipeline = load_pipeline(repo.root, parsing_config=repo.parsing_config)
    data = load_data_stages(repo.root)
    if data:
        pipeline = Pipeline(root=repo.root, stages=pipeline.stages + data,
                            dvcfiles=pipeline.dvcfiles)
    for dvcfile in pipeline.dvcfiles:
        # DVC reads each dvc.lock with its dvc.yaml: an invalid lock fails every command
        read_lockfile(os.path.join(repo.root, os.path.dirname(dvcfile), "dvc.lock"))
    return repo, pipeline


def select_stages(
    pipeline: Pipeline, targets: list[str], recursive: bool = False, cwd: str | None = None
) -> list[Stage]:
    """Stages named by targets, in pipeline order, without duplicates.

    With ``recursive``, a directory target means every dvc.yaml below it.
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
            found = pipeline.find(target, cwd=cwd)
        for stage in found:
            chosen.setdefault(stage.addressing, stage)
    order = {s.addressing: i for i, s in enumerate(pipeline.stages)}
    return sorted(chosen.values(), key=lambda s: order[s.addressing])
