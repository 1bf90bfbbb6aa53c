"""The queue runner process: one per repository, no broker, exits when the queue is empty.

``python -m dvcexp_plugin.experiments.queue_worker ROOT JOBS`` holds an
exclusive lock on ``.dvc/tmp/dvcexp/queue/worker.lock`` for its lifetime, so a
second ``queue start`` finds it running instead of starting another; it runs
whatever is queued (entries queued meanwhile are picked up in the next round)
and exits when nothing is left.
"""
from __future__ import annotations

import fcntl
import os
import signal
import sys
from typing import IO, Any

from dvcexp_plugin.experiments.queue_store import QUEUED, QueueStore

LOCK_NAME = "worker.lock"


def try_lock(root: str) -> IO[str] | None:
    """The runner lock, or None when another runner holds it."""
    store = QueueStore(root)
    os.makedirs(store.dir, exist_ok=True)
    handle = open(os.path.join(store.dir, LOCK_NAME), "a+")  # noqa: SIM115 - held for life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def runner_pid(root: str) -> int | None:
    """The pid of the running queue runner, if any."""
    path = os.path.join(QueueStore(root).dir, LOCK_NAME)
    handle = try_lock(root)
    if handle is not None:
        handle.close()
        return None
    try:
        with open(path, encoding="utf-8") as fobj:
            return int(fobj.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def work(root: str, jobs: int) -> int:
    """Run rounds of the queue until nothing is queued; 0 when every entry succeeded."""
    from dvcexp_plugin.experiments.queue_run import run_queue
    from dvcexp_plugin.repo import Repo

    failed = 0
    repo = Repo(root)
    store = QueueStore(root)
    while any(e.status == QUEUED for e in store.entries()) and not store.stop_requested():
        outcome = run_queue(repo, jobs, sys.stdout)
        failed += len(outcome.failed)
        if not outcome.succeeded and not outcome.failed:
            break
    return 1 if failed else 0


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # run_queue stops the engine (its own session) and settles


def main(argv: list[str]) -> int:
    root, jobs = argv[0], int(argv[1])
    handle = try_lock(root)
    if handle is None:
        return 0  # another runner is at work and will pick our entries up
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return work(root, jobs)
    except KeyboardInterrupt:
        return 130
    finally:
        QueueStore(root).clear_stop()
        handle.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
