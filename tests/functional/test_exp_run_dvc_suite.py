"""DVC's own experiment test-suite behaviours (reference section B), on ``exp_stage``.

``exp_stage`` is DVC's fixture: ``params.yaml`` is ``foo: 1``; stage ``copy-file``
runs ``python copy.py params.yaml metrics.yaml`` with dep ``copy.py``, param ``foo``
and metric ``metrics.yaml`` (``cache: false``); everything is committed.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import git, make_dvc_repo, run_cli

COPY = """\
import shutil, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
"""
DVC_YAML = """\
stages:
  copy-file:
    cmd: python copy.py params.yaml metrics.yaml
    deps:
    - copy.py
    params:
    - foo
    metrics:
    - metrics.yaml:
        cache: false
"""


@pytest.fixture
def exp_stage(tmp_path: Path) -> Path:
    return make_dvc_repo(tmp_path / "repo", {
        "copy.py": COPY, "params.yaml": "foo: 1\n", "dvc.yaml": DVC_YAML,
    })


def refs(repo: Path) -> list[str]:
    return git("for-each-ref", "--format=%(refname)", "refs/exps", cwd=repo).split()


def exp_file(repo: Path, ref: str, path: str) -> str:
    return git("show", f"{ref}:{path}", cwd=repo)


def test_new_simple(exp_stage: Path) -> None:
    result = run_cli("exp", "run", "-n", "foo", "-S", "foo=2", cwd=exp_stage)
    assert result.returncode == 0, result.stderr
    (ref,) = refs(exp_stage)
    baseline = git("rev-parse", "HEAD", cwd=exp_stage).strip()
    assert ref == f"refs/exps/{baseline[:2]}/{baseline[2:]}/foo"
    assert exp_file(exp_stage, ref, "metrics.yaml") == "foo: 2\n"
    assert (exp_stage / "metrics.yaml").read_text() == "foo: 2\n"
    assert git("rev-parse", ref, cwd=exp_stage).strip()  # resolves as a git rev


def test_file_permissions_are_kept(exp_stage: Path) -> None:
    script = exp_stage / "copy.py"
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    git("commit", "-qam", "exec", cwd=exp_stage)
    assert run_cli("exp", "run", cwd=exp_stage).returncode == 0
    assert script.stat().st_mode & stat.S_IXUSR


def test_detached_head(exp_stage: Path) -> None:
    git("checkout", "-q", "--detach", cwd=exp_stage)
    baseline = git("rev-parse", "HEAD", cwd=exp_stage).strip()
    assert run_cli("exp", "run", "-S", "foo=3", cwd=exp_stage).returncode == 0
    (ref,) = refs(exp_stage)
    assert ref.startswith(f"refs/exps/{baseline[:2]}/{baseline[2:]}/")
    assert (exp_stage / "params.yaml").read_text() == "foo: 3\n"


def test_staged_but_never_committed_files_are_included(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {"params.yaml": "foo: 1\n"})
    (repo / "copy.py").write_text(COPY)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    git("add", "copy.py", "dvc.yaml", cwd=repo)
    assert run_cli("exp", "run", "-n", "u", cwd=repo).returncode == 0
    (ref,) = refs(repo)
    files = git("ls-tree", "-r", "--name-only", ref, cwd=repo).split()
    assert {"copy.py", "dvc.yaml", "dvc.lock", "metrics.yaml"} <= set(files)


def test_custom_commit_message(exp_stage: Path) -> None:
    assert run_cli("exp", "run", "-m", "my message", cwd=exp_stage).returncode == 0
    (ref,) = refs(exp_stage)
    assert git("log", "-1", "--format=%B", ref, cwd=exp_stage).strip() == "my message"


def test_dry_run_creates_no_experiment(exp_stage: Path) -> None:
    result = run_cli("exp", "run", "--dry", cwd=exp_stage)
    assert result.returncode == 0, result.stderr
    assert not refs(exp_stage)


def test_untracked_top_level_files_are_included(exp_stage: Path) -> None:
    (exp_stage / "dvc.yaml").write_text(DVC_YAML + "metrics:\n- top.json\nparams:\n- top.yaml\n")
    git("commit", "-qam", "top-level", cwd=exp_stage)
    (exp_stage / "top.json").write_text('{"a": 1}')
    (exp_stage / "top.yaml").write_text("b: 2\n")
    assert run_cli("exp", "run", "-n", "t", cwd=exp_stage).returncode == 0
    (ref,) = refs(exp_stage)
    files = git("ls-tree", "-r", "--name-only", ref, cwd=exp_stage).split()
    assert {"top.json", "top.yaml"} <= set(files)


def test_untracked_unrelated_file_is_left_out(exp_stage: Path) -> None:
    (exp_stage / "notes.txt").write_text("mine")
    assert run_cli("exp", "run", cwd=exp_stage).returncode == 0
    (ref,) = refs(exp_stage)
    assert "notes.txt" not in git("ls-tree", "-r", "--name-only", ref, cwd=exp_stage).split()
    assert (exp_stage / "notes.txt").exists()


def test_modified_and_staged_new_files_are_included(exp_stage: Path) -> None:
    (exp_stage / "copy.py").write_text(COPY + "# changed\n")
    (exp_stage / "new.txt").write_text("new")
    git("add", "new.txt", cwd=exp_stage)
    assert run_cli("exp", "run", cwd=exp_stage).returncode == 0
    (ref,) = refs(exp_stage)
    assert exp_file(exp_stage, ref, "copy.py").endswith("# changed\n")
    assert exp_file(exp_stage, ref, "new.txt") == "new"


def test_deleted_tracked_dep_fails_and_stays_deleted(exp_stage: Path) -> None:
    (exp_stage / "copy.py").unlink()
    result = run_cli("exp", "run", cwd=exp_stage)
    assert result.returncode == 255
    assert not refs(exp_stage) and not (exp_stage / "copy.py").exists()


def test_subdir_pipeline_commits_files_at_their_repo_paths(exp_stage: Path) -> None:
    sub = exp_stage / "dir"
    sub.mkdir()
    for name in ("copy.py", "params.yaml", "dvc.yaml"):
        (sub / name).write_text((exp_stage / name).read_text())
    git("add", "dir", cwd=exp_stage)
    git("commit", "-qm", "subdir", cwd=exp_stage)
    result = run_cli("exp", "run", "-n", "sub", "dir/dvc.yaml", cwd=exp_stage)
    assert result.returncode == 0, result.stderr
    (ref,) = refs(exp_stage)
    files = git("ls-tree", "-r", "--name-only", ref, cwd=exp_stage).split()
    assert {"dir/metrics.yaml", "dir/dvc.lock"} <= set(files)


def test_no_dvc_yaml_is_a_one_line_error(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {"x.txt": "x"})
    result = run_cli("exp", "run", cwd=repo)
    assert result.returncode == 255
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and not refs(repo)


def test_no_git_is_a_one_line_error(tmp_path: Path) -> None:
    repo = tmp_path / "nogit"
    (repo / ".dvc").mkdir(parents=True)
    (repo / "dvc.yaml").write_text("stages:\n  a:\n    cmd: echo\n")
    for args in (["exp", "run"], ["exp", "show"], ["exp", "list"]):
        result = run_cli(*args, cwd=repo)
        assert result.returncode == 255, args
        assert result.stderr.startswith("ERROR: ") and "git" in result.stderr.lower()
        assert len(result.stderr.strip().splitlines()) == 1


def test_experiment_unchanged_gives_two_experiments(exp_stage: Path) -> None:
    assert run_cli("exp", "run", cwd=exp_stage).returncode == 0
    assert run_cli("exp", "run", cwd=exp_stage).returncode == 0
    assert len(refs(exp_stage)) == 2


def test_py_params_file(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "params.py": "INT = 1\n\n\nclass Train:\n    seed = 0\n",
        "dvc.yaml": ("stages:\n  s:\n    cmd: cat params.py > out.txt\n    params:\n"
                     "    - params.py:\n      - INT\n      - Train.seed\n"
                     "    outs:\n    - out.txt:\n        cache: false\n"),
    })
    result = run_cli("exp", "run", "-S", "params.py:INT=2", "-S", "params.py:Train.seed=7",
                     cwd=repo)
    assert result.returncode == 0, result.stderr
    text = (repo / "params.py").read_text()
    assert "INT = 2" in text and "seed = 7" in text
    assert os.path.exists(repo / "out.txt")
