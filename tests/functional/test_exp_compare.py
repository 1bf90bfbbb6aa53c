"""``exp diff``, ``params diff``, ``metrics show/diff`` and ``exp show``'s column and sort flags.

Same experiments as test_exp_manage (exp-a as committed, exp-b ``train.lr=0.2``,
exp-c ``train.epochs=3`` on top of exp-b); ml-basic is seeded, so the metrics
are fixed. Expected texts are DVC 3.67.1's output for the same experiments.
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

import pytest

from tests.conftest import GIT_ENV, run_cli
from tests.functional.test_exp_manage import template  # noqa: F401  (module fixture)


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:  # noqa: F811
    path = tmp_path / "ml"
    shutil.copytree(template, path, symlinks=True)
    return path


def ok(*args: str, cwd: Path) -> str:
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


# -- exp diff -----------------------------------------------------------------
def test_exp_diff_between_experiments(repo: Path) -> None:
    assert ok("exp", "diff", "exp-a", "exp-b", cwd=repo) == (
        "Path          Metric    exp-a     exp-b     Change\n"
        "metrics.json  mse       0.094649  0.095612  0.000963\n"
        "\n"
        "Path         Param     exp-a    exp-b    Change\n"
        "params.yaml  train.lr  0.1      0.2      0.1\n"
    )
    assert ok("exp", "diff", "--all", "exp-a", "exp-b", cwd=repo) == (
        "Path          Metric    exp-a     exp-b     Change\n"
        "metrics.json  mse       0.094649  0.095612  0.000963\n"
        "metrics.json  n_test    50        50        0\n"
        "\n"
        "Path         Param          exp-a    exp-b    Change\n"
        "params.yaml  prepare.seed   7        7        0\n"
        "params.yaml  prepare.split  0.25     0.25     0.0\n"
        "params.yaml  train.epochs   20       20       0\n"
        "params.yaml  train.lr       0.1      0.2      0.1\n"
    )


def test_exp_diff_against_head_and_workspace(repo: Path) -> None:
    assert ok("exp", "diff", cwd=repo) == (
        "Path          Metric    HEAD    workspace    Change\n"
        "metrics.json  mse       -       0.1186       diff not supported\n"
        "metrics.json  n_test    -       50           diff not supported\n"
        "\n"
        "Path         Param         HEAD    workspace    Change\n"
        "params.yaml  train.epochs  20      3            -17\n"
        "params.yaml  train.lr      0.1     0.2          0.1\n"
    )
    assert ok("exp", "diff", "exp-c", cwd=repo) == "\n"  # both tables empty: the separator


def test_exp_diff_json_md_and_unknown(repo: Path) -> None:
    data = json.loads(ok("exp", "diff", "--json", "exp-a", "exp-b", cwd=repo))
    assert data["params"] == {"params.yaml": {"train.lr": {"old": 0.1, "new": 0.2, "diff": 0.1}}}
    assert data["metrics"]["metrics.json"]["mse"]["old"] == 0.094649
    assert json.loads(ok("exp", "diff", "--json", "exp-a", "exp-a", cwd=repo)) == \
        {"metrics": {}, "params": {}}
    assert ok("exp", "diff", "--md", "exp-a", "exp-b", cwd=repo) == (
        "| Path         | Metric   | exp-a    | exp-b    | Change   |\n"
        "|--------------|----------|----------|----------|----------|\n"
        "| metrics.json | mse      | 0.094649 | 0.095612 | 0.000963 |\n"
        "\n\n"
        "| Path        | Param    | exp-a   | exp-b   | Change   |\n"
        "|-------------|----------|---------|---------|----------|\n"
        "| params.yaml | train.lr | 0.1     | 0.2     | 0.1      |\n"
        "\n"
    )
    unknown = run_cli("exp", "diff", "nosuch", cwd=repo)
    assert unknown.returncode == 1  # DVC's exit code for exp diff, not 255
    assert unknown.stderr.startswith(
        "ERROR: failed to show experiments diff - unknown Git revision 'nosuch'"
    )


# -- params diff ----------------------------------------------------------------
def test_params_diff(repo: Path) -> None:
    assert ok("params", "diff", cwd=repo) == (
        "Path         Param         HEAD    workspace\n"
        "params.yaml  train.epochs  20      3\n"
        "params.yaml  train.lr      0.1     0.2\n"
    )
    assert ok("params", "diff", "exp-a", "exp-c", "--all", cwd=repo) == (
        "Path         Param          exp-a    exp-c\n"
        "params.yaml  prepare.seed   7        7\n"
        "params.yaml  prepare.split  0.25     0.25\n"
        "params.yaml  train.epochs   20       3\n"
        "params.yaml  train.lr       0.1      0.2\n"
    )
    assert ok("params", "diff", "--md", "exp-a", "exp-b", cwd=repo) == (
        "| Path        | Param    | exp-a   | exp-b   |\n"
        "|-------------|----------|---------|---------|\n"
        "| params.yaml | train.lr | 0.1     | 0.2     |\n"
        "\n"
    )
    assert json.loads(ok("params", "diff", "--json", cwd=repo)) == {"params.yaml": {
        "train.epochs": {"old": 20, "new": 3, "diff": -17},
        "train.lr": {"old": 0.1, "new": 0.2, "diff": 0.1},
    }}
    assert ok("params", "diff", "exp-a", "exp-a", cwd=repo) == ""
    assert ok("params", "diff", "exp-a", "exp-a", "--json", cwd=repo) == "{}\n"
    unknown = run_cli("params", "diff", "nosuch", cwd=repo)
    assert unknown.returncode == 255
    assert unknown.stderr.startswith("ERROR: unknown Git revision 'nosuch'")


# -- metrics --------------------------------------------------------------------
def test_metrics_show(repo: Path) -> None:
    assert ok("metrics", "show", cwd=repo) == (
        "Path          mse     n_test\n"
        "metrics.json  0.1186  50\n"
    )
    assert ok("metrics", "show", "--json", cwd=repo) == \
        '{"": {"data": {"metrics.json": {"data": {"mse": 0.118601, "n_test": 50}}}}}\n'
    assert ok("metrics", "show", "--md", cwd=repo) == (
        "| Path         | mse    | n_test   |\n"
        "|--------------|--------|----------|\n"
        "| metrics.json | 0.1186 | 50       |\n"
        "\n"
    )


def test_metrics_show_missing_and_odd_values(repo: Path) -> None:
    (repo / "metrics.json").unlink()
    missing = run_cli("metrics", "show", cwd=repo)
    assert (missing.returncode, missing.stdout) == (0, "Path\nmetrics.json\n")
    assert missing.stderr == "DVC failed to load some metrics for following revisions: ''.\n"
    (repo / "metrics.json").write_text('{"mse": "abc", "nested": {"a": 1, "l": [1, 2]}}')
    assert json.loads(ok("metrics", "show", "--json", cwd=repo)) == \
        {"": {"data": {"metrics.json": {"data": {"mse": "abc", "nested": {"a": 1}}}}}}


def test_metrics_diff(repo: Path) -> None:
    result = run_cli("metrics", "diff", cwd=repo)
    assert result.stdout == (
        "Path          Metric    HEAD    workspace    Change\n"
        "metrics.json  mse       -       0.1186       -\n"
        "metrics.json  n_test    -       50           -\n"
    )
    assert result.stderr == "DVC failed to load some metrics for following revisions: 'HEAD'.\n"
    assert ok("metrics", "diff", "exp-a", "exp-b", "--all", cwd=repo) == (
        "Path          Metric    exp-a    exp-b    Change\n"
        "metrics.json  mse       0.09465  0.09561  0.00096\n"
        "metrics.json  n_test    50       50       0\n"
    )
    assert json.loads(ok("metrics", "diff", "--json", cwd=repo)) == {"metrics.json": {
        "mse": {"old": None, "new": 0.118601}, "n_test": {"old": None, "new": 50},
    }}
    assert ok("metrics", "diff", "exp-a", "exp-a", cwd=repo) == ""
    unknown = run_cli("metrics", "diff", "nosuch", cwd=repo)
    assert unknown.returncode == 255


@pytest.mark.parametrize("args", [("exp", "diff"), ("params", "diff"), ("metrics", "show"),
                                  ("metrics", "diff"), ("exp", "show", "--csv")])
def test_readers_do_not_import_snakemake_or_hydra(repo: Path, args: tuple[str, ...]) -> None:
    code = (f"import sys; from dvcexp_plugin.cli import main; rc = main({list(args)!r});"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('snakemake', 'hydra')];"
            "sys.stderr.write(f'RC:{rc} BAD:{bad}')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})
    assert proc.stderr.strip().endswith("RC:0 BAD:[]"), proc.stderr


# -- exp show: sort, drop, keep, only-changed --------------------------------------
def show_csv(repo: Path, *args: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(ok("exp", "show", "--csv", *args, cwd=repo))))


def test_show_sort_by(repo: Path) -> None:
    rows = show_csv(repo, "--sort-by", "mse")
    assert [(r[0], r[2]) for r in rows[3:]] == [
        ("exp-a", "branch_commit"), ("exp-b", "branch_commit"), ("exp-c", "branch_base")]
    rows = show_csv(repo, "--sort-by", "params.yaml:train.epochs", "--sort-order", "desc")
    assert [r[0] for r in rows[3:]][-1] == "exp-c"  # epochs 3 sorts last, drawn └──
    table = ok("exp", "show", "--md", "--sort-by", "mse", cwd=repo)
    assert "└── " in table.splitlines()[-2] and "[exp-c]" in table.splitlines()[-2]


def test_show_sort_by_unknown_or_ambiguous_column(repo: Path) -> None:
    unknown = run_cli("exp", "show", "--sort-by", "nosuch", cwd=repo)
    assert unknown.returncode == 255
    assert unknown.stderr.startswith("ERROR: Unknown sort column 'nosuch'")
    (repo / "other.yaml").write_text("mse: 1\n")
    with (repo / "dvc.yaml").open("a") as fobj:
        fobj.write("metrics:\n- other.yaml\n")
    ambiguous = run_cli("exp", "show", "--sort-by", "mse", cwd=repo)
    assert ambiguous.returncode == 255
    assert ambiguous.stderr.startswith(
        "ERROR: Ambiguous sort column 'mse' matched 'metrics.json:mse, other.yaml:mse'"
    )
    assert run_cli("exp", "show", "--sort-by", "metrics.json:mse", cwd=repo).returncode == 0


def test_show_drop_keep_and_only_changed(repo: Path) -> None:
    header = show_csv(repo, "--drop", "data/.*", "--drop", "src")[0]
    assert header == ["Experiment", "rev", "typ", "Created", "parent", "mse", "n_test",
                      "prepare.split", "prepare.seed", "train.lr", "train.epochs",
                      "model/model.json"]
    assert show_csv(repo, "--drop", "Created|Experiment")[0][:3] == ["rev", "typ", "parent"]
    changed = show_csv(repo, "--only-changed")[0]
    assert changed == ["Experiment", "rev", "typ", "Created", "mse", "n_test", "train.lr",
                       "train.epochs", "model/model.json"]
    kept = show_csv(repo, "--only-changed", "--keep", "prepare.*")[0]
    assert "prepare.split" in kept and "prepare.seed" in kept and "src/train.py" not in kept
    assert ok("exp", "show", "--md", "--drop", ".*", "--keep", "mse", cwd=repo).splitlines()[:2] \
        == ["| mse      |", "|----------|"]
