"""``repro`` of a changed ``.dvc`` file: verify its data, cache it, record the new hash.

DVC prints ``Verifying data sources in stage: 'data/x.dvc'`` and rewrites the
``.dvc`` file with the data's new hash (keys in DVC's order: ``md5``, ``size``,
``nfiles``, ``hash``, ``path``); other keys of the file are kept as they were.
"""
from __future__ import annotations

import os
from typing import Any

from dvcexp_plugin.cache import ObjectCache
from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Stage
from dvcexp_plugin.workspace_hasher import WorkspaceHasher


class DataSourceMissingError(DvcExpError):
    """The data a ``.dvc`` file tracks is missing."""


def commit_data_source(root: str, stage: Stage, hasher: WorkspaceHasher) -> None:
    """Hash, cache and record every output of a data-source stage."""
    from dvcexp_plugin.lock import dumps_yaml

    cache = ObjectCache.for_repo(root)
    path = os.path.join(root, stage.dvcfile)
    from ruamel.yaml import YAML

    with open(path, encoding="utf-8") as fobj:
        data: Any = YAML().load(fobj)
    for item in data.get("outs") or []:
        repo_path = stage.repo_path(item["path"])
        info = hasher.hash(repo_path)
        if info is None:
            raise DataSourceMissingError(
                f"'{repo_path}' tracked by '{stage.dvcfile}' does not exist; restore it with "
                f"'dvc checkout {stage.dvcfile}' or remove the .dvc file"
            )
        if item.get("cache", True):
            if info.is_dir:
                cache.save_tree(os.path.join(root, repo_path), hasher.manifests[info.md5])
            else:
                cache.save_file(os.path.join(root, repo_path), info.md5)
        fresh: dict[str, Any] = {"md5": info.md5, "size": info.size}
        if info.nfiles is not None:
            fresh["nfiles"] = info.nfiles
        if info.isexec:
            fresh["isexec"] = True
        fresh["hash"] = "md5"
        for key in ("md5", "size", "nfiles", "isexec", "hash"):
            if key in item:
                del item[key]
        rest = list(item.items())
        item.clear()
        item.update(fresh)
        item.update(rest)
    text = dumps_yaml(data)
    tmp = path + ".dvcexp-tmp"
    with open(tmp, "w", encoding="utf-8") as fobj:
        fobj.write(text)
    os.replace(tmp, path)
