"""``exp run --temp``, ``-C/--copy-paths``, the untracked-dep warning, ``--rev`` and ``--reset``.

DVC references: ``func/experiments/test_experiments.py::test_copy_paths``,
``::test_copy_paths_errors``, ``::test_local_config_is_propagated_to_tmp``,
``::test_run_env``; ``test_queue.py::test_copy_paths_queue``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT, git, run_cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", path)
    (path / "dvc.lock").unlink()
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline", cwd=path)
    return path


def exp_refs(repo: Path) -> dict[str, str]:
    out = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps", cwd=repo)
    return {line.split()[0].rsplit("/", 1)[-1]: line.split()[1] for line in out.splitlines()
            if "/celery/" not in line}


def tree(repo: Path, rev: str) -> list[str]:
    return git("ls-tree", "-r", "--name-only", rev, cwd=repo).split()


def show(repo: Path, rev: str, path: str) -> str:
    return git("show", f"{rev}:{path}", cwd=repo)


def standalone_left(repo: Path) -> list[str]:
    path = repo / ".dvc" / "tmp" / "exps" / "standalone"
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def test_temp_runs_isolated_and_leaves_the_workspace(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    result = run_cli("exp", "run", "--temp", "-n", "t1", "-S", "train.lr=0.3", cwd=repo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Reproducing experiment 't1'"
    assert lines[-5:] == ["", "Ran experiment(s): t1",
                          "To apply the results of an experiment to your workspace run:", "",
                          "\tdvcexp exp apply <exp>"]
    # the user's workspace is untouched: no params edit, no lock, no outputs
    assert git("status", "--porcelain", cwd=repo) == ""
    assert not (repo / "dvc.lock").exists() and not (repo / "metrics.json").exists()
    assert "lr: 0.1" in (repo / "params.yaml").read_text()
    sha = exp_refs(repo)["t1"]
    assert git("log", "--format=%P", "-1", sha, cwd=repo).strip() == head
    files = tree(repo, sha)
    assert "dvc.lock" in files and "metrics.json" in files
    # cached outputs never go into git, even when another stage depends on them
    assert "model/model.json" not in files and not any(f.startswith("data/prepared")
                                                       for f in files)
    assert "lr: 0.3" in show(repo, sha, "params.yaml")
    assert standalone_left(repo) == []
    # the results can be applied; outputs come from the shared cache
    applied = run_cli("exp", "apply", "t1", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    assert (repo / "model" / "model.json").exists()


def test_temp_env_and_local_config_is_propagated_to_tmp(dvc_repo) -> None:
    repo = dvc_repo({
        "dvc.yaml": (
            "stages:\n  env:\n    cmd: >-\n      python -c \"import os; "
            "print(os.environ['DVC_ROOT'], os.environ['DVC_EXP_NAME'], "
            "os.environ['DVC_EXP_BASELINE_REV'])\" > env.txt"
            " && cat .dvc/config.local > config_seen.txt\n"
            "    outs:\n    - env.txt:\n        cache: false\n"
            "    - config_seen.txt:\n        cache: false\n"
        ),
    })
    (repo / ".dvc" / "config.local").write_text("[core]\n    autostage = true\n")
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    result = run_cli("exp", "run", "--temp", "-n", "envexp", cwd=repo)
    assert result.returncode == 0, result.stderr
    sha = exp_refs(repo)["envexp"]
    assert show(repo, sha, "env.txt").split() == [str(repo), "envexp", head]
    assert "autostage = true" in show(repo, sha, "config_seen.txt")


COPY_YAML = """\
stages:
  use:
    cmd: cat dir/a.txt file.txt > out.txt
    outs:
    - out.txt:
        cache: false
"""


@pytest.mark.parametrize("mode", ["--temp", "--queue"])
def test_copy_paths(dvc_repo, mode: str) -> None:
    repo = dvc_repo({"dvc.yaml": COPY_YAML, ".gitignore": "dir/\nfile.txt\n"})
    (repo / "dir").mkdir()
    (repo / "dir" / "a.txt").write_text("from dir\n")
    (repo / "file.txt").write_text("from file\n")
    result = run_cli("exp", "run", mode, "-n", "cp", "-C", "dir", "-C", "file.txt", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    if mode == "--queue":
        ran = run_cli("exp", "run", "--run-all", cwd=repo)
        assert ran.returncode == 0, ran.stderr
    sha = exp_refs(repo)["cp"]
    assert show(repo, sha, "out.txt") == "from dir\nfrom file\n"
    files = tree(repo, sha)
    # copied paths are available to the command but not committed
    assert "file.txt" not in files and "dir/a.txt" not in files


@pytest.mark.parametrize("mode", ["--temp", "--queue"])
def test_copy_paths_errors(dvc_repo, mode: str) -> None:
    repo = dvc_repo({"dvc.yaml": COPY_YAML})
    result = run_cli("exp", "run", mode, "-C", "missing.txt", cwd=repo)
    assert result.returncode == 255
    assert result.stderr.strip() == (
        f"ERROR: Unable to copy '{repo / 'missing.txt'}'. It is not a file or directory."
    )
    assert exp_refs(repo) == {}
    assert git("for-each-ref", "refs/exps", cwd=repo) == ""
    assert "Queued" not in run_cli("queue", "status", cwd=repo).stdout


UNTRACKED_DEP = """\
stages:
  use:
    cmd: cat raw.txt > out.txt
    deps:
    - raw.txt
    outs:
    - out.txt:
        cache: false
