"""The experiment queue on disk: one JSON file per entry, no broker, no daemon.

``.dvc/tmp/dvcexp/queue/<id>.json`` holds an entry's name, baseline, the commit
that stores its workspace (kept alive by ``refs/exps/celery/dvcexp/<id>``, a
namespace ``dvc exp show`` ignores), its status — ``Queued``, ``Running``,
``Success`` or ``Failed`` — and, once run, its experiment commit and log.
Every write is atomic (temp file + rename) and status changes happen under an
exclusive lock, so ``kill -9`` at any moment leaves every entry readable and a
second ``queue start`` cannot claim an entry twice.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

QUEUED, RUNNING, SUCCESS, FAILED = "Queued", "Running", "Success", "Failed"
QUEUE_DIR = os.path.join(".dvc", "tmp", "dvcexp", "queue")
QUEUE_REF_PREFIX = "refs/exps/celery/dvcexp/"


@dataclass
class QueueEntry:
    """One queued experiment."""

    id: str
    name: str
    baseline: str
    rev: str
    created: float
    overrides: dict[str, list[str]] = field(default_factory=dict)
    status: str = QUEUED
    pid: int | None = None
    started: float | None = None
    finished: float | None = None
    exp_sha: str | None = None
    error: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return QUEUE_REF_PREFIX + self.id


class QueueStore:
    """Entries of one repository's queue.

    :param root: repository root
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self.dir = os.path.join(root, QUEUE_DIR)

    def _path(self, entry_id: str) -> str:
        return os.path.join(self.dir, f"{entry_id}.json")

    def log_path(self, entry_id: str) -> str:
        """Where an entry's output is kept (all its stages, in order)."""
        return os.path.join(self.dir, f"{entry_id}.log")

    def workspace(self, entry_id: str) -> str:
        """The entry's isolated workspace while it runs."""
        return os.path.join(self.root, ".dvc", "tmp", "exps", entry_id)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock for status changes (inter-process)."""
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, ".lock"), "a+") as fobj:
            fcntl.flock(fobj, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fobj, fcntl.LOCK_UN)

    def new_id(self) -> str:
        return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(4)

    def save(self, entry: QueueEntry) -> None:
        os.makedirs(self.dir, exist_ok=True)
        tmp = self._path(entry.id) + f".{secrets.token_hex(4)}.tmp"
        with open(tmp, "w", encoding="utf-8") as fobj:
            json.dump(asdict(entry), fobj)
            fobj.flush()
            os.fsync(fobj.fileno())
        os.replace(tmp, self._path(entry.id))

    def load(self, entry_id: str) -> QueueEntry | None:
        try:
            with open(self._path(entry_id), encoding="utf-8") as fobj:
                return QueueEntry(**json.load(fobj))
        except (OSError, ValueError, TypeError):
            return None

    def entries(self) -> list[QueueEntry]:
        """Every readable entry, oldest first."""
        try:
            names = sorted(n for n in os.listdir(self.dir) if n.endswith(".json"))
        except FileNotFoundError:
            return []
        found = [self.load(n[:-5]) for n in names]
        return sorted((e for e in found if e is not None), key=lambda e: (e.created, e.id))

    def delete(self, entry: QueueEntry) -> None:
        for path in (self._path(entry.id), self.log_path(entry.id)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def recover(self) -> list[QueueEntry]:
        """Entries marked running by a process that is gone become failed."""
        recovered = []
        with self.locked():
            for entry in self.entries():
                if entry.status == RUNNING and not _alive(entry.pid):
                    entry.status = FAILED
                    entry.error = "the queue runner stopped (killed?) while this entry ran"
                    entry.finished = time.time()
                    self.save(entry)
                    recovered.append(entry)
        return recovered

    def claim(self, pid: int) -> list[QueueEntry]:
        """Mark every queued entry as running by ``pid``; return them."""
        claimed = []
        with self.locked():
            for entry in self.entries():
                if entry.status == QUEUED:
                    entry.status, entry.pid, entry.started = RUNNING, pid, time.time()
                    self.save(entry)
                    claimed.append(entry)
        return claimed

    def requeue_failed(self) -> list[str]:
        """Failed entries become queued again (their workspace commit is kept); names."""
        names = []
        with self.locked():
            for entry in self.entries():
                if entry.status == FAILED:
                    entry.status, entry.pid, entry.error = QUEUED, None, None
                    entry.started = entry.finished = None
                    self.save(entry)
                    names.append(entry.name)
        return names

    def finish(self, entry_id: str, ok: bool, exp_sha: str | None, error: str | None) -> None:
        with self.locked():
            entry = self.load(entry_id)
            if entry is None:
                return
            entry.status = SUCCESS if ok else FAILED
            entry.exp_sha, entry.error, entry.finished = exp_sha, error, time.time()
            self.save(entry)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
