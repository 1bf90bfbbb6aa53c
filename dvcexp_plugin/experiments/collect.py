"""What ``exp show`` knows about one revision: params, metrics, deps and outs.

The shape is DVC's ``exp show --json`` ``data`` object::

    {"rev", "timestamp", "params": {file: {"data": {...}}},
     "metrics": {file: {"data": {...}} | {"error": {"type", "msg"}}},
     "deps": {path: {"hash", "size", "nfiles"}},
     "outs": {path: {"hash", "size", "nfiles", "use_cache", "is_data_source"}}, "meta": {}}

Files come from the workspace or from a commit's tree; a cached metric is read
from the cache through that revision's ``dvc.lock``, as DVC does. Never imports
snakemake or hydra.
"""
from __future__ import annotations

import json
import os
import posixpath
import tempfile
from collections.abc import Callable
from typing import Any

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.experiments import file_record
from dvcexp_plugin.experiments.compare import extract_metrics
from dvcexp_plugin.pipeline import Pipeline, Stage, load_pipeline
from dvcexp_plugin.pipeline.params_files import parse_py_params
from dvcexp_plugin.pipeline.yamlio import parse_yaml

#: reads a repo-relative file at the revision being collected; None when absent
FileReader = Callable[[str], bytes | None]


def parse_data(path: str, raw: bytes) -> Any:
    """Parse a params or metrics file's bytes by its suffix, as DVC does."""
    text = raw.decode("utf-8")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        return json.loads(text) if text.strip() else {}
    if suffix == ".toml":
        import tomllib

        return tomllib.loads(text)
    if suffix == ".py":
        return parse_py_params(text, path)
    return parse_yaml(text, path) or {}


def lock_entries(
    read: FileReader, stages: list[Stage], parse: Callable[[str, str], Any] = parse_yaml,
) -> dict[str, dict[str, Any]]:
    """``{stage addressing: dvc.lock entry}``; a ``.dvc`` file stands for its own entry.

    :param parse: the YAML parser, ``(text, path) -> data``
    """
    locks: dict[str, dict[str, Any]] = {}
    entries: dict[str, dict[str, Any]] = {}
    for stage in stages:
        if stage.data_source:
            raw = read(stage.dvcfile)
            data = parse(raw.decode(), stage.dvcfile) if raw else None
            entries[stage.addressing] = data if isinstance(data, dict) else {}
            continue
        if stage.lockfile not in locks:
            raw = read(stage.lockfile)
            data = parse(raw.decode(), stage.lockfile) if raw else None
            stages_data = data.get("stages") if isinstance(data, dict) else None
            locks[stage.lockfile] = stages_data if isinstance(stages_data, dict) else {}
        entries[stage.addressing] = locks[stage.lockfile].get(stage.name) or {}
    return entries


def _hash_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {"hash": item.get("md5"), "size": item.get("size"), "nfiles": item.get("nfiles")}


