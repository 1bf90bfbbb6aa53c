"""A stage's current state as a lock entry, and what it takes to restore it.

Shared by the stage runner (decide, record) and by the run-cache: the "state"
of a stage is its lock entry computed from the workspace — the interpolated
``cmd``, the hashes of its deps, the values of its params and (after a run)
the hashes of its outs.
"""
from __future__ import annotations

import os
from typing import Any

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.hashing import HashInfo
from dvcexp_plugin.lock import build_entry, dep_item
from dvcexp_plugin.lock_read import read_lockfile
from dvcexp_plugin.params_values import ParamsReader
from dvcexp_plugin.pipeline import Stage
from dvcexp_plugin.pipeline.params_files import has_key
from dvcexp_plugin.pipeline.stage import is_url
from dvcexp_plugin.workspace_hasher import WorkspaceHasher


class MissingDependencyError(DvcExpError):
    """A stage's dependency does not exist."""


class MissingParamsError(DvcExpError):
    """A tracked params key is absent from its file."""


def item_for(path: str, info: HashInfo) -> dict[str, Any]:
    """A lock ``deps``/``outs`` item from a hash."""
    return dep_item(path, info.md5, info.size, info.nfiles, info.isexec)


def deps_items(
    stage: Stage, hasher: WorkspaceHasher, missing_as: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Lock items for the stage's deps as they are now.

    :param missing_as: path → lock item to use for a dep that is missing
        (``--allow-missing``: a deleted dep is no change)
    :raises MissingDependencyError: a local dependency is missing
    """
    items = []
    missing = []
    for dep in stage.deps:
        if is_url(dep):
            continue  # remote deps are not hashed locally (DVC needs a remote fs)
        info = hasher.hash(stage.repo_path(dep))
        if info is None and missing_as and dep in missing_as:
            items.append(dict(missing_as[dep]))
            continue
        if info is None:
            missing.append(dep)
            continue
        items.append(item_for(dep, info))
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        raise MissingDependencyError(
            f"missing dependencies {names} of stage '{stage.addressing}'; create them or "
            "add the stage that produces them"
        )
    return items


def params_values(stage: Stage, reader: ParamsReader) -> dict[str, dict[str, Any]]:
    """``{params file as written: {key: value}}`` as DVC records it.

    :raises MissingParamsError: a listed key is absent
    """
    values: dict[str, dict[str, Any]] = {}
    for dep in stage.params:
        repo_path = stage.repo_path(dep.path)
        if not os.path.exists(os.path.join(reader.root, repo_path)):
            raise MissingParamsError(
                f"Parameters file '{repo_path}' does not exist (stage '{stage.addressing}'); "
                "create it or remove it from 'params'"
            )
        data = reader.data(repo_path)
        absent = [k for k in dep.keys if not has_key(data, k)]
        if absent:
            raise MissingParamsError(
                f"Parameters '{', '.join(absent)}' are missing from '{repo_path}' "
                f"(stage '{stage.addressing}'); add them or remove them from 'params'"
            )
        values[dep.path] = reader.values(repo_path, dep.keys)
    return values


def input_entry(
    stage: Stage,
    hasher: WorkspaceHasher,
    reader: ParamsReader,
    missing_as: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The lock entry without outs: what decides whether the stage must run.

    :param missing_as: see :func:`deps_items`
    """
    deps = deps_items(stage, hasher, missing_as)
    return build_entry(stage.cmd, deps, params_values(stage, reader), [])


def inputs_match(current: dict[str, Any], locked: dict[str, Any]) -> bool:
    """Whether cmd, deps (by path and md5) and params equal the lock entry's."""
    if not locked or current.get("cmd") != locked.get("cmd"):
        return False

    def digests(entry: dict[str, Any]) -> dict[str, Any]:
        return {i.get("path"): i.get("md5") for i in entry.get("deps") or []}

    if digests(current) != digests(locked):
        return False
    now = current.get("params") or {}
    then = locked.get("params") or {}
    if set(now) != set(then):
        return False
    for file, values in now.items():
        old = then.get(file) or {}
        if set(values) != set(old):
            return False
        for key, value in values.items():
            if isinstance(value, tuple):
                value = list(value)
            if value != old[key]:
                return False
    return True


def can_run_cache(stage: Stage) -> bool:
    """DVC's ``_can_hash``: which stages get run-cache entries."""
    if stage.always_changed or stage.is_callback:
        return False
    if not stage.cmd or not (stage.deps or stage.params) or not stage.outs:
        return False
    if any(is_url(d) for d in stage.deps) or any(is_url(o.path) for o in stage.outs):
        return False
    return not any(o.persist for o in stage.outs)


def directory_outputs(root: str, stages: list[Stage]) -> set[str]:
    """Repo paths of outputs that ``dvc.lock`` records as directories (``.dir``)."""
    found: set[str] = set()
    locks: dict[str, dict[str, Any]] = {}
    for stage in stages:
        if stage.lockfile not in locks:
            locks[stage.lockfile] = read_lockfile(os.path.join(root, stage.lockfile))
        entry = locks[stage.lockfile].get(stage.name) or {}
        for item in entry.get("outs") or []:
            if str(item.get("md5", "")).endswith(".dir"):
                found.add(stage.repo_path(item["path"]))
    return found
