"""``dvcexp exp run`` in the workspace: refs, commits, names, -S, failures (DVC's behaviour)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, PROJECT, git, run_cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", path)
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline", cwd=path)
    return path


def exp_refs(repo: Path) -> dict[str, str]:
    out = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps", cwd=repo)
    return dict(line.split() for line in out.splitlines())


def test_exp_run_commits_one_experiment_on_the_baseline(repo: Path) -> None:
    baseline = git("rev-parse", "HEAD", cwd=repo).strip()
    result = run_cli("exp", "run", "-n", "first", "-S", "train.lr=0.2", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Reproducing experiment 'first'\n")
    assert result.stdout.endswith(
        "\nRan experiment(s): first\nExperiment results have been applied to your workspace.\n"
    )
    ref = f"refs/exps/{baseline[:2]}/{baseline[2:]}/first"
    sha = exp_refs(repo)[ref]
    assert git("rev-list", "--parents", "-n1", sha, cwd=repo).split() == [sha, baseline]
    message = git("log", "-1", "--format=%B", sha, cwd=repo).strip()
    lock = json.loads(json.dumps(__import__("yaml").safe_load((repo / "dvc.lock").read_text())))
    ran = {name: lock["stages"][name] for name in ("prepare", "train", "evaluate")}
    digest = hashlib.sha256(json.dumps(ran, sort_keys=True).encode()).hexdigest()
    assert message == f"dvc: commit experiment {digest}"
    files = git("ls-tree", "-r", "--name-only", sha, cwd=repo).split()
    assert {"dvc.lock", "metrics.json", "params.yaml"} <= set(files)
    assert "model/model.json" not in files  # cached outputs stay out of git
    assert "data/.gitignore" not in files  # untracked, as DVC leaves it
    # HEAD did not move; results stay in the workspace as changes
    assert git("rev-parse", "HEAD", cwd=repo).strip() == baseline
    status = git("status", "--porcelain", cwd=repo)
    assert " M params.yaml" in status and "lr: 0.2" in (repo / "params.yaml").read_text()


def test_no_op_rerun_makes_a_new_experiment_with_the_same_tree(repo: Path) -> None:
    assert run_cli("exp", "run", "-n", "one", cwd=repo).returncode == 0
    result = run_cli("exp", "run", "-n", "two", cwd=repo)
    assert "Stage 'train' didn't change, skipping" in result.stdout
    refs = exp_refs(repo)
    one, two = (next(s for r, s in refs.items() if r.endswith(n)) for n in ("/one", "/two"))
    tree = [git("rev-parse", f"{s}^{{tree}}", cwd=repo).strip() for s in (one, two)]
    assert tree[0] == tree[1]
    empty = hashlib.sha256(b"{}").hexdigest()
    assert git("log", "-1", "--format=%B", two, cwd=repo).strip() == (
        f"dvc: commit experiment {empty}"
    )


def test_random_names_are_adjective_noun(repo: Path) -> None:
    result = run_cli("exp", "run", cwd=repo)
    name = result.stdout.splitlines()[0].split("'")[1]
    adjective, noun = name.split("-")
    assert len(adjective) == 5 and len(noun) == 4


def test_existing_name_fails_before_anything_changes_and_f_replaces(repo: Path) -> None:
    assert run_cli("exp", "run", "-n", "dup", cwd=repo).returncode == 0
    before = (repo / "params.yaml").read_text()
    again = run_cli("exp", "run", "-n", "dup", "-S", "train.lr=0.3", cwd=repo)
    assert again.returncode == 255
    assert again.stderr.strip().splitlines() == [
        "ERROR: Experiment conflicts with existing experiment 'dup'. To overwrite the "
        "existing experiment run: dvcexp exp run -f ..."
    ]
    assert (repo / "params.yaml").read_text() == before
    forced = run_cli("exp", "run", "-n", "dup", "-f", "-S", "train.lr=0.3", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert len([r for r in exp_refs(repo) if r.endswith("/dup")]) == 1


@pytest.mark.parametrize("name", ["bad name", "bad..name", "a/b", "x^", "end.lock"])
def test_invalid_names_are_rejected(repo: Path, name: str) -> None:
    result = run_cli("exp", "run", "-n", name, cwd=repo)
    assert result.returncode == 255
    assert f"Invalid exp name {name}" in result.stderr
    assert not exp_refs(repo)


def test_bad_set_param_changes_nothing(repo: Path) -> None:
    before = (repo / "params.yaml").read_text()
    result = run_cli("exp", "run", "-S", "train.nope=1", cwd=repo)
    assert result.returncode == 255
    assert "Could not override 'train.nope'. To append to your config use +train.nope=1" in (
        result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert (repo / "params.yaml").read_text() == before and not exp_refs(repo)
    sweep = run_cli("exp", "run", "-S", "train.lr=0.1,0.2", cwd=repo)
    assert sweep.returncode == 255
    assert "Sweep overrides can't be used without `--queue`" in sweep.stderr


def test_stage_commands_see_the_experiment_environment(repo: Path) -> None:
    dvc_yaml = repo / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text() + (
        "  env:\n    cmd: env | grep -E '^DVC_' | sort > env.txt\n"
        "    outs:\n    - env.txt:\n        cache: false\n"
    ))
    git("commit", "-qam", "env stage", cwd=repo)
    baseline = git("rev-parse", "HEAD", cwd=repo).strip()
    assert run_cli("exp", "run", "-n", "envy", cwd=repo).returncode == 0
    env = dict(line.split("=", 1) for line in (repo / "env.txt").read_text().splitlines())
    assert env["DVC_EXP_NAME"] == "envy"
    assert env["DVC_EXP_BASELINE_REV"] == baseline
    assert env["DVC_STAGE"] == "env"
    assert os.path.samefile(env["DVC_ROOT"], repo)


def test_failing_stage_leaves_no_experiment(repo: Path) -> None:
    dvc_yaml = repo / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().replace("python src/evaluate.py", "exit 3"))
    git("commit", "-qam", "broken evaluate", cwd=repo)
    result = run_cli("exp", "run", "-n", "broken", cwd=repo)
    assert result.returncode == 255
    assert "failed to reproduce 'evaluate'" in result.stderr
    assert not exp_refs(repo)
    assert (repo / "model" / "model.json").exists()  # what ran stays in the workspace


def test_missing_git_identity_is_a_clear_error(repo: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(repo.parent), GIT_CONFIG_NOSYSTEM="1", EMAIL="")
    import sys

    proc = subprocess.run([sys.executable, "-m", "dvcexp_plugin", "exp", "run"], cwd=repo,
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 255
    assert "Git username and email must be configured" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not exp_refs(repo)
    assert GIT_ENV  # the other tests run with an identity
