"""The job side of ``queue kill``: commands are recorded, killed ones stop, later ones fail fast."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from dvcexp_plugin.command_log import ENTRY_ENV, StageLog, run_logged
from dvcexp_plugin.experiments.queue_kill import (
    KILLED_ERROR,
    EntryControl,
    EntryKilledError,
    kill_entries,
)
from dvcexp_plugin.experiments.queue_store import RUNNING, QueueEntry, QueueStore


@pytest.fixture
def store(tmp_path: Path) -> QueueStore:
    return QueueStore(str(tmp_path))


def running_entry(store: QueueStore) -> QueueEntry:
    entry = QueueEntry(id=store.new_id(), name="e", baseline="b" * 40, rev="c" * 40,
                       created=time.time(), status=RUNNING, pid=os.getpid())
    store.save(entry)
    return entry


def job_env(store: QueueStore, entry: QueueEntry) -> dict[str, str]:
    return {**os.environ, **store.job_env(entry.id), "DVC_EXP_NAME": entry.name}


def test_a_command_runs_recorded_and_without_the_control_variable(
    store: QueueStore, tmp_path: Path
) -> None:
    entry = running_entry(store)
    log = StageLog(str(tmp_path / "stage.log"))
    code = run_logged(f"env > {tmp_path / 'env.txt'}", shell=True, cwd=str(tmp_path),
                      env=job_env(store, entry), log=log)
    log.close()
    assert code == 0
    assert ENTRY_ENV not in (tmp_path / "env.txt").read_text()
    assert EntryControl.for_entry(store, entry.id).pids() == []  # forgotten once done


def test_a_killed_entrys_next_command_does_not_start(store: QueueStore, tmp_path: Path) -> None:
    entry = running_entry(store)
    EntryControl.for_entry(store, entry.id).mark_killed(signal.SIGINT)
    log = StageLog(str(tmp_path / "stage.log"))
    with pytest.raises(EntryKilledError, match="experiment 'e' was killed"):
        run_logged(f"touch {tmp_path / 'ran'}", shell=True, cwd=str(tmp_path),
                   env=job_env(store, entry), log=log)
    log.close()
    assert not (tmp_path / "ran").exists()
    assert KILLED_ERROR in (tmp_path / "stage.log").read_text()


def test_kill_entries_stops_the_running_command_and_fails_the_entry(
    store: QueueStore, tmp_path: Path
) -> None:
    entry = running_entry(store)
    log = StageLog(str(tmp_path / "stage.log"))
    codes: list[int] = []
    job = threading.Thread(target=lambda: codes.append(run_logged(
        "sleep 30 && touch done", shell=True, cwd=str(tmp_path), env=job_env(store, entry),
        log=log)))
    job.start()
    control = EntryControl.for_entry(store, entry.id)
    deadline = time.monotonic() + 10
    while not control.pids():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    start = time.monotonic()
    kill_entries(store, [entry])
    assert time.monotonic() - start < 5
    job.join(timeout=10)
    log.close()
    assert codes and codes[0] != 0
    assert not (tmp_path / "done").exists()
    killed = store.load(entry.id)
    assert killed is not None and killed.status == "Failed" and killed.error == KILLED_ERROR
    assert KILLED_ERROR in Path(store.log_path(entry.id)).read_text()
    # a retry starts clean: claiming forgets the kill
    killed.status = "Queued"
    store.save(killed)
    store.claim(os.getpid())
    assert control.kill_signal() is None
