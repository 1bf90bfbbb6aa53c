"""The queue: sweeps queued as commits, run in one DAG, saved per experiment, nothing lost."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, PROJECT, git, run_cli

COUNTING = """\
stages:
  prepare:
    cmd: echo run >> "$DVC_ROOT/../prepare-count.txt" && python src/prepare.py
    deps:
    - data/points.csv
    - src/prepare.py
    params:
    - prepare.seed
    - prepare.split
    outs:
    - data/prepared
  train:
    cmd: python src/train.py
    deps:
    - data/prepared
    - src/train.py
    params:
    - train
    outs:
    - model/model.json
  evaluate:
    cmd: python src/evaluate.py
    deps:
    - data/prepared
    - model/model.json
    - src/evaluate.py
    metrics:
    - metrics.json:
        cache: false
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", path)
    (path / "dvc.lock").unlink()
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline", cwd=path)
    return path


def exp_names(repo: Path) -> list[str]:
    refs = git("for-each-ref", "--format=%(refname)", "refs/exps", cwd=repo).split()
    return sorted(r.rsplit("/", 1)[-1] for r in refs if "/celery/" not in r
                  and "/exec/" not in r)


def test_queue_sweep_prints_dvcs_lines_and_leaves_the_workspace(repo: Path) -> None:
    result = run_cli("exp", "run", "--queue", "-S", "train.lr=0.05,0.2",
                     "-S", "train.epochs=range(10,30,10)", "-n", "sw", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Queueing with overrides '{'params.yaml': ['train.lr=0.05', 'train.epochs=10']}'.",
        "Queued experiment 'sw-1' for future execution.",
        "Queueing with overrides '{'params.yaml': ['train.lr=0.05', 'train.epochs=20']}'.",
        "Queued experiment 'sw-2' for future execution.",
        "Queueing with overrides '{'params.yaml': ['train.lr=0.2', 'train.epochs=10']}'.",
        "Queued experiment 'sw-3' for future execution.",
        "Queueing with overrides '{'params.yaml': ['train.lr=0.2', 'train.epochs=20']}'.",
        "Queued experiment 'sw-4' for future execution.",
    ]
    assert git("status", "--porcelain", cwd=repo) == ""
    status = run_cli("queue", "status", cwd=repo).stdout
    assert [line.split()[1] for line in status.splitlines()[1:5]] == ["sw-1", "sw-2", "sw-3",
                                                                       "sw-4"]
    assert all(line.split()[-1] == "Queued" for line in status.splitlines()[1:5])
    # queued entries never show up as experiments
    assert exp_names(repo) == []


