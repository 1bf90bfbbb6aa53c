"""``dvcexp status`` agrees with real DVC's ``dvc status`` (interop: needs DVCEXP_DVC).

``tox -e interop`` installs dvc==3.67.1 in a virtualenv of its own and points
DVCEXP_DVC at it; without it these tests are skipped.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, PROJECT, git, run_cli

DVC = os.environ.get("DVCEXP_DVC")
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not DVC, reason="set DVCEXP_DVC to a dvc 3.67.1 executable (tox -e interop)"),
]


def dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1"}
    assert DVC
    return subprocess.run([DVC, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    repo = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", repo,
                    ignore=shutil.ignore_patterns(".dvc"))
    git("init", "-q", "-b", "main", cwd=repo)
    assert dvc("init", "-q", cwd=repo).returncode == 0
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "init", cwd=repo)
    return repo


def both_status(repo: Path) -> tuple[dict, dict]:
    ours = run_cli("status", "--json", cwd=repo)
    theirs = dvc("status", "--json", cwd=repo)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    return json.loads(ours.stdout), json.loads(theirs.stdout)


def test_status_agrees_through_a_lifecycle(example: Path) -> None:
    ours, theirs = both_status(example)  # lock present, outputs missing
    assert ours == theirs
    assert run_cli("repro", cwd=example).returncode == 0
    ours, theirs = both_status(example)
    assert ours == theirs == {}
    assert "Data and pipelines are up to date." in dvc("status", cwd=example).stdout
    # edits of every kind DVC reports
    params = example / "params.yaml"
    params.write_text(params.read_text().replace("lr: 0.1", "lr: 0.2"))
    (example / "src" / "evaluate.py").write_text("print('changed')\n")
    shutil.rmtree(example / "model")
    with (example / "dvc.yaml").open("a") as fobj:
        fobj.write("  extra:\n    cmd: echo hi\n    always_changed: true\n")
    ours, theirs = both_status(example)
    assert ours == theirs and ours


def test_dvc_repro_then_dvcexp_runs_nothing(example: Path) -> None:
    assert dvc("repro", cwd=example).returncode == 0
    result = run_cli("repro", cwd=example)
    assert result.returncode == 0, result.stderr
    assert "Running stage" not in result.stdout
    assert "Data and pipelines are up to date." in result.stdout


def test_lock_is_byte_identical_to_dvc_repro(example: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(example, twin)
    assert run_cli("repro", cwd=example).returncode == 0
    assert dvc("repro", cwd=twin).returncode == 0
    assert (example / "dvc.lock").read_bytes() == (twin / "dvc.lock").read_bytes()
    assert "Data and pipelines are up to date." in dvc("status", cwd=example).stdout


def test_exp_show_reads_dvc_experiments_as_dvc(example: Path) -> None:
    env_free = dvc("exp", "run", "-n", "exp-a", cwd=example)
    assert env_free.returncode == 0, env_free.stderr
    assert dvc("exp", "run", "-n", "exp-b", "-S", "train.lr=0.2", cwd=example).returncode == 0
    ours = run_cli("exp", "show", "--json", cwd=example)
    theirs = dvc("exp", "show", "--json", cwd=example)
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)
    ours_csv = run_cli("exp", "show", "--csv", cwd=example).stdout
    assert ours_csv == dvc("exp", "show", "--csv", cwd=example).stdout


def test_dvc_reads_experiments_made_by_dvcexp(example: Path) -> None:
    made = run_cli("exp", "run", "-n", "ours", "-S", "train.lr=0.2", cwd=example)
    assert made.returncode == 0, made.stderr
    theirs = json.loads(dvc("exp", "show", "--json", cwd=example).stdout)
    ours = json.loads(run_cli("exp", "show", "--json", cwd=example).stdout)
    assert theirs == ours
    exp = theirs[1]["experiments"][0]["revs"][0]
    assert exp["name"] == "ours"
    assert exp["data"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.2
    assert "mse" in exp["data"]["metrics"]["metrics.json"]["data"]
    # dvc exp apply brings our experiment back into the workspace
    git("checkout", "-q", "--", ".", cwd=example)
    applied = dvc("exp", "apply", "ours", cwd=example)
    assert applied.returncode == 0, applied.stderr
    assert "lr: 0.2" in (example / "params.yaml").read_text()
    assert dvc("status", cwd=example).stdout.strip() == "Data and pipelines are up to date."
