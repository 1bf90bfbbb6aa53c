"""Runs a generated Snakefile through Snakemake's Python API (the only snakemake importer).

:func:`start` launches ``python -m dvcexp_plugin.engine RUN_DIR`` in a child
process of its own session, so that Ctrl-C or a kill can stop every job with
one ``killpg``; the child drives Snakemake in-process with the settings of the
tested recipe (targets = forcerun = allowed_rules = the planned rules, a
per-run workdir, greedy scheduler, ``latency_wait=0``, no Snakemake lock —
serialising runs of one repository is our job).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

ENGINE_SETTINGS = "engine.json"
EVENTS_FILE = "events.jsonl"


#: an engine started ahead of time by :func:`warm_up`, not yet given a run
_warm: subprocess.Popen[bytes] | None = None
_warm_pipe = -1


def warm_up() -> None:
    """Start the engine process now; it imports Snakemake while the caller plans.

    Importing Snakemake takes most of a second; :func:`start` hands the run
    directory to this process instead of starting a new one. An engine that
    gets no run is stopped when the caller exits.
    """
    global _warm, _warm_pipe
    if _warm is None:
        # the run directory comes through a pipe of its own: stdin stays the user's,
        # for the stage commands, as with a directly started engine
        read_end, _warm_pipe = os.pipe()
        try:
            _warm = subprocess.Popen(
                [sys.executable, "-m", "dvcexp_plugin.engine", "--wait", str(read_end)],
                pass_fds=(read_end,), start_new_session=True,
            )
        finally:
            os.close(read_end)
        atexit.register(_cool_down)


def _cool_down() -> None:
    global _warm
    if _warm is not None:
        with suppress(ProcessLookupError):
            os.killpg(_warm.pid, signal.SIGKILL)
        _warm.wait()
        _warm = None
        with suppress(OSError):
            os.close(_warm_pipe)


def start(run_dir: str) -> subprocess.Popen[bytes]:
    """Start the engine for a prepared run directory (see :func:`run_engine`)."""
    global _warm
    proc, _warm = _warm, None
    if proc is not None:
        try:
            os.write(_warm_pipe, run_dir.encode() + b"\n")
            if proc.poll() is None:
                return proc
        except OSError:
            pass  # it died (killed?): start a fresh one
        finally:
            with suppress(OSError):
                os.close(_warm_pipe)
    return subprocess.Popen(
        [sys.executable, "-m", "dvcexp_plugin.engine", run_dir],
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the engine and every job it started (the whole session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class _EventRecorder(logging.Handler):
    """Appends job events (rule, status) to a JSON-lines file for the parent."""

    def __init__(self, path: str) -> None:
        super().__init__(level=logging.DEBUG)
        self.path = path
        self.jobs: dict[Any, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None)
        name = getattr(event, "name", None) or str(event or "")
        data: dict[str, Any] = {"event": name}
        if name == "JOB_INFO":
            self.jobs[getattr(record, "jobid", None)] = getattr(record, "rule_name", "")
            data["rule"] = getattr(record, "rule_name", "")
        elif name == "JOB_ERROR":
            data["rule"] = getattr(record, "rule_name", "")
        elif name == "ERROR":
            data["message"] = record.getMessage()[:2000]
            data["exception"] = str(getattr(record, "exception", "") or "")
        else:
            return
        with open(self.path, "a", encoding="utf-8") as fobj:
            fobj.write(json.dumps(data) + "\n")


def _import_snakemake() -> None:
    """What a run imports, imported while the parent still plans (``--wait``).

    Besides Snakemake's API: what it imports only when it reads the Snakefile
    (smart_open, ~0.1 s; platformdirs), the stage runner the Snakefile imports,
    and ruamel.yaml, which the first job's ``dvc.lock`` write would import.
    """
    import importlib

    import snakemake.api  # noqa: F401
    import snakemake.scheduling.greedy  # noqa: F401

    import dvcexp_plugin.stage_runner  # noqa: F401

    for optional in ("smart_open", "platformdirs", "ruamel.yaml"):
        with suppress(ImportError):  # a speed-up only: another Snakemake may not use them
            importlib.import_module(optional)


def run_engine(run_dir: str) -> int:
    """Execute the run described by ``RUN_DIR/engine.json``; 0 when every job succeeded."""
    with open(os.path.join(run_dir, ENGINE_SETTINGS), encoding="utf-8") as fobj:
        settings = json.load(fobj)
    from snakemake.api import SnakemakeApi
    from snakemake.logging import logger as smk_logger
    from snakemake.scheduling.greedy import SchedulerSettings as GreedySettings
    from snakemake.settings.enums import Quietness
    from snakemake.settings.types import (
        DAGSettings,
        ExecutionSettings,
        OutputSettings,
        ResourceSettings,
        SchedulingSettings,
    )

    rules = set(settings["rules"])
    workdir = os.path.join(run_dir, "workdir")
    os.makedirs(workdir, exist_ok=True)
    recorder = _EventRecorder(os.path.join(run_dir, EVENTS_FILE))
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            smk_logger.addHandler(recorder)  # only after SnakemakeApi() (it resets handlers)
            workflow = api.workflow(
                resource_settings=ResourceSettings(cores=int(settings["jobs"])),
                snakefile=Path(settings["snakefile"]),
                workdir=Path(workdir),
            )
            dag = workflow.dag(
                DAGSettings(targets=rules, forcerun=rules, allowed_rules=rules,
                            force_incomplete=True)
            )
            dag.execute_workflow(
                executor="local",
                execution_settings=ExecutionSettings(
                    keep_going=bool(settings.get("keep_going")), latency_wait=0, lock=False,
                    # run: jobs (stage runner, queue commits) in the thread pool, not a
                    # `python -m snakemake` process each
                    use_threads=True,
                ),
                scheduling_settings=SchedulingSettings(scheduler="greedy"),
                scheduler_settings=GreedySettings(),
            )
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which names the stage
        with open(os.path.join(run_dir, EVENTS_FILE), "a", encoding="utf-8") as fobj:
            fobj.write(json.dumps({"event": "FAILED", "exception": type(exc).__name__,
                                   "message": str(exc)[:2000]}) + "\n")
        return 1
    return 0


def main(argv: list[str]) -> int:
    """``python -m dvcexp_plugin.engine RUN_DIR``, or ``--wait FD``: import, then read RUN_DIR."""
    if argv[0] != "--wait":
        return run_engine(argv[0])
    _import_snakemake()
    with os.fdopen(int(argv[1]), encoding="utf-8") as pipe:
        run_dir = pipe.readline().strip()
    return run_engine(run_dir) if run_dir else 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Snakemake's interpreter teardown (its thread pools, atexit hooks, a large heap)
    # takes ~0.3 s after the run is over and every result is written: skip it
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
