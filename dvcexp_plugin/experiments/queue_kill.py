"""``queue kill``: stop one running queue entry while the others go on.

All entries run in one Snakemake DAG, so killing the runner would kill them
all. Instead each job of an entry gets ``DVCEXP_QUEUE_ENTRY`` (the entry's
control path ``.dvc/tmp/dvcexp/queue/<id>``, see
:meth:`QueueStore.job_env <dvcexp_plugin.experiments.queue_store.QueueStore.job_env>`),
and :func:`~dvcexp_plugin.command_log.run_logged` records the pid of each
command it starts as ``<id>.pids/<pid>``. ``queue kill`` writes the kill
marker ``<id>.kill`` first and then signals those commands and everything
they started (SIGINT, as DVC's Ctrl-C-like kill; SIGKILL with ``-f``); a
command records itself first and then looks at the marker, so one starting at
that very moment is stopped too. A job that starts after the marker fails at
once, and so does the entry's commit: the entry ends ``Failed`` (as DVC marks
killed tasks) with its log kept, while the other entries' jobs run on.

The commands stay in the engine's process group, so Ctrl-C and stopping the
engine reach them as before.
"""
from __future__ import annotations

import contextlib
import glob
import json
import os
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any

from dvcexp_plugin.command_log import ENTRY_ENV
from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.experiments.queue_store import (
    FAILED,
    KILL_SUFFIX,
    PIDS_SUFFIX,
    RUNNING,
    STARTED_SUFFIX,
    STOP_MARKER,
    QueueEntry,
    QueueStore,
)

KILLED_ERROR = "killed by 'dvcexp queue kill'"
#: the error of a claimed entry that ``queue stop`` kept from starting; it is re-queued
STOPPED_ERROR = "not started: the queue was stopped ('dvcexp queue start' runs it)"


class EntryKilledError(DvcExpError):
    """A job of a killed queue entry was about to start its command."""

    def __init__(self, name: str) -> None:
        super().__init__(f"experiment '{name}' was {KILLED_ERROR}; run it again with "
                         "'dvcexp queue start --retry-failed'")


class EntryStoppedError(DvcExpError):
    """``queue stop`` came before this entry's first command: it goes back to the queue."""


