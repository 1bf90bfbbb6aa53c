"""``exp apply/save/diff/show`` agree with real DVC 3.67.1 (interop: needs DVCEXP_DVC).

``tox -e interop`` points DVCEXP_DVC at a dvc of its own; without it these are skipped.
"""
from __future__ import annotations

import hashlib
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
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1", "COLUMNS": "200"}
    assert DVC
    return subprocess.run([DVC, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    repo = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", repo)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "init", cwd=repo)
    return repo


def workspace(repo: Path) -> dict[str, str]:
    files = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and not rel.startswith((".git/", ".dvc/tmp/", ".dvc/cache/")):
            files[rel] = hashlib.md5(path.read_bytes()).hexdigest()
    return files


def test_dvc_applies_our_experiments(example: Path) -> None:
    for args in (("-n", "ours-a"), ("-n", "ours-b", "-S", "train.lr=0.2")):
        assert run_cli("exp", "run", *args, cwd=example).returncode == 0
    with (example / "src" / "train.py").open("a") as fobj:
        fobj.write("# saved, not run\n")
    assert run_cli("exp", "save", "-n", "ours-saved", cwd=example).returncode == 0
    assert dvc("exp", "list", "--name-only", cwd=example).stdout.split() == \
        ["ours-a", "ours-b", "ours-saved"]
    applied = dvc("exp", "apply", "ours-a", cwd=example)
    assert applied.returncode == 0, applied.stderr
    assert "lr: 0.1" in (example / "params.yaml").read_text()
    assert dvc("status", cwd=example).stdout.strip() == "Data and pipelines are up to date."
    assert dvc("exp", "apply", "ours-saved", cwd=example).returncode == 0
    assert "# saved, not run" in (example / "src" / "train.py").read_text()


def test_we_apply_dvc_experiments_as_dvc_does(example: Path, tmp_path: Path) -> None:
    for args in (("-n", "dvc-a"), ("-n", "dvc-b", "-S", "train.lr=0.2")):
        assert dvc("exp", "run", *args, cwd=example).returncode == 0
    (example / "notes.txt").write_text("untracked\n")
    with (example / "src" / "prepare.py").open("a") as fobj:
        fobj.write("# edit\n")
    twin = tmp_path / "twin"
    shutil.copytree(example, twin, symlinks=True)
    theirs = dvc("exp", "apply", "dvc-a", cwd=twin)
    ours = run_cli("exp", "apply", "dvc-a", cwd=example)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    assert workspace(example) == workspace(twin)
    for ref in ("refs/exps/apply/stash^{tree}", "refs/exps/exec/EXEC_APPLY",
                "refs/exps/apply/ORIG_HEAD"):
        assert git("rev-parse", ref, cwd=example) == git("rev-parse", ref, cwd=twin)
    assert git("status", "--porcelain", cwd=example) == git("status", "--porcelain", cwd=twin)


@pytest.mark.parametrize("args", [
    ("exp", "diff", "dvc-a", "dvc-b"), ("exp", "diff", "--all", "--md"), ("exp", "diff", "--json"),
    ("params", "diff", "dvc-a", "dvc-b", "--all"), ("metrics", "show"),
    ("metrics", "diff", "dvc-a", "dvc-b"), ("exp", "show", "--csv", "--sort-by", "mse"),
    ("exp", "show", "--md", "--only-changed"), ("exp", "show", "--csv", "--drop", "src/.*"),
    ("exp", "list"), ("exp", "rename", "dvc-a", "dvc-z"), ("exp", "remove", "dvc-b"),
])
def test_outputs_match_dvc(example: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    for run in (("-n", "dvc-a"), ("-n", "dvc-b", "-S", "train.lr=0.2")):
        assert dvc("exp", "run", *run, cwd=example).returncode == 0
    twin = tmp_path / "twin"
    shutil.copytree(example, twin, symlinks=True)
    theirs = dvc(*args, cwd=twin)
    ours = run_cli(*args, cwd=example, env={"COLUMNS": "200"})
    if "--json" in args:  # DVC's key order comes from set iteration: compare values
        assert json.loads(ours.stdout) == json.loads(theirs.stdout)
        ours.stdout = theirs.stdout
    assert (ours.returncode, ours.stdout, ours.stderr) == \
        (theirs.returncode, theirs.stdout, theirs.stderr)