def test_run_all_runs_every_entry_in_one_dag_with_a_failure(repo: Path) -> None:
    (repo / "dvc.yaml").write_text(COUNTING)
    git("commit", "-qam", "count prepare", cwd=repo)
    assert run_cli("exp", "run", "--queue", "-S", "train.lr=0.05,0.1,0.2", "-n", "ok",
                   cwd=repo).returncode == 0
    train = repo / "src" / "train.py"
    original = train.read_text()
    train.write_text("raise SystemExit(5)\n")
    assert run_cli("exp", "run", "--queue", "-n", "broken", cwd=repo).returncode == 0
    train.write_text(original)
    result = run_cli("exp", "run", "--run-all", "-j", "2", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "Failed to reproduce experiment(s) 'broken'" in result.stdout
    assert exp_names(repo) == ["ok-1", "ok-2", "ok-3"]
    # the prepare stage is identical in every entry: its command ran once
    count = (repo.parent / "prepare-count.txt").read_text().splitlines()
    assert len(count) == 1, count
    statuses = {line.split()[1]: line.split()[-1]
                for line in run_cli("queue", "status", cwd=repo).stdout.splitlines()[1:]
                if line.strip() and not line.startswith("Worker")}
    assert statuses["broken"] == "Failed" and statuses["ok-1"] == "Success"
    logs = run_cli("queue", "logs", "broken", cwd=repo)
    assert "failed to reproduce 'train'" in logs.stdout
    shown = json.loads(run_cli("exp", "show", "--json", cwd=repo).stdout)
    lrs = sorted(e["revs"][0]["data"]["params"]["params.yaml"]["data"]["train"]["lr"]
                 for e in shown[1]["experiments"] if e["executor"] is None)
    assert lrs == [0.05, 0.1, 0.2]
    # the failed entry is listed too, as DVC lists its queue's failures
    failed = [e for e in shown[1]["experiments"] if e["executor"]]
    assert [(e["name"], e["executor"]["state"]) for e in failed] == [("broken", "failed")]
    removed = run_cli("queue", "remove", "--failed", cwd=repo)
    assert removed.stdout.strip() == "Removed tasks in queue: broken"


def test_kill_9_of_the_runner_then_recovery(repo: Path) -> None:
    started = repo.parent / "stage-started"
    (repo / "dvc.yaml").write_text(COUNTING.replace(
        "python src/train.py", f"touch {started} && sleep 30 && python src/train.py"))
    git("commit", "-qam", "slow train", cwd=repo)
    assert run_cli("exp", "run", "--queue", "-n", "slow", cwd=repo).returncode == 0
    env = {**os.environ, **GIT_ENV}
    runner = subprocess.Popen([sys.executable, "-m", "dvcexp_plugin.experiments.queue_worker",
                               str(repo), "1"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not started.exists():  # the engine runs the stage
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    status = run_cli("queue", "status", cwd=repo).stdout
    assert "Failed" in status  # a dead runner's entry is recovered as failed, not lost
    assert exp_names(repo) == []
    assert git("status", "--porcelain", cwd=repo) == ""
    # the engine (a session of its own) and its stage went with the recovery
    assert _processes_in(repo) == []
    runs = repo / ".dvc" / "tmp" / "dvcexp" / "runs"
    assert not [p for p in runs.iterdir() if p.name.startswith("queue-")]


def _processes_in(folder: Path) -> list[str]:
    """Command lines of live processes whose working directory is inside ``folder``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cwd", "cmdline", "status"]):
        cwd = proc.info.get("cwd") or ""
        if (cwd.startswith(str(folder)) and proc.info.get("status") != psutil.STATUS_ZOMBIE
                and proc.pid != os.getpid()):
            found.append(" ".join(proc.info.get("cmdline") or []))
    return found


def _wait_for(repo: Path, done: callable, timeout: float = 120) -> None:  # type: ignore[valid-type]
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, run_cli("queue", "status", cwd=repo).stdout
        time.sleep(0.3)


def test_queue_start_runs_in_the_background_once_and_retries(repo: Path) -> None:
    train = repo / "src" / "train.py"
    original = train.read_text()
    train.write_text("raise SystemExit(5)\n")
    assert run_cli("exp", "run", "--queue", "-n", "flaky", cwd=repo).returncode == 0
    train.write_text(original)
    assert run_cli("exp", "run", "--queue", "-S", "train.lr=0.3", "-n", "good",
                   cwd=repo).returncode == 0
    first = run_cli("queue", "start", "-j", "2", cwd=repo)
    second = run_cli("queue", "start", cwd=repo)  # concurrent start: still one runner
    assert first.returncode == second.returncode == 0
    assert first.stdout.startswith("Started the queue runner")

    def finished() -> bool:
        status = run_cli("queue", "status", cwd=repo).stdout
        return "Queued" not in status and "Running" not in status

    _wait_for(repo, finished)
    assert exp_names(repo) == ["good"]
    status = run_cli("queue", "status", cwd=repo).stdout
    assert "flaky" in status and "Failed" in status
    # the failed entry stored the broken train.py: a retry fails again, still listed
    retry = run_cli("queue", "start", "--retry-failed", cwd=repo)
    assert "Queued again: flaky" in retry.stdout
    _wait_for(repo, finished)
    assert exp_names(repo) == ["good"]
    assert git("status", "--porcelain", cwd=repo) == ""


def test_exp_apply_of_a_queued_entry_brings_its_params(repo: Path) -> None:
    assert run_cli("exp", "run", "--queue", "-S", "train.lr=0.7", "-n", "later",
                   cwd=repo).returncode == 0
    applied = run_cli("exp", "apply", "later", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert "lr: 0.7" in (repo / "params.yaml").read_text()
