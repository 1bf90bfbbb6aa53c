"""Every pipeline of the shared corpus resolves to the stages DVC 3.67.1 resolves.

The corpus lives in ``../shared/corpus`` (never copied into the project); each
folder is copied to a temporary repo and ``dvcexp stage list --all --json`` must
match its ``expected_stages.json`` field for field, or fail with one clear line
where DVC fails.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPUS, make_dvc_repo, run_cli

FOLDERS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []

#: what our one-line error must mention for DVC's error cases
ERROR_HINTS = {
    "YAMLSyntaxError": "YAML file structure is corrupted",
    "ResolveError": "does not exist",
    "YAMLValidationError": "dvc.lock",
}


def _normalise(stage: dict) -> dict:
    stage = dict(stage)
    stage["deps"] = sorted(stage["deps"])
    for kind in ("outs", "metrics", "plots"):
        stage[kind] = sorted(stage[kind], key=lambda o: o["path"])
    stage["params"] = {f: sorted(keys) for f, keys in stage["params"].items()}
    return stage


@pytest.mark.skipif(not FOLDERS, reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("folder", FOLDERS)
def test_corpus_folder_resolves_like_dvc(folder: str, tmp_path: Path) -> None:
    source = CORPUS / folder
    expected = json.loads((source / "expected_stages.json").read_text())
    repo = tmp_path / folder
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns("expected_stages.json"))
    make_dvc_repo(repo, commit=False)

    result = run_cli("stage", "list", "--all", "--json", cwd=repo)

    assert "Traceback" not in result.stderr
    if expected["error"]:
        kind = expected["error"].split(":", 1)[0]
        assert result.returncode == 255, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ERROR: "), result.stderr
        assert ERROR_HINTS[kind] in lines[0]
        return
    assert result.returncode == 0, result.stderr
    got = {s["addressing"]: _normalise(s) for s in json.loads(result.stdout)}
    want = {s["addressing"]: _normalise(s) for s in expected["stages"]}
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name


def test_corpus_absence_is_reported_not_hidden() -> None:
    """Guard: with ../shared present, the parametrised test must not silently vanish."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}; the corpus tests are skipped")
    assert len(FOLDERS) >= 25
