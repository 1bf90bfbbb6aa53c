"""``queue kill``, ``exp remove --queue`` and the cleanup of stale queue workspaces."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, git, make_dvc_repo, run_cli

# each entry's first stage waits long enough to be killed; its name is in the marker files
SLOW = """\
stages:
  slow:
    cmd: touch "$DVC_ROOT/../started-$DVC_EXP_NAME" && sleep 8 && echo "$DVC_EXP_NAME" > out.txt
    params: [x]
    outs: [out.txt]
  after:
    cmd: touch "$DVC_ROOT/../after-$DVC_EXP_NAME" && cat out.txt > after.txt
    deps: [out.txt]
    outs: [after.txt]
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_dvc_repo(tmp_path / "repo", {"dvc.yaml": SLOW, "params.yaml": "x: 1\n"})


def statuses(repo: Path) -> dict[str, str]:
    lines = run_cli("queue", "status", cwd=repo).stdout.splitlines()[1:]
    return {line.split()[1]: line.split()[-1] for line in lines
            if line.strip() and not line.startswith("Worker")}


def wait_for(what: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not what():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def exp_names(repo: Path) -> list[str]:
    refs = git("for-each-ref", "--format=%(refname)", "refs/exps", cwd=repo).split()
    return sorted(r.rsplit("/", 1)[-1] for r in refs if "/celery/" not in r)


def test_queue_kill_stops_one_entry_and_the_others_finish(repo: Path) -> None:
    assert run_cli("exp", "run", "--queue", "-S", "x=1,2,3", "-n", "k",
                   cwd=repo).returncode == 0
    assert run_cli("queue", "start", "-j", "3", cwd=repo).returncode == 0
    wait_for(lambda: (repo.parent / "started-k-2").exists())
    killed = run_cli("queue", "kill", "k-2", cwd=repo)
    assert killed.returncode == 0, killed.stderr
    assert killed.stdout == "k-2 has been killed.\n"
    # the killed entry is failed at once, with its log; the others still run
    now = statuses(repo)
    assert now["k-2"] == "Failed"
    assert "Running" in (now["k-1"], now["k-3"])
    log = run_cli("queue", "logs", "k-2", cwd=repo).stdout
    assert "Reproducing experiment 'k-2'" in log and "Running stage 'slow':" in log
    assert "killed by 'dvcexp queue kill'" in log
    assert "ERROR: failed to reproduce 'slow'" in log
    wait_for(lambda: "Running" not in statuses(repo).values())
    assert statuses(repo) == {"k-1": "Success", "k-2": "Failed", "k-3": "Success"}
    assert exp_names(repo) == ["k-1", "k-3"]
    # the killed entry's later stage never ran; the others' did
    assert not (repo.parent / "after-k-2").exists()
    assert (repo.parent / "after-k-1").exists() and (repo.parent / "after-k-3").exists()
    # nothing of it is left running, and it is no longer a running entry
    again = run_cli("queue", "kill", "k-2", "nope", cwd=repo)
    assert again.returncode == 255
    assert "ERROR: 'k-2; nope' are not valid running experiment names" in again.stderr
    # a killed entry can be retried like any failed one
    retry = run_cli("queue", "start", "--retry-failed", cwd=repo)
    assert "Queued again: k-2" in retry.stdout
    wait_for(lambda: not {"Running", "Queued"} & set(statuses(repo).values()))
    assert exp_names(repo) == ["k-1", "k-2", "k-3"]
    assert git("status", "--porcelain", cwd=repo) == ""


def test_queue_kill_of_a_task_that_is_not_running(repo: Path) -> None:
    assert run_cli("exp", "run", "--queue", "-n", "waiting", cwd=repo).returncode == 0
    result = run_cli("queue", "kill", "waiting", cwd=repo)
    assert result.returncode == 255
    assert result.stderr.startswith("ERROR: 'waiting' is not a valid running experiment name")
    assert statuses(repo) == {"waiting": "Queued"}


def one_finished_entry(repo: Path) -> None:
    """A quick pipeline and one queue entry, 'done', run to success."""
    (repo / "dvc.yaml").write_text("stages:\n  quick:\n    cmd: echo ok > out.txt\n"
                                   "    params: [x]\n    outs: [out.txt]\n")
    git("commit", "-qam", "quick", cwd=repo)
    assert run_cli("exp", "run", "--queue", "-n", "done", cwd=repo).returncode == 0
    assert run_cli("exp", "run", "--run-all", cwd=repo).returncode == 0


def test_exp_remove_queue_removes_queued_entries_only(repo: Path) -> None:
    one_finished_entry(repo)
    assert run_cli("exp", "run", "--queue", "-S", "x=5,6", "-n", "rq",
                   cwd=repo).returncode == 0
    # DVC: --queue cannot be combined with names or --keep
    both = run_cli("exp", "remove", "--queue", "rq-1", cwd=repo)
    assert both.returncode == 255 and "--queue" in both.stderr
    keep = run_cli("exp", "remove", "--queue", "--keep", cwd=repo)
    assert keep.returncode == 255
    assert "Cannot use both `--keep` and `--queue`." in keep.stderr
    removed = run_cli("exp", "remove", "--queue", cwd=repo)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "Removed experiments: 'rq-1' and 'rq-2'\n"
    assert statuses(repo) == {"done": "Success"}
    assert exp_names(repo) == ["done"]
    assert not [r for r in git("for-each-ref", "--format=%(refname)", cwd=repo).split()
                if "/celery/dvcexp/" in r and r.endswith(("rq-1", "rq-2"))]
    assert run_cli("exp", "remove", "--queue", cwd=repo).stdout == "No experiments to remove.\n"


def test_exp_remove_by_name_takes_queued_and_finished_entries(repo: Path) -> None:
    one_finished_entry(repo)
    assert run_cli("exp", "run", "--queue", "-S", "x=7", "-n", "later",
                   cwd=repo).returncode == 0
    # an unknown name among them removes nothing
    bad = run_cli("exp", "remove", "later", "nope", cwd=repo)
    assert bad.returncode == 255 and "'nope' is not a valid experiment name" in bad.stderr
    assert set(statuses(repo)) == {"done", "later"}
    # a finished queue entry goes with its experiment, as in DVC
    removed = run_cli("exp", "remove", "later", "done", cwd=repo)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == "Removed experiments: 'later' and 'done'\n"
    assert statuses(repo) == {}
    assert exp_names(repo) == []
    assert "refs/exps/celery/dvcexp/" not in git("for-each-ref", cwd=repo)


def test_recovery_cleans_the_workspaces_of_a_killed_runner(repo: Path) -> None:
    assert run_cli("exp", "run", "--queue", "-n", "slow", cwd=repo).returncode == 0
    exps = repo / ".dvc" / "tmp" / "exps"
    # DVC's own directories there are not ours to clean
    (exps / "standalone").mkdir(parents=True)
    (exps / "tmpabcd1234").mkdir()
    runner = subprocess.Popen([sys.executable, "-m", "dvcexp_plugin.experiments.queue_worker",
                               str(repo), "1"], env={**os.environ, **GIT_ENV},
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    wait_for(lambda: (repo.parent / "started-slow").exists())
    workspaces = [p for p in exps.iterdir() if p.name not in ("standalone", "tmpabcd1234")]
    assert len(workspaces) == 1
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
    assert statuses(repo) == {"slow": "Failed"}
    assert sorted(p.name for p in exps.iterdir()) == ["standalone", "tmpabcd1234"]


def test_queue_stop_lets_started_entries_finish_and_requeues_the_rest(repo: Path) -> None:
    """DVC's `queue stop`: running work ends, nothing new starts, queued stays queued."""
    assert run_cli("exp", "run", "--queue", "-S", "x=1,2,3", "-n", "s",
                   cwd=repo).returncode == 0
    assert run_cli("queue", "start", "-j", "1", cwd=repo).returncode == 0
    wait_for(lambda: any((repo.parent / f"started-s-{i}").exists() for i in (1, 2, 3)))
    started = [i for i in (1, 2, 3) if (repo.parent / f"started-s-{i}").exists()]
    stopped = run_cli("queue", "stop", cwd=repo)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == "Queue workers will stop after running tasks finish.\n"
    wait_for(lambda: "Running" not in statuses(repo).values()
             and "Worker status: 0 active" in run_cli("queue", "status", cwd=repo).stdout)
    final = statuses(repo)
    assert [n for n, s in final.items() if s == "Success"] == [f"s-{started[0]}"]
    assert sorted(n for n, s in final.items() if s == "Queued") == sorted(
        f"s-{i}" for i in (1, 2, 3) if i != started[0])
    assert exp_names(repo) == [f"s-{started[0]}"]
    # the next start runs the rest (the stop request does not outlive its runner)
    assert run_cli("queue", "start", "-j", "2", cwd=repo).returncode == 0
    wait_for(lambda: set(statuses(repo).values()) == {"Success"}, timeout=120)
    assert exp_names(repo) == ["s-1", "s-2", "s-3"]


def test_queue_stop_kill_kills_running_entries(repo: Path) -> None:
    assert run_cli("exp", "run", "--queue", "-S", "x=1,2", "-n", "t",
                   cwd=repo).returncode == 0
    assert run_cli("queue", "start", "-j", "1", cwd=repo).returncode == 0
    wait_for(lambda: any((repo.parent / f"started-t-{i}").exists() for i in (1, 2)))
    first = next(i for i in (1, 2) if (repo.parent / f"started-t-{i}").exists())
    other = 3 - first
    result = run_cli("queue", "stop", "--kill", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"t-{first} has been killed.\nAll running tasks in the queue "
                             "have been killed.Queue workers are stopping.\n")
    wait_for(lambda: "Worker status: 0 active" in run_cli("queue", "status", cwd=repo).stdout)
    assert statuses(repo) == {f"t-{first}": "Failed", f"t-{other}": "Queued"}
    assert exp_names(repo) == []
    assert not (repo.parent / f"started-t-{other}").exists()