class EntryControl:
    """The kill marker and the running commands of one queue entry.

    :param base: ``<queue dir>/<entry id>``; the marker is ``base + ".kill"``
        (holding the signal's number), the pids are files in ``base + ".pids"``
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.marker = base + KILL_SUFFIX
        self.pid_dir = base + PIDS_SUFFIX
        #: present once a job of the entry started a command (``queue stop`` lets it finish)
        self.started_marker = base + STARTED_SUFFIX

    def has_started(self) -> bool:
        """Whether a command of the entry has started."""
        return os.path.exists(self.started_marker)

    @classmethod
    def for_entry(cls, store: QueueStore, entry_id: str) -> EntryControl:
        return cls(store.control_base(entry_id))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EntryControl | None:
        """The control of the entry whose job this is, if it is one."""
        base = env.get(ENTRY_ENV)
        return cls(base) if base else None

    # -- the job's side (command_log.run_logged) --

    @staticmethod
    def command_env(env: Mapping[str, str]) -> dict[str, str]:
        """The command's environment: DVC's, without our control variable."""
        return {k: v for k, v in env.items() if k != ENTRY_ENV}

    def check_not_killed(self, env: Mapping[str, str], note: Callable[[str], None]) -> None:
        """:raises EntryKilledError: the entry was killed; its next command must not start
        :raises EntryStoppedError: ``queue stop`` came before the entry's first command
        """
        if self.kill_signal() is not None:
            note(KILLED_ERROR)
            raise EntryKilledError(env.get("DVC_EXP_NAME", os.path.basename(self.base)))
        if not self.has_started():
            if os.path.exists(os.path.join(os.path.dirname(self.base), STOP_MARKER)):
                note(STOPPED_ERROR)
                raise EntryStoppedError(STOPPED_ERROR)
            with open(self.started_marker, "w", encoding="utf-8"):
                pass

    def started(self, pid: int) -> None:
        """Record a started command; stop it at once if the entry was killed meanwhile."""
        os.makedirs(self.pid_dir, exist_ok=True)
        with open(os.path.join(self.pid_dir, str(pid)), "w", encoding="utf-8"):
            pass
        sig = self.kill_signal()
        if sig is not None:
            signal_tree(pid, sig)

    def finished(self, pid: int, note: Callable[[str], None]) -> None:
        if self.kill_signal() is not None:
            note(KILLED_ERROR)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.pid_dir, str(pid)))

    # -- queue kill's side --

    def kill_signal(self) -> int | None:
        """The signal the entry was killed with, or None when it was not killed."""
        try:
            with open(self.marker, encoding="utf-8") as fobj:
                return int(fobj.read().strip() or signal.SIGINT)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return int(signal.SIGINT)

    def mark_killed(self, sig: int) -> None:
        tmp = f"{self.marker}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fobj:
            fobj.write(str(int(sig)))
        os.replace(tmp, self.marker)

    def pids(self) -> list[int]:
        try:
            return [int(name) for name in os.listdir(self.pid_dir) if name.isdigit()]
        except FileNotFoundError:
            return []

    def alive(self) -> list[int]:
        """The recorded commands still running (stale records are dropped)."""
        alive = []
        for pid in self.pids():
            if _running(pid):
                alive.append(pid)
            else:  # its job was killed before it could clean up
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(self.pid_dir, str(pid)))
        return alive


def signal_tree(pid: int, sig: int) -> None:
    """Signal a command and every process it started (the shell, its children)."""
    try:
        import psutil  # a dependency of Snakemake, which runs every queue
    except ImportError:  # pragma: no cover - the command itself at least
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        return
    try:
        parent = psutil.Process(pid)
        family = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return
    for proc in family:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(sig)


def _running(pid: int) -> bool:
    try:
        import psutil
    except ImportError:  # pragma: no cover
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def kill_entries(store: QueueStore, entries: list[QueueEntry], force: bool = False,
                 timeout: float = 10.0) -> None:
    """Stop the commands of running ``entries``; each ends ``Failed`` with its log.

    Waits until the commands are gone (SIGKILL after ``timeout`` seconds) so
    that the log is complete when this returns.

    :param force: SIGKILL at once instead of SIGINT (DVC's ``queue kill -f``)
    """
    sig = int(signal.SIGKILL if force else signal.SIGINT)
    controls = [EntryControl.for_entry(store, entry.id) for entry in entries]
    for control in controls:
        control.mark_killed(sig)
        for pid in control.pids():
            signal_tree(pid, sig)
    deadline = time.monotonic() + timeout
    while any(control.alive() for control in controls):
        if time.monotonic() > deadline:
            for control in controls:
                for pid in control.alive():
                    signal_tree(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout
        time.sleep(0.1)
    for entry in entries:
        finish_killed(store, entry.id)


def finish_killed(store: QueueStore, entry_id: str, wait: float = 5.0) -> None:
    """Mark a killed entry ``Failed`` (if it still runs) with its log collected."""
    from dvcexp_plugin.experiments.queue_commit import collect_log

    info = _run_info(store, entry_id)
    if info is not None:
        _wait_for_results(info, wait)
    with store.locked():
        entry = store.load(entry_id)
        if entry is None or entry.status != RUNNING:
            return
        if info is not None:
            collect_log(store, entry, info)
        else:  # killed before its run was set up
            with open(store.log_path(entry.id), "w", encoding="utf-8") as fobj:
                fobj.write(f"Reproducing experiment '{entry.name}'\n{KILLED_ERROR}\n")
        entry.status, entry.error, entry.finished = FAILED, KILLED_ERROR, time.time()
        store.save(entry)


def _run_info(store: QueueStore, entry_id: str) -> dict[str, Any] | None:
    """The entry's part of the running queue's ``queue.json`` (workspace, rules)."""
    runs = os.path.join(store.root, ".dvc", "tmp", "dvcexp", "runs")
    for path in sorted(glob.glob(os.path.join(runs, "queue-*", "queue.json")), reverse=True):
        try:
            with open(path, encoding="utf-8") as fobj:
                info = json.load(fobj)["entries"].get(entry_id)
        except (OSError, ValueError, KeyError):
            continue
        if info:
            return dict(info)
    return None


def _wait_for_results(info: dict[str, Any], wait: float) -> None:
    """Give the killed jobs a moment to record their results (the log's ERROR lines)."""
    from dvcexp_plugin.command_log import log_path
    from dvcexp_plugin.experiments.queue_commit import rule_results

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        done = rule_results(info)
        started = [address for address in info["addresses"].values()
                   if os.path.exists(log_path(info["workspace"], address))]
        if all(address in done for address in started):
            return
        time.sleep(0.1)
