"""``dvcexp compile`` is deterministic: the text for each bundled example is fixed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT, run_cli

GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = ["ml-basic", "snakemake-include"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_compile_matches_golden_text(example: str, tmp_path: Path) -> None:
    repo = tmp_path / example
    shutil.copytree(PROJECT / "workflow_examples" / example, repo)
    first = run_cli("compile", "--prefix", "dvc_", cwd=repo)
    second = run_cli("compile", "--prefix", "dvc_", cwd=repo)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout == (GOLDEN / f"{example}.smk").read_text()


def test_compile_writes_file_and_names_rules(tmp_path: Path) -> None:
    repo = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", repo)
    result = run_cli("compile", "-o", "rules.smk", "train", cwd=repo)
    assert result.returncode == 0, result.stderr
    text = (repo / "rules.smk").read_text()
    assert "rule train:" in text and "rule prepare:" not in text
    assert "# Rule names: train = train" in text
