"""Running a stage command while keeping a copy of everything it prints.

The command's stdout and stderr still reach the user's stdout and stderr
(separately, as they are produced); a copy of both goes to the stage's log
file, so a failed run always leaves its output behind
(``.dvc/tmp/dvcexp/logs/<stage>.log``, overwritten by the stage's next run).
"""
from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import threading
import time
from typing import Any

LOG_DIR = os.path.join(".dvc", "tmp", "dvcexp", "logs")
_UNSAFE = re.compile(r"[^\w.@-]")
#: in a queue entry's job: its control path (``<queue dir>/<id>``, see ``queue_kill``);
#: defined here, where every command starts, so that a job outside a queue imports
#: nothing of the queue
ENTRY_ENV = "DVCEXP_QUEUE_ENTRY"


def log_path(root: str, addressing: str) -> str:
    """Where a stage's log lives (one file per stage)."""
    return os.path.join(root, LOG_DIR, _UNSAFE.sub("_", addressing) + ".log")


class StageLog:
    """The log file of one stage run (truncated when the run starts)."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._file.write(data)
            self._file.flush()

    def note(self, text: str) -> None:
        self.write(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {text}\n".encode())

    def close(self) -> None:
        self._file.close()


#: after the command exits, how long output still held open by its background
#: children is copied before the job goes on
DRAIN_AFTER_EXIT_S = 5.0


def _copy(chunk: bytes, target: Any, log: StageLog) -> None:
    log.write(chunk)
    try:
        target.write(chunk)
        target.flush()
    except (OSError, ValueError):
        pass  # the user's stream went away; the log still gets everything


def _pump(proc: subprocess.Popen[bytes], log: StageLog) -> None:
    """Copy the command's stdout and stderr as they come, until both end.

    One ``select`` loop in the job's own thread: helper threads cost a few
    milliseconds per job to start and join. Output that a background child
    keeps open after the command exited is copied for ``DRAIN_AFTER_EXIT_S``.
    """
    assert proc.stdout is not None and proc.stderr is not None
    targets = {proc.stdout.fileno(): _binary(sys.stdout), proc.stderr.fileno(): _binary(sys.stderr)}
    deadline = None
    with selectors.DefaultSelector() as selector:
        for fd in targets:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            ready = selector.select(timeout=0.5)
            for key, _ in ready:
                chunk = os.read(key.fd, 65536)
                if chunk:
                    _copy(chunk, targets[key.fd], log)
                else:
                    selector.unregister(key.fd)
            if not ready:
                if deadline is None and proc.poll() is not None:
                    deadline = time.monotonic() + DRAIN_AFTER_EXIT_S
                if deadline is not None and time.monotonic() > deadline:
                    break


def run_logged(
    command: str | list[str], *, shell: bool, cwd: str, env: dict[str, str], log: StageLog
) -> int:
    """Run one command, copying its output to the user's streams and ``log``.

    In a job of a queue entry (``DVCEXP_QUEUE_ENTRY`` in ``env``) the command's
    pid is recorded for ``queue kill``, and the command of a killed entry does
    not start (see :mod:`dvcexp_plugin.experiments.queue_kill`).
    """
    control = _entry_control(env)
    if control is not None:
        env = control.command_env(env)
        control.check_not_killed(env, log.note)
    proc = subprocess.Popen(  # noqa: S603 - the user's own pipeline command
        command, shell=shell, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if control is not None:
        control.started(proc.pid)
    try:
        _pump(proc, log)
        returncode = proc.wait()
    except KeyboardInterrupt:
        # the command got the same SIGINT from the terminal; give it a moment, then stop it
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    finally:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        if control is not None:
            control.finished(proc.pid, log.note)
    return returncode


def _entry_control(env: dict[str, str]) -> Any:
    """The queue entry this command belongs to, if any."""
    if not env.get(ENTRY_ENV):
        return None  # the common case pays no further import
    from dvcexp_plugin.experiments.queue_kill import EntryControl

    return EntryControl.from_env(env)


def _binary(stream: Any) -> Any:
    sys.stdout.flush()
    return getattr(stream, "buffer", stream)
