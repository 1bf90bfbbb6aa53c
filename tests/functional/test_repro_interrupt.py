"""Ctrl-C and logs: an interrupted repro stops its commands, keeps what finished, exits 130."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, make_dvc_repo, run_cli

PIPELINE = """\
stages:
  first:
    cmd: echo one > first.txt
    outs: [first.txt]
  slow:
    cmd: echo started > started.txt && sleep 30 && echo done > slow.txt
    deps: [first.txt]
    outs: [slow.txt]
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_stops_the_running_command_and_exits_130(tmp_path: Path, jobs: str) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {"dvc.yaml": PIPELINE})
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvcexp_plugin", "repro", "-j", jobs], cwd=repo,
        env={**os.environ, **GIT_ENV}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (repo / "started.txt").exists():
        assert time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    start = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - start < 10
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err.decode()
    assert not (repo / "slow.txt").exists()
    # the stage that finished keeps its lock entry; the next run starts from there
    assert "first:" in (repo / "dvc.lock").read_text()
    again = run_cli("repro", "first", cwd=repo)
    assert "didn't change, skipping" in again.stdout


def test_a_failed_stage_keeps_its_output_in_a_log(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {"dvc.yaml": (
        "stages:\n  bad:\n    cmd: echo to-stdout && echo to-stderr >&2 && exit 7\n"
    )})
    result = run_cli("repro", cwd=repo)
    assert result.returncode == 255
    assert "to-stdout" in result.stdout and "to-stderr" in result.stderr
    log = repo / ".dvc" / "tmp" / "dvcexp" / "logs" / "bad.log"
    text = log.read_text()
    assert "to-stdout" in text and "to-stderr" in text and "exit code 7" in text
    assert result.stderr.strip().splitlines()[-1].startswith("ERROR: failed to reproduce 'bad'")