class RevisionCollector:
    """Collects DVC's ``exp show`` data for revisions of one repository.

    :param root: the repository root
    :param pipeline: the workspace pipeline (reused for revisions whose dvc.yaml files
        are the same bytes)
    :param cache_dir: the object cache, for cached metrics

    Parsed files are kept by their bytes: a thousand experiments of one baseline
    share their ``dvc.yaml`` and often their ``dvc.lock`` and params. The parsed
    data ends up in (never copied into) the results, which nothing changes.
    """

    def __init__(self, root: str, pipeline: Pipeline, cache_dir: str) -> None:
        self.root = root
        self.pipeline = pipeline
        self.cache_dir = cache_dir
        self._pipelines: dict[tuple[bytes | None, ...], Pipeline] = {}
        self._workspace_dvcfiles: tuple[bytes | None, ...] | None = None
        self._parsed: dict[tuple[str, bytes], Any] = {}
        self._parsed_yaml: dict[tuple[str, str], Any] = {}

    def workspace_reader(self) -> FileReader:
        def read(path: str) -> bytes | None:
            try:
                with open(os.path.join(self.root, path), "rb") as fobj:
                    return fobj.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None

        return read

    def pipeline_at(self, read: FileReader, list_files: Callable[[], list[str]] | None) -> Pipeline:
        """The pipeline of a revision: the workspace's when its dvc.yaml files match."""
        key = tuple(read(f) for f in self.pipeline.dvcfiles)
        if key == self.workspace_dvcfiles() or list_files is None:
            return self.pipeline
        if key not in self._pipelines:
            self._pipelines[key] = self._resolve_elsewhere(read, list_files())
        return self._pipelines[key]

    def workspace_dvcfiles(self) -> tuple[bytes | None, ...]:
        """The bytes of the workspace pipeline's dvc.yaml files, read once."""
        if self._workspace_dvcfiles is None:
            read = self.workspace_reader()
            self._workspace_dvcfiles = tuple(read(f) for f in self.pipeline.dvcfiles)
        return self._workspace_dvcfiles

    def _parse(self, path: str, raw: bytes) -> Any:
        key = (path, raw)
        if key not in self._parsed:
            self._parsed[key] = parse_data(path, raw)
        return self._parsed[key]

    def _yaml(self, text: str, path: str) -> Any:
        key = (path, text)
        if key not in self._parsed_yaml:
            self._parsed_yaml[key] = parse_yaml(text, path)
        return self._parsed_yaml[key]

    def _resolve_elsewhere(self, read: FileReader, files: list[str]) -> Pipeline:
        wanted = (".yaml", ".yml", ".json", ".toml", ".py", ".lock", ".dvc")
        # a copy of the commit's files: what exp show read is the commit, not these
        with file_record.paused(), tempfile.TemporaryDirectory(prefix="dvcexp-rev-") as tmp:
            for path in files:
                if not path.endswith(wanted):
                    continue
                raw = read(path)
                if raw is None or len(raw) > 4 << 20:
                    continue
                target = os.path.join(tmp, path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as fobj:
                    fobj.write(raw)
            os.makedirs(os.path.join(tmp, ".dvc"), exist_ok=True)
            try:
                pipeline = load_pipeline(tmp)
            except DvcExpError:
                return Pipeline(root=self.root, stages=[], dvcfiles=[])
            return Pipeline(root=self.root, stages=pipeline.stages, dvcfiles=pipeline.dvcfiles)

    def collect(
        self,
        read: FileReader,
        rev: str,
        timestamp: str | None,
        list_files: Callable[[], list[str]] | None = None,
        param_deps: bool = False,
    ) -> dict[str, Any]:
        """DVC's ``data`` object for one revision."""
        pipeline = self.pipeline_at(read, list_files)
        stages = pipeline.stages
        entries = lock_entries(read, stages, self._yaml)
        return {
            "rev": rev,
            "timestamp": timestamp,
            "params": self._params(read, pipeline, param_deps),
            "metrics": self._metrics(read, pipeline, entries),
            "deps": self._deps(stages, entries),
            "outs": self._outs(stages, entries),
            "meta": {},
        }

    # -- sections ---------------------------------------------------------
    def _top_level(self, read: FileReader, pipeline: Pipeline, key: str) -> list[str]:
        paths: list[str] = []
        for dvcfile in pipeline.dvcfiles:
            raw = read(dvcfile)
            try:
                data = self._yaml(raw.decode(), dvcfile) if raw else None
            except DvcExpError:
                continue
            base = posixpath.dirname(dvcfile)
            for item in (data or {}).get(key) or [] if isinstance(data, dict) else []:
                if isinstance(item, str):
                    paths.append(posixpath.normpath(posixpath.join(base, item)))
        return paths

    def _params(self, read: FileReader, pipeline: Pipeline, param_deps: bool) -> dict[str, Any]:
        files: dict[str, tuple[str, ...] | None] = {}
        for stage in pipeline.stages:
            for dep in stage.params:
                path = stage.repo_path(dep.path)
                if dep.keys and files.get(path, ()) is not None:
                    files[path] = tuple(dict.fromkeys((files.get(path) or ()) + dep.keys))
                else:
                    files[path] = None
        if not param_deps:
            for path in self._top_level(read, pipeline, "params") + ["params.yaml"]:
                files[path] = None
            files = {p: None for p in files}
        result: dict[str, Any] = {}
        for path, keys in files.items():
            raw = read(path)
            if raw is None:
                continue
            try:
                data = self._parse(path, raw)
            except (DvcExpError, ValueError) as exc:
                result[path] = {"error": {"type": type(exc).__name__, "msg": str(exc)}}
                continue
            if keys is not None and isinstance(data, dict):
                from dvcexp_plugin.pipeline.params_files import has_key, lookup

                data = {k: lookup(data, k) for k in keys if has_key(data, k)}
            result[path] = {"data": data}
        return result

    def _metrics(
        self, read: FileReader, pipeline: Pipeline, entries: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        cached: dict[str, str] = {}
        paths: list[str] = []
        for stage in pipeline.stages:
            locked = {i.get("path"): i for i in entries.get(stage.addressing, {}).get("outs") or []}
            for out in stage.outputs_of("metrics"):
                path = stage.repo_path(out.path)
                paths.append(path)
                item = locked.get(out.path)
                if out.cache and item and item.get("md5"):
                    cached[path] = str(item["md5"])
        paths += self._top_level(read, pipeline, "metrics")
        for path in dict.fromkeys(paths):
            raw = read(path)
            if raw is None and path in cached:
                raw = self._cache_object(cached[path])
            if raw is None:
                result[path] = {"error": {
                    "type": "FileNotFoundError",
                    "msg": f"[Errno 2] No such file or directory: '{path}'",
                }}
                continue
            try:
                # as DVC: only numbers and strings are metrics; lists and nulls are dropped
                result[path] = {"data": extract_metrics(self._parse(path, raw)) or {}}
            except (DvcExpError, ValueError) as exc:
                result[path] = {"error": {"type": type(exc).__name__, "msg": str(exc)}}
        return result

    def _cache_object(self, md5: str) -> bytes | None:
        path = os.path.join(self.cache_dir, "files", "md5", md5[:2], md5[2:])
        try:
            with open(path, "rb") as fobj:
                return fobj.read()
        except OSError:
            return None

    @staticmethod
    def _deps(stages: list[Stage], entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for stage in stages:
            locked = {i.get("path"): i for i in entries.get(stage.addressing, {}).get("deps") or []}
            for dep in stage.deps:
                path = stage.repo_path(dep)
                result[path] = _hash_fields(locked.get(dep) or {})
        return result

    @staticmethod
    def _outs(stages: list[Stage], entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for stage in stages:
            locked = {i.get("path"): i for i in entries.get(stage.addressing, {}).get("outs") or []}
            for out in stage.outputs_of("outs"):
                path = stage.repo_path(out.path)
                fields = _hash_fields(locked.get(out.path) or {})
                fields.update(use_cache=out.cache, is_data_source=stage.data_source)
                result[path] = fields
        return result
