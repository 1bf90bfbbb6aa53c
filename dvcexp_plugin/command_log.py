"""Running a stage command while keeping a copy of everything it prints.

The command's stdout and stderr still reach the user's stdout and stderr
(separately, as they are produced); a copy of both goes to the stage's log
file, so a failed run always leaves its output behind
(``.dvc/tmp/dvcexp/logs/<stage>.log``, overwritten by the stage's next run).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from typing import IO, Any

from dvcexp_plugin.experiments.queue_store import ENTRY_ENV

LOG_DIR = os.path.join(".dvc", "tmp", "dvcexp", "logs")
_UNSAFE = re.compile(r"[^\w.@-]")


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


def _pump(source: IO[bytes], target: Any, log: StageLog) -> None:
    fd = source.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        log.write(chunk)
        try:
            target.write(chunk)
            target.flush()
        except (OSError, ValueError):
            pass  # the user's stream went away; the log still gets everything


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
    assert proc.stdout is not None and proc.stderr is not None
    threads = [
        threading.Thread(target=_pump, args=(proc.stdout, _binary(sys.stdout), log), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, _binary(sys.stderr), log), daemon=True),
    ]
    for thread in threads:
        thread.start()
    if control is not None:
        control.started(proc.pid)
    try:
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
        for thread in threads:
            thread.join(timeout=5)
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
