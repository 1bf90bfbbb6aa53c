"""``exp show`` / ``exp list`` read experiments as DVC lays them out in git.

The experiments here are made with plain git (commit-tree + update-ref), the
layout DVC writes: one commit whose only parent is the baseline, at
``refs/exps/<b[:2]>/<b[2:]>/<name>``.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import GIT_ENV, PROJECT, git, run_cli


def make_experiment(repo: Path, name: str, params: str, metrics: str, when: str) -> str:
    baseline = git("rev-parse", "HEAD", cwd=repo).strip()
    (repo / "params.yaml").write_text(params)
    (repo / "metrics.json").write_text(metrics)
    git("add", "params.yaml", "metrics.json", cwd=repo)
    tree = git("write-tree", cwd=repo).strip()
    env = {**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    sha = subprocess.run(
        ["git", "commit-tree", tree, "-p", baseline, "-m", "dvc: commit experiment x"],
        cwd=repo, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()
    git("update-ref", f"refs/exps/{baseline[:2]}/{baseline[2:]}/{name}", sha, cwd=repo)
    git("reset", "-q", "--hard", "HEAD", cwd=repo)
    git("clean", "-qfd", cwd=repo)
    return sha


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_show_repo(tmp_path)


def make_show_repo(tmp_path: Path) -> Path:
    """ml-basic committed on ``main`` with two experiments, ``exp-a`` and ``exp-b``."""
    path = tmp_path / "ml"
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", path)
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline", cwd=path)
    params = (path / "params.yaml").read_text()
    make_experiment(path, "exp-a", params, '{"mse": 0.5, "n_test": 50}',
                    "2026-01-02T00:00:00+00:00")
    make_experiment(path, "exp-b", params.replace("lr: 0.1", "lr: 0.2"),
                    '{"mse": 0.25, "n_test": 50}', "2026-01-03T00:00:00+00:00")
    return path


def test_exp_list_groups_by_baseline(repo: Path) -> None:
    result = run_cli("exp", "list", cwd=repo)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "main:"
    assert [line.split()[1] for line in lines[1:]] == ["[exp-a]", "[exp-b]"]
    names = run_cli("exp", "list", "--name-only", cwd=repo)
    assert names.stdout.split() == ["exp-a", "exp-b"]


def test_exp_show_json_has_dvcs_shape(repo: Path) -> None:
    result = run_cli("exp", "show", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["rev"] for r in rows][0] == "workspace"
    baseline = rows[1]
    assert baseline["name"] == "main" and len(baseline["rev"]) == 40
    # newest first, one rev each, DVC's keys
    names = [e["name"] for e in baseline["experiments"]]
    assert names == ["exp-b", "exp-a"]
    exp_b = baseline["experiments"][0]["revs"][0]
    assert set(exp_b) == {"rev", "name", "data", "error", "experiments"}
    assert exp_b["data"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.2
    assert exp_b["data"]["metrics"]["metrics.json"]["data"] == {"mse": 0.25, "n_test": 50}
    assert exp_b["data"]["timestamp"].startswith("2026-01-03T")
    missing = baseline["data"]["metrics"]["metrics.json"]
    assert missing == {"error": {"type": "FileNotFoundError",
                                 "msg": "[Errno 2] No such file or directory: 'metrics.json'"}}
    assert baseline["data"]["deps"]["data/prepared"]["nfiles"] == 2


def test_exp_show_csv_and_table(repo: Path) -> None:
    result = run_cli("exp", "show", "--csv", cwd=repo)
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:7] == ["Experiment", "rev", "typ", "Created", "parent", "mse", "n_test"]
    assert [r[0] for r in rows[1:]] == ["", "", "exp-b", "exp-a"]
    assert [r[2] for r in rows[1:]] == ["baseline", "baseline", "branch_commit", "branch_base"]
    assert rows[2][5] == "!"  # the baseline has no metrics.json
    table = run_cli("exp", "show", cwd=repo, env={"COLUMNS": "160"})
    assert "├── " in table.stdout and "[exp-b]" in table.stdout and "└── " in table.stdout


def test_exp_show_does_not_import_snakemake_or_hydra(repo: Path) -> None:
    code = ("import sys, runpy; sys.argv=['dvcexp','exp','show','--json'];"
            "from dvcexp_plugin.cli import main; main();"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('snakemake','hydra')];"
            "sys.stderr.write('BAD:'+','.join(bad))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV})
    assert proc.stderr.strip().endswith("BAD:"), proc.stderr


def _cache_file(repo: Path) -> Path:
    baseline = git("rev-parse", "HEAD", cwd=repo).strip()
    return repo / ".dvc" / "tmp" / "dvcexp" / "exp-show" / f"{baseline}.json"


def _show(repo: Path) -> list[dict[str, Any]]:
    result = run_cli("exp", "show", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_exp_show_cache_answers_the_second_run(repo: Path) -> None:
    first = _show(repo)
    cached = json.loads(_cache_file(repo).read_text())
    # both experiments; not the baseline, whose metrics.json is missing (an error)
    assert sorted(cached["commits"]) == sorted(e["revs"][0]["rev"] for e in first[1]["experiments"])
    assert _show(repo) == first
    # what the file says is what is shown: the commits are not read again
    sha = first[1]["experiments"][0]["revs"][0]["rev"]
    cached["commits"][sha]["data"]["metrics"]["metrics.json"]["data"]["mse"] = 7
    _cache_file(repo).write_text(json.dumps(cached))
    exp = _show(repo)[1]["experiments"][0]["revs"][0]
    assert exp["data"]["metrics"]["metrics.json"]["data"]["mse"] == 7


def test_exp_show_cache_is_keyed_by_the_workspace_pipeline(repo: Path) -> None:
    first = _show(repo)
    key = json.loads(_cache_file(repo).read_text())["key"]
    # an edited workspace dvc.yaml: the commits' own dvc.yaml is used, so the
    # cache written for the old workspace must not answer
    dvc_yaml = repo / "dvc.yaml"
    extra = "metrics:\n    - extra.json:\n        cache: false"
    dvc_yaml.write_text(dvc_yaml.read_text().replace("metrics:", extra, 1))
    second = _show(repo)
    assert json.loads(_cache_file(repo).read_text())["key"] != key
    assert second[1:] == first[1:]


def test_exp_show_cache_ignores_a_corrupted_file(repo: Path) -> None:
    first = _show(repo)
    path = _cache_file(repo)
    path.write_text('{"key": "')
    assert _show(repo) == first
    assert len(json.loads(path.read_text())["commits"]) == 2
    # a well-formed file with the right key but entries of the wrong shape
    doc = json.loads(path.read_text())
    doc["commits"] = {sha: {"time": "x", "data": []} for sha in doc["commits"]}
    path.write_text(json.dumps(doc))
    assert _show(repo) == first


def test_exp_show_cache_forgets_removed_experiments(repo: Path) -> None:
    _show(repo)
    baseline = git("rev-parse", "HEAD", cwd=repo).strip()
    git("update-ref", "-d", f"refs/exps/{baseline[:2]}/{baseline[2:]}/exp-a", cwd=repo)
    rows = _show(repo)
    assert [e["name"] for e in rows[1]["experiments"]] == ["exp-b"]
    assert len(json.loads(_cache_file(repo).read_text())["commits"]) == 1


def test_exp_show_reads_packed_refs(repo: Path) -> None:
    loose = _show(repo)
    git("pack-refs", "--all", cwd=repo)
    assert _show(repo) == loose