"""


def test_untracked_dep_warns_and_copy_commits_it(dvc_repo) -> None:
    repo = dvc_repo({"dvc.yaml": UNTRACKED_DEP})
    (repo / "raw.txt").write_text("raw\n")
    warned = run_cli("exp", "run", "--queue", "-n", "q", cwd=repo)
    assert warned.returncode == 0, warned.stderr
    warnings = [line for line in warned.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "'raw.txt'" in warnings[0] and "-C raw.txt" in warnings[0]
    # --temp with -C: no warning, and the untracked dep is committed, as DVC does
    result = run_cli("exp", "run", "--temp", "-n", "t", "-C", "raw.txt", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr
    sha = exp_refs(repo)["t"]
    assert show(repo, sha, "raw.txt") == "raw\n"
    assert show(repo, sha, "out.txt") == "raw\n"
    assert git("status", "--porcelain", cwd=repo) == "?? raw.txt\n"


def test_temp_failure_keeps_log_and_no_ref(repo: Path) -> None:
    (repo / "src" / "train.py").write_text("print('boom output')\nraise SystemExit(3)\n")
    result = run_cli("exp", "run", "--temp", "-n", "bad", cwd=repo)
    assert result.returncode == 255
    assert "ERROR: failed to reproduce 'train'" in result.stderr
    assert exp_refs(repo) == {}
    assert standalone_left(repo) == []
    log = (repo / ".dvc" / "tmp" / "dvcexp" / "temp-logs" / "bad.log").read_text()
    assert "boom output" in log and "failed to reproduce 'train'" in log
    # the user's (modified) workspace is as it was
    assert git("status", "--porcelain", cwd=repo) == " M src/train.py\n"


def test_rev_starts_from_an_experiment(repo: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    assert run_cli("exp", "run", "--temp", "-n", "base", "-S", "train.lr=0.3",
                   cwd=repo).returncode == 0
    result = run_cli("exp", "run", "--temp", "-n", "next", "--rev", "base",
                     "-S", "train.epochs=5", cwd=repo)
    assert result.returncode == 0, result.stderr
    # prepare's outputs come from the cache; only the changed stages run
    assert "Running stage 'prepare'" not in result.stdout
    assert "Running stage 'train'" in result.stdout
    sha = exp_refs(repo)["next"]
    assert git("log", "--format=%P", "-1", sha, cwd=repo).strip() == head
    params = show(repo, sha, "params.yaml")
    assert "lr: 0.3" in params and "epochs: 5" in params
    # queued from an experiment, too
    queued = run_cli("exp", "run", "--queue", "-n", "qnext", "--rev", "base",
                     "-S", "train.epochs=7", cwd=repo)
    assert queued.returncode == 0, queued.stderr
    assert run_cli("exp", "run", "--run-all", cwd=repo).returncode == 0
    qparams = show(repo, exp_refs(repo)["qnext"], "params.yaml")
    assert "lr: 0.3" in qparams and "epochs: 7" in qparams


def test_rev_needs_an_isolated_run(repo: Path) -> None:
    result = run_cli("exp", "run", "--rev", "HEAD", cwd=repo)
    assert result.returncode == 255
    assert "--rev" in result.stderr


PERSIST = """\
stages:
  grow:
    cmd: echo x >> grown.txt
    outs:
    - grown.txt:
        cache: false
        persist: true
"""


def test_reset_removes_persisted_outputs(dvc_repo) -> None:
    repo = dvc_repo({"dvc.yaml": PERSIST})
    assert run_cli("exp", "run", "-f", cwd=repo).returncode == 0
    assert run_cli("exp", "run", "-f", cwd=repo).returncode == 0
    assert (repo / "grown.txt").read_text() == "x\nx\n"
    result = run_cli("exp", "run", "-f", "--reset", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert (repo / "grown.txt").read_text() == "x\n"
    # in a temp run from the last experiment, too
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "grown", cwd=repo)
    (repo / "grown.txt").write_text("x\nx\nx\n")
    git("commit", "-qam", "more", cwd=repo)
    temp = run_cli("exp", "run", "--temp", "-f", "--reset", "-n", "r", cwd=repo)
    assert temp.returncode == 0, temp.stderr
    assert show(repo, exp_refs(repo)["r"], "grown.txt") == "x\n"
