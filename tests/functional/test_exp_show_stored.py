"""``exp show --json`` answered from its stored output and workspace row never shows stale data.

Each case lets the cache settle (files older than the two-second racy window,
then two runs), checks that the next run is answered from the store, changes
something, and compares with a run on a copy without ``.dvc/tmp``.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, run_cli
from tests.functional.test_exp_show import make_experiment, make_show_repo

STORE = Path(".dvc") / "tmp" / "dvcexp" / "exp-show"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_show_repo(tmp_path)


def _show(path: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    result = run_cli("exp", "show", "--json", cwd=path, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _fresh(repo: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """What a run without any stored answer shows."""
    copy = repo.parent / "fresh"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(repo, copy, symlinks=True, ignore=lambda d, names: (
        ["tmp"] if os.path.basename(d) == ".dvc" else []))
    return _show(copy, env)


def _settle(repo: Path) -> None:
    """Wait out the racy window, store the answer, and check the next run uses it."""
    time.sleep(2.1)
    _show(repo)
    output = repo / STORE / "output.json"
    assert output.exists()
    original = output.read_bytes()
    output.write_bytes(original.replace(b'"rev": "workspace"', b'"rev": "STORED"', 1))
    assert _show(repo)[0]["rev"] == "STORED"
    output.write_bytes(original)


def _same_size_edit(path: Path, old: str, new: str, keep_mtime: bool) -> None:
    assert len(old) == len(new)
    before = path.stat()
    path.write_text(path.read_text().replace(old, new, 1))
    assert path.stat().st_size == before.st_size
    if keep_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize("keep_mtime", [False, True])
def test_stored_show_sees_same_size_edits(repo: Path, keep_mtime: bool) -> None:
    _settle(repo)
    _same_size_edit(repo / "params.yaml", "lr: 0.1", "lr: 0.3", keep_mtime)
    shown = _show(repo)
    assert shown == _fresh(repo)
    assert shown[0]["data"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.3

    _settle(repo)
    (repo / "metrics.json").write_text('{"mse": 0.125, "n_test": 50}')
    _same_size_edit(repo / "metrics.json", "0.125", "0.375", keep_mtime)
    shown = _show(repo)
    assert shown == _fresh(repo)
    assert shown[0]["data"]["metrics"]["metrics.json"]["data"]["mse"] == 0.375


def test_stored_show_sees_pipeline_and_lock_edits(repo: Path) -> None:
    lock = repo / "dvc.lock"
    lock.write_text("schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n"
                    "    - path: model.pkl\n      md5: 0123456789abcdef0123456789abcdef\n"
                    "      size: 10\n")
    _settle(repo)
    _same_size_edit(lock, "size: 10", "size: 20", keep_mtime=True)
    shown = _show(repo)
    assert shown == _fresh(repo)

    _settle(repo)
    dvc_yaml = repo / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text().replace(
        "metrics:", "metrics:\n    - extra.json:\n        cache: false", 1))
    (repo / "extra.json").write_text('{"acc": 1}')
    shown = _show(repo)
    assert shown == _fresh(repo)
    assert "extra.json" in shown[0]["data"]["metrics"]


def test_stored_show_sees_a_new_dvc_yaml_in_a_subdirectory(repo: Path) -> None:
    (repo / "sub").mkdir()
    _settle(repo)
    (repo / "sub" / "dvc.yaml").write_text(
        "stages:\n  other:\n    cmd: echo\n    params:\n    - p\n")
    (repo / "sub" / "params.yaml").write_text("p: 1\n")
    shown = _show(repo)
    assert shown == _fresh(repo)
    assert "sub/params.yaml" in shown[0]["data"]["params"]


def test_stored_show_sees_refs_move(repo: Path) -> None:
    _settle(repo)
    baseline = git("rev-parse", "HEAD", cwd=repo).strip()
    params = (repo / "params.yaml").read_text()
    # workspace files are not touched (make_experiment restores them): the stored
    # workspace row answers, the stored output must not
    make_experiment(repo, "exp-c", params, '{"mse": 0.75, "n_test": 50}',
                    "2026-01-04T00:00:00+00:00")
    shown = _show(repo)
    assert [e["name"] for e in shown[1]["experiments"]] == ["exp-c", "exp-b", "exp-a"]
    assert shown == _fresh(repo)

    _settle(repo)
    git("update-ref", "-d", f"refs/exps/{baseline[:2]}/{baseline[2:]}/exp-a", cwd=repo)
    shown = _show(repo)
    assert [e["name"] for e in shown[1]["experiments"]] == ["exp-c", "exp-b"]
    assert shown == _fresh(repo)

    _settle(repo)
    git("commit", "-q", "--allow-empty", "-m", "next", cwd=repo)
    shown = _show(repo)
    assert shown[1]["rev"] != baseline and shown[1]["experiments"] is None
    assert shown == _fresh(repo)

    git("checkout", "-q", "--detach", baseline, cwd=repo)
    shown = _show(repo)
    assert shown[1]["rev"] == baseline and shown[1]["name"] is None
    assert shown == _fresh(repo)


def test_stored_show_follows_the_time_zone(repo: Path) -> None:
    _settle(repo)
    utc = _show(repo, env={"TZ": "UTC"})
    tokyo = _show(repo, env={"TZ": "Asia/Tokyo"})
    assert utc == _fresh(repo, env={"TZ": "UTC"})
    assert tokyo == _fresh(repo, env={"TZ": "Asia/Tokyo"})
    assert utc[1]["data"]["timestamp"] != tokyo[1]["data"]["timestamp"]


def test_stored_workspace_row_answers_when_only_refs_changed(repo: Path) -> None:
    _settle(repo)
    path = repo / STORE / "workspace.json"
    doc = json.loads(path.read_text())
    doc["row"]["meta"] = {"stored": True}
    path.write_text(json.dumps(doc))
    git("commit", "-q", "--allow-empty", "-m", "next", cwd=repo)
    assert _show(repo)[0]["data"]["meta"] == {"stored": True}
    # the file it came from changes: computed again
    _same_size_edit(repo / "params.yaml", "lr: 0.1", "lr: 0.3", keep_mtime=True)
    assert _show(repo)[0]["data"]["meta"] == {}
