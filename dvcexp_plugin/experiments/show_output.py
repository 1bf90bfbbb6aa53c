"""``exp show --json``'s whole answer, kept for the next identical ``exp show``.

The answer is a function of the command's flags, the refs (which baselines and
experiments there are; commits never change), the local time zone (rendered
timestamps) and the files read to build it: the workspace's (see
:mod:`.show_workspace`), the per-baseline commit caches, the queue's entries,
cached metrics. ``.dvc/tmp/dvcexp/exp-show/output.json`` holds the last answer
after two lines: ``{"version", "files"}`` (a :mod:`.file_record` snapshot) and
the key, the flags, refs and time zone as JSON (compared as text: no hash
module to import, no parse). A warm run reads the refs, stats the files and
writes the stored bytes; it imports neither dulwich nor :mod:`dataclasses`.

Answers from ``--rev`` are not kept: an abbreviated sha may come to name
another commit as objects are added, which no ref or file records.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

from dvcexp_plugin.experiments import file_record
from dvcexp_plugin.experiments.file_record import Recorder
from dvcexp_plugin.experiments.show_workspace import save_text
from dvcexp_plugin.git.gitdir import GitDir

#: bump when the file's shape changes
_VERSION = 1
#: the time zone in force when ``TZ`` is unset
_LOCALTIME = "/etc/localtime"


class ShowOutput:
    """The stored answer of ``exp show`` with the given flags.

    :param root: the repository root
    :param flags: everything of the command line the answer depends on (JSON-able)
    """

    def __init__(self, root: str, flags: list[Any]) -> None:
        self.path = os.path.join(root, ".dvc", "tmp", "dvcexp", "exp-show", "output.json")
        self._git = GitDir.discover(root)
        self._flags = [_VERSION, root, flags]
        self.key = self._key()

    def _key(self) -> bytes:
        zone = [os.environ.get("TZ"), time.tzname, time.timezone, time.altzone]
        git = self._git
        refs = [git.read_ref("HEAD"), git.head_branch(), git.read_refs("refs/")]
        return json.dumps([self._flags, zone, refs]).encode()

    def get(self) -> bytes | None:
        """The stored answer, when its key matches and no file it came from changed."""
        try:
            with open(self.path, "rb") as fobj:
                header, _, rest = fobj.read().partition(b"\n")
            key, _, text = rest.partition(b"\n")
            doc = json.loads(header)
        except (OSError, ValueError):
            return None
        if key != self.key or not isinstance(doc, dict) or doc.get("version") != _VERSION \
                or not file_record.unchanged(doc.get("files")):
            return None
        return text

    def recording(self) -> Any:
        """Record what computing the answer reads (not git's files: the key holds the refs)."""
        return file_record.recording(ignore=(self._git.controldir, self._git.commondir))

    def save(self, text: str, recorder: Recorder, workspace_files: list[Any] | None) -> None:
        """Keep ``text`` unless something it came from changed meanwhile or too recently.

        :param workspace_files: the workspace row's snapshot (None: not trusted)
        """
        if workspace_files is None or self._key() != self.key:
            return  # a ref moved while we read
        # our own caches (this file's folder) are only ever replaced by a rename
        files = file_record.snapshot(recorder.paths() + [_LOCALTIME], recorder.started_ns,
                                     replaced_only=os.path.dirname(self.path))
        if files is None:
            return
        known = {path for path, _state in files}
        files += [entry for entry in workspace_files if entry[0] not in known]
        header = json.dumps({"version": _VERSION, "files": files})
        save_text(self.path, f"{header}\n{self.key.decode()}\n{text}")
