"""The workspace as ``exp show`` sees it, kept for the next ``exp show`` while its files stay.

The workspace row (params, metrics, deps and outs as DVC shows them) and the
key of the cached commits (:func:`.show_cache.workspace_key`) need the pipeline:
every ``dvc.yaml`` found and resolved, ``dvc.lock``, params and metrics files,
a YAML parser. They are stored in ``.dvc/tmp/dvcexp/exp-show/workspace.json``
with the state of every file and directory read for them
(:mod:`.file_record`); while those stay unchanged the next run takes the row
and the key from there, and loads the pipeline only if a commit must be read.
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from dvcexp_plugin.experiments import file_record

if TYPE_CHECKING:
    from dvcexp_plugin.experiments.collect import RevisionCollector

#: bump when the shape of the file or of the row changes
_VERSION = 1


def save_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically; a read-only ``.dvc/tmp`` only costs speed."""
    import secrets

    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fobj:
            fobj.write(text)
        os.replace(tmp, path)  # readers see the old file or the new one
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)


class ShowWorkspace:
    """The workspace row and commit-cache key of one repository, for ``--param-deps`` or not.

    :param root: the repository root
    :param param_deps: ``exp show --param-deps``
    """

    def __init__(self, root: str, param_deps: bool) -> None:
        self.root = root
        self.param_deps = param_deps
        name = "workspace-param-deps.json" if param_deps else "workspace.json"
        self.path = os.path.join(root, ".dvc", "tmp", "dvcexp", "exp-show", name)
        self._collector: RevisionCollector | None = None
        self._row: dict[str, Any] | None = None
        self.key = ""
        #: ``[path, state]`` of what the row and key came from; None when not known
        self.files: list[Any] | None = None
        if not self._load():
            self._compute()

    def _load(self) -> bool:
        try:
            with open(self.path, encoding="utf-8") as fobj:
                doc = json.load(fobj)
        except (OSError, ValueError):
            return False  # absent, unreadable or corrupted: computed again
        if not isinstance(doc, dict) or doc.get("version") != _VERSION \
                or doc.get("root") != self.root or not isinstance(doc.get("row"), dict) \
                or not isinstance(doc.get("key"), str):
            return False
        if not file_record.unchanged(doc.get("files")):
            return False
        self._row, self.key, self.files = doc["row"], doc["key"], doc["files"]
        return True

    def _compute(self) -> None:
        from dvcexp_plugin.experiments.show_cache import workspace_key

        # the repository's git directory holds nothing the row depends on but
        # .git/info/exclude, which the walk opens and so is recorded anyway
        with file_record.recording() as recorder:
            collector = self.collector
            self._row = collector.collect(collector.workspace_reader(), "workspace", None,
                                          param_deps=self.param_deps)
            self.key = workspace_key(collector.pipeline, collector.workspace_dvcfiles(),
                                     self.param_deps)
        self.files = file_record.snapshot(recorder.paths(), recorder.started_ns)
        if self.files is not None:
            save_text(self.path, json.dumps({"version": _VERSION, "root": self.root,
                                             "key": self.key, "files": self.files,
                                             "row": self._row}))

    @property
    def collector(self) -> RevisionCollector:
        """The collector of the workspace pipeline, loaded on first use."""
        if self._collector is None:
            from dvcexp_plugin.cache import cache_settings
            from dvcexp_plugin.commands.loading import load_repo_pipeline
            from dvcexp_plugin.experiments.collect import RevisionCollector

            repo, pipeline = load_repo_pipeline()
            self._collector = RevisionCollector(repo.root, pipeline, cache_settings(repo.root)[0])
        return self._collector

    def row(self) -> dict[str, Any]:
        """DVC's ``data`` of the workspace row."""
        assert self._row is not None
        return self._row
