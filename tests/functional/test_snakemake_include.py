"""A user's Snakefile includes the generated rules and runs them with the real snakemake CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT, git, run_cli

EXAMPLE = PROJECT / "workflow_examples" / "snakemake-include"


def test_snakefile_includes_dvc_stages_and_runs_them(tmp_path: Path) -> None:
    repo = tmp_path / "inc"
    shutil.copytree(EXAMPLE, repo)
    git("init", "-q", cwd=repo)
    compiled = run_cli("compile", "--prefix", "dvc_", cwd=repo)
    assert compiled.returncode == 0, compiled.stderr
    # the committed rules are what `dvcexp compile` prints today
    assert compiled.stdout == (EXAMPLE / "dvc_rules.smk").read_text()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-c1", "report"],
        cwd=repo, env=env, capture_output=True, text=True,
    )

    assert proc.returncode == 0, proc.stderr
    report = (repo / "report.md").read_text()
    assert "- snakemake: 1" in report and "- the" not in report  # min_length 4 applied
    lock = (repo / "dvc.lock").read_text()
    assert "tokenize:" in lock and "count:" in lock
    assert "words.min_length: 4" in lock
    # DVC's cache holds the outputs, and .gitignore lists them as DVC writes it
    assert (repo / ".gitignore").read_text().splitlines() == ["/tokens.txt", "/counts.txt"]
    assert any((repo / ".dvc" / "cache" / "files" / "md5").rglob("*"))
    status = run_cli("status", cwd=repo)
    assert status.stdout.strip() == "Data and pipelines are up to date.", status.stdout
