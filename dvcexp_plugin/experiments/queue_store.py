"""The experiment queue on disk: one JSON file per entry, no broker, no daemon.

``.dvc/tmp/dvcexp/queue/<id>.json`` holds an entry's name, baseline, the commit
that stores its workspace (kept alive by ``refs/exps/celery/dvcexp/<id>``, a
namespace ``dvc exp show`` ignores), its status — ``Queued``, ``Running``,
``Success`` or ``Failed`` — and, once run, its experiment commit and log.
Every write is atomic (temp file + rename) and status changes happen under an
exclusive lock, so ``kill -9`` at any moment leaves every entry readable and a
second ``queue start`` cannot claim an entry twice. Beside each entry,
``<id>.kill`` and ``<id>.pids/`` serve ``queue kill``
(:mod:`dvcexp_plugin.experiments.queue_kill`).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

QUEUED, RUNNING, SUCCESS, FAILED = "Queued", "Running", "Success", "Failed"
QUEUE_DIR = os.path.join(".dvc", "tmp", "dvcexp", "queue")
QUEUE_REF_PREFIX = "refs/exps/celery/dvcexp/"
#: file in the queue folder: ``queue stop`` asks the runner to stop
STOP_MARKER = "stop"
#: beside ``<queue dir>/<id>``: the kill marker, the "a command started" marker and
#: the folder of running command pids (see :mod:`.queue_kill`)
KILL_SUFFIX, STARTED_SUFFIX, PIDS_SUFFIX = ".kill", ".started", ".pids"
#: entry ids (``new_id``): only such directories under ``.dvc/tmp/exps/`` are ours
_ENTRY_ID = re.compile(r"\d{14}[0-9a-f]{8}")


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

    def control_base(self, entry_id: str) -> str:
        """``<queue dir>/<id>``: where ``queue kill`` leaves its marker and finds pids."""
        return os.path.join(self.dir, entry_id)

    def job_env(self, entry_id: str) -> dict[str, str]:
        """What the entry's stage jobs need in their environment (for ``queue kill``)."""
        from dvcexp_plugin.command_log import ENTRY_ENV

        return {ENTRY_ENV: self.control_base(entry_id)}

    def _clear_control(self, entry_id: str) -> None:
        base = self.control_base(entry_id)
        for suffix in (KILL_SUFFIX, STARTED_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(base + suffix)
        shutil.rmtree(base + PIDS_SUFFIX, ignore_errors=True)

    @property
    def stop_marker(self) -> str:
        """Present while ``queue stop`` asks the runner to stop after running work."""
        return os.path.join(self.dir, STOP_MARKER)

    def request_stop(self) -> None:
        os.makedirs(self.dir, exist_ok=True)
        with open(self.stop_marker, "w", encoding="utf-8"):
            pass

    def stop_requested(self) -> bool:
        return os.path.exists(self.stop_marker)

    def clear_stop(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.stop_marker)

    def record_engine(self, pid: int | None) -> None:
        """Note the engine process of the running round (None: it ended)."""
        path = os.path.join(self.dir, "engine.pid")
        if pid is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        with open(path, "w", encoding="utf-8") as fobj:
            fobj.write(f"{pid} {os.getpid()}\n")

    def _stop_orphaned_engine(self) -> None:
        """A runner killed with ``kill -9`` leaves its engine (own session) running: stop it."""
        path = os.path.join(self.dir, "engine.pid")
        try:
            with open(path, encoding="utf-8") as fobj:
                engine_pid, runner = (int(x) for x in fobj.read().split())
        except (OSError, ValueError):
            return
        if _alive(runner):
            return
        try:
            import psutil  # comes with Snakemake, which ran this engine
        except ImportError:  # pragma: no cover
            return
        try:
            if "dvcexp_plugin.engine" in " ".join(psutil.Process(engine_pid).cmdline()):
                os.killpg(engine_pid, signal.SIGKILL)  # the engine and every job it started
        except (OSError, psutil.Error):
            pass
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def requeue(self, entry_id: str) -> None:
        """A claimed entry that never started a command goes back to the queue."""
        with self.locked():
            entry = self.load(entry_id)
            if entry is not None:
                entry.status, entry.pid, entry.error = QUEUED, None, None
                entry.started = entry.finished = None
                self._clear_control(entry.id)
                self.save(entry)

    def match(self, names: list[str], statuses: tuple[str, ...]) -> dict[str, QueueEntry | None]:
        """``{name: entry or None}``: each name as an entry name, id or rev prefix.

        As DVC: a name wins over a rev prefix, and of entries with the same
        name the newest counts.

        :param statuses: the statuses an entry may have to match
        """
        entries = [e for e in self.entries() if e.status in statuses]
        by_name = {e.name: e for e in entries}
        found: dict[str, QueueEntry | None] = {}
        for name in names:
            entry = by_name.get(name) or next((e for e in entries if e.id == name), None)
            if entry is None and len(name) >= 4 and re.fullmatch(r"[0-9a-fA-F]+", name):
                entry = next((e for e in entries if e.rev.startswith(name.lower())), None)
            found[name] = entry
        return found

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
        self._clear_control(entry.id)
        shutil.rmtree(self.workspace(entry.id), ignore_errors=True)

    def remove(self, entries: Iterable[QueueEntry], statuses: tuple[str, ...],
               delete_ref: Callable[[str], object]) -> list[QueueEntry]:
        """Delete ``entries`` (and their refs) that still have one of ``statuses``.

        Under the lock, so an entry a runner claims meanwhile is not taken from it.

        :returns: the entries deleted
        """
        deleted = []
        with self.locked():
            for entry in entries:
                current = self.load(entry.id)
                if current is None or current.status not in statuses:
                    continue
                delete_ref(current.ref)
                self.delete(current)
                deleted.append(current)
        return deleted

    def recover(self) -> list[QueueEntry]:
        """Entries marked running by a process that is gone become failed.

        Then the workspaces under ``.dvc/tmp/exps/`` of entries no live runner
        owns (left by a killed runner, a failed or a removed entry) are
        removed; a failed entry keeps its log. Everything under the lock, so an
        entry claimed meanwhile keeps the workspace it is about to get.
        """
        recovered = []
        with self.locked():
            self._stop_orphaned_engine()
            entries = self.entries()
            for entry in entries:
                if entry.status == RUNNING and not _alive(entry.pid):
                    entry.status = FAILED
                    entry.error = "the queue runner stopped (killed?) while this entry ran"
                    entry.finished = time.time()
                    self.save(entry)
                    recovered.append(entry)
            # a live runner's entries keep theirs (a killed entry's jobs may still end)
            live = {e.id for e in entries if _alive(e.pid)}
            self._clean_workspaces(live)
            if not live:
                self._clean_run_dirs()
        return recovered

    def _clean_workspaces(self, keep: set[str]) -> None:
        exps = os.path.dirname(self.workspace("x"))
        try:
            names = os.listdir(exps)
        except FileNotFoundError:
            return
        for name in names:
            # DVC's own directories here (tmpXXXX, standalone, celery, run) are not ours
            if _ENTRY_ID.fullmatch(name) and name not in keep:
                shutil.rmtree(os.path.join(exps, name), ignore_errors=True)

    def _clean_run_dirs(self) -> None:
        """The engine folders of queue rounds whose runner is gone (spec, Snakefile, results)."""
        runs = os.path.join(self.root, ".dvc", "tmp", "dvcexp", "runs")
        try:
            names = os.listdir(runs)
        except FileNotFoundError:
            return
        for name in names:
            if name.startswith("queue-"):
                shutil.rmtree(os.path.join(runs, name), ignore_errors=True)

    def claim(self, pid: int) -> list[QueueEntry]:
        """Mark every queued entry as running by ``pid``; return them."""
        claimed = []
        with self.locked():
            for entry in self.entries():
                if entry.status == QUEUED:
                    entry.status, entry.pid, entry.started = RUNNING, pid, time.time()
                    self._clear_control(entry.id)  # a retried entry was maybe killed before
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
