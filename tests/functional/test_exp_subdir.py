"""A DVC project in a subdirectory of its git repository (``dvc init --subdir``).

dvcexp does not save experiments for such projects yet: every command that
would write one fails up front with one line, and nothing changes.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import git, make_dvc_repo, run_cli

DVC_YAML = "stages:\n  s:\n    cmd: echo ${x} > o.txt\n    params: [x]\n    outs: [o.txt]\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_dvc_repo(tmp_path / "repo", {"README": "top\n"})
    proj = root / "proj"
    (proj / ".dvc").mkdir(parents=True)
    (proj / ".dvc" / "config").write_text("[core]\n    no_scm = False\n")
    (proj / "dvc.yaml").write_text(DVC_YAML)
    (proj / "params.yaml").write_text("x: 1\n")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "subdir project", cwd=root)
    return proj


@pytest.mark.parametrize("args", [
    ["exp", "run", "-S", "x=2"],
    ["exp", "run", "--queue", "-S", "x=2"],
    ["exp", "run", "--temp"],
    ["exp", "save"],
])
def test_experiment_writers_refuse_a_subdir_project_and_change_nothing(
    project: Path, args: list[str]
) -> None:
    result = run_cli(*args, cwd=project)
    assert result.returncode != 0  # 255; `exp save` wraps it in DVC's "failed to save" (1)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "a subdirectory of its git repository (dvc init --subdir)" in result.stderr
    assert (project / "params.yaml").read_text() == "x: 1\n"
    assert not (project / "o.txt").exists()
    assert git("status", "--porcelain", cwd=project) == ""
    assert git("for-each-ref", "refs/exps", cwd=project) == ""
