"""Experiment refs: layout, parsing, listing, and (with DVCEXP_DVC) what real DVC accepts."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from dvcexp_plugin.experiments.names import COMMIT_MESSAGE, exp_hash
from dvcexp_plugin.git import GitRepo, exp_refs
from dvcexp_plugin.git.exp_refs import ExpRef, InvalidExpRefError, iter_exp_refs
from tests.conftest import GIT_ENV, git

BASE = "2dff1cde5d0b92997ae89c3ec1cb2ded7cc5944d"
DVC = os.environ.get("DVCEXP_DVC")


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))


def test_ref_layout() -> None:
    exp = ExpRef(BASE, "moldy-linn")
    assert exp.ref == "refs/exps/2d/ff1cde5d0b92997ae89c3ec1cb2ded7cc5944d/moldy-linn"
    assert str(exp) == exp.ref
    assert ExpRef.from_ref(exp.ref) == exp
    assert exp_refs.baseline_prefix(BASE) == "refs/exps/2d/ff1cde5d0b92997ae89c3ec1cb2ded7cc5944d/"


@pytest.mark.parametrize(
    "ref",
    [
        "refs/exps/2d/ff1cde5d0b92997ae89c3ec1cb2ded7cc5944d",  # baseline namespace, no name
        "refs/exps/2d/ff1cde5d0b92997ae89c3ec1cb2ded7cc5944d/a/b",
        "refs/heads/2d/ff1cde5d0b92997ae89c3ec1cb2ded7cc5944d/x",
        "refs/exps/2dff/1cde5d0b92997ae89c3ec1cb2ded7cc5944d/x",
        "refs/exps/2d/ff1cde5d/x",
        "refs/exps/2D/FF1CDE5D0B92997AE89C3EC1CB2DED7CC5944D/x",
        "refs/exps/stash",
        "refs/exps/celery/stash",
        "refs/exps/celery/failed",
        "refs/exps/exec/EXEC_HEAD",
        "refs/exps/apply/ORIG_HEAD",
        "refs/exps/temp/head-0f3c",
        "refs/exps/exec/2d/ff1cde5d0b92997ae89c3ec1cb2ded7cc5944d",
    ],
)
def test_not_experiment_refs(ref: str) -> None:
    assert ExpRef.parse(ref) is None
    with pytest.raises(InvalidExpRefError, match="not an experiment ref"):
        ExpRef.from_ref(ref)


def test_exp_ref_checks_its_parts() -> None:
    with pytest.raises(InvalidExpRefError, match="full 40-digit"):
        ExpRef(BASE[:7], "x")
    with pytest.raises(InvalidExpRefError):
        ExpRef(BASE, "a/b")
    with pytest.raises(InvalidExpRefError):
        ExpRef(BASE, "")


def test_skip_rules() -> None:
    assert exp_refs.is_skipped(exp_refs.EXEC_HEAD)
    assert exp_refs.is_skipped(exp_refs.CELERY_STASH)
    assert exp_refs.is_skipped(exp_refs.WORKSPACE_STASH)
    assert exp_refs.is_skipped("refs/exps/temp/merge-1234")
    assert not exp_refs.is_skipped(ExpRef(BASE, "exec").ref)


def test_special_ref_names_are_dvcs() -> None:
    assert exp_refs.EXEC_HEAD == "refs/exps/exec/EXEC_HEAD"
    assert exp_refs.EXEC_MERGE == "refs/exps/exec/EXEC_MERGE"
    assert exp_refs.EXEC_BASELINE == "refs/exps/exec/EXEC_BASELINE"
    assert exp_refs.EXEC_BRANCH == "refs/exps/exec/EXEC_BRANCH"
    assert exp_refs.EXEC_APPLY == "refs/exps/exec/EXEC_APPLY"
    assert exp_refs.APPLY_HEAD == "refs/exps/apply/ORIG_HEAD"
    assert exp_refs.APPLY_STASH == "refs/exps/apply/stash"
    assert exp_refs.CELERY_STASH == "refs/exps/celery/stash"
    assert exp_refs.CELERY_FAILED_STASH == "refs/exps/celery/failed"
    assert exp_refs.EXPS_STASH == "refs/exps/stash"


def test_iter_exp_refs(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    (root / "f").write_text("1\n")
    git("add", "f", cwd=root)
    git("commit", "-q", "-m", "one", cwd=root)
    first = git("rev-parse", "HEAD", cwd=root).strip()
    git("commit", "-q", "--allow-empty", "-m", "two", cwd=root)
    second = git("rev-parse", "HEAD", cwd=root).strip()
    for ref, sha in [
        (ExpRef(first, "alpha").ref, second),
        (ExpRef(first, "beta").ref, second),
        (ExpRef(second, "gamma").ref, first),
        (exp_refs.EXEC_HEAD, first),
        (exp_refs.EXEC_APPLY, second),
        (exp_refs.CELERY_STASH, first),
        (exp_refs.EXPS_STASH, first),
        ("refs/exps/temp/head-1", first),
        ("refs/heads/other", first),
    ]:
        git("update-ref", ref, sha, cwd=root)
    everything = iter_exp_refs(root)
    assert everything == {
        ExpRef(first, "alpha"): second,
        ExpRef(first, "beta"): second,
        ExpRef(second, "gamma"): first,
    }
    assert iter_exp_refs(GitRepo.find(root), baseline=first) == {
        ExpRef(first, "alpha"): second,
        ExpRef(first, "beta"): second,
    }
    assert iter_exp_refs(str(root), baseline="0" * 40) == {}


# -- real DVC (tox -e interop, or DVCEXP_DVC=/path/to/dvc) ----------------------------


def dvc(*args: str, cwd: Path) -> str:
    assert DVC
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(
        [DVC, *args], cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.mark.interop
@pytest.mark.skipif(not DVC, reason="set DVCEXP_DVC to a dvc executable")
def test_real_dvc_lists_and_applies_our_commit(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    dvc("init", "-q", cwd=root)
    (root / "params.yaml").write_text("lr: 1\n")
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: echo done > out.txt\n    params: [lr]\n"
        "    outs:\n    - out.txt:\n        cache: false\n"
    )
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "baseline", cwd=root)
    (root / "params.yaml").write_text("lr: 2\n")
    dvc("repro", "-q", cwd=root)  # DVC writes dvc.lock and out.txt for us to commit

    repo = GitRepo.find(root)
    baseline = repo.head_sha()
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    tree = repo.snapshot_tree(["dvc.lock", "out.txt"])
    sha = repo.commit_tree(tree, [baseline], COMMIT_MESSAGE.format(exp_hash(lock["stages"])))
    repo.set_ref(ExpRef(baseline, "ours").ref, sha)

    git("checkout", "-q", "--", ".", cwd=root)  # back to the baseline workspace
    for name in ("dvc.lock", "out.txt"):
        (root / name).unlink()

    assert dvc("exp", "list", "--name-only", cwd=root).split() == ["ours"]
    shown = json.loads(dvc("exp", "show", "--json", cwd=root))
    exps = [exp for row in shown for exp in (row.get("experiments") or [])]
    assert [exp["name"] for exp in exps] == ["ours"]
    assert exps[0]["revs"][0]["rev"] == sha
    params = exps[0]["revs"][0]["data"]["params"]["params.yaml"]["data"]
    assert params == {"lr": 2}

    out = dvc("exp", "apply", "ours", cwd=root)
    assert "Changes for experiment 'ours' have been applied" in out
    assert (root / "params.yaml").read_text() == "lr: 2\n"
    assert (root / "dvc.lock").exists() and (root / "out.txt").read_text() == "done\n"

    # and the refs DVC itself writes parse the same way
    dvc("exp", "run", "-q", "-n", "theirs", cwd=root)
    found = {exp.name: target for exp, target in iter_exp_refs(root, baseline).items()}
    assert set(found) == {"ours", "theirs"}
    # DVC committed exactly the tree we would snapshot from the same work tree
    assert repo.commit_info(found["theirs"]).tree == repo.snapshot_tree(["dvc.lock", "out.txt"])
    assert repo.get_ref(exp_refs.EXEC_HEAD) == baseline  # left behind by DVC, skipped above
