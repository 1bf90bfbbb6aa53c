"""Shared fixtures: real temporary git+DVC repositories and a CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
#: the shared folder beside the checkout (absent in a newcomer's clone)
SHARED = Path(os.environ.get("DVCEXP_SHARED", PROJECT.parent / "shared"))
CORPUS = SHARED / "corpus"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "dvcexp tests",
    "GIT_AUTHOR_EMAIL": "tests@dvcexp.invalid",
    "GIT_COMMITTER_NAME": "dvcexp tests",
    "GIT_COMMITTER_EMAIL": "tests@dvcexp.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | str, env: dict[str, str] | None = None) -> Result:
    """Run ``python -P -m dvcexp_plugin ARGS`` in ``cwd`` as a user would.

    ``-P``: like the ``dvcexp`` console script, do not put ``cwd`` on ``sys.path``
    (a user's ``copy.py`` must not shadow the standard library).
    """
    full_env = {**os.environ, **GIT_ENV, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-P", "-m", "dvcexp_plugin", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def git(*args: str, cwd: Path | str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def make_dvc_repo(path: Path, files: dict[str, str] | None = None, commit: bool = True) -> Path:
    """A git repo with ``.dvc/`` as ``dvc init`` leaves it, plus ``files``."""
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main", cwd=path)
    (path / ".dvc").mkdir(exist_ok=True)
    (path / ".dvc" / "config").write_text("")
    (path / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    (path / ".dvcignore").write_text("# Add patterns of files dvc should ignore\n")
    for name, text in (files or {}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    if commit:
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", "init", cwd=path)
    return path


@pytest.fixture
def dvc_repo(tmp_path: Path):
    """Factory: ``dvc_repo({"dvc.yaml": ...})`` → path of a fresh repo."""

    def factory(files: dict[str, str] | None = None, commit: bool = True) -> Path:
        return make_dvc_repo(tmp_path / "repo", files, commit)

    return factory
