"""``dvcexp stage list`` and ``dvcexp dag`` through the real CLI, on temp git repos.

Every expected text below is what DVC 3.67.1 printed for the same repository
(``dvc stage list``, ``dvc dag --dot``/``--mermaid``). Error cases must give
one ``ERROR:`` line, exit code 255 and no traceback; DVC's own text is quoted
beside each where we word it differently.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_dvc_repo, run_cli

PIPELINE = {
    "dvc.yaml": """\
stages:
  prepare:
    cmd: python prep.py
    deps: [data.csv, prep.py]
    outs: [prepared]
  train:
    cmd: python train.py ${opts}
    deps: [prepared]
    params: [lr, model.depth]
    outs: [model.pkl]
    metrics:
      - metrics.json: {cache: false}
    plots: [plots.csv]
  evaluate:
    cmd: python eval.py
    deps: [model.pkl]
    metrics: [scores.json]
  nothing:
    cmd: echo hi
  withdesc:
    desc: "First line of desc\\nsecond line"
    cmd: echo
    outs: [x]
  blankdesc:
    desc: "  \\nsecond"
    cmd: echo
    outs: [y]
  longone:
    cmd: echo
    deps: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, c]
  onlyparams:
    cmd: echo
    params: [lr]
  fe:
    foreach: [1, 2]
    do:
      cmd: echo ${item}
      outs: ["f${item}"]
""",
    "params.yaml": "lr: 1\nmodel:\n  depth: 2\nopts: {lr: 0.1, flag: true}\n",
    "sub/dvc.yaml": "stages:\n  s1:\n    cmd: echo\n    outs: [o1]\n",
}

# dvc stage list (DVC 3.67.1, same files)
STAGE_LIST = """\
prepare     Outputs prepared
train       Outputs model.pkl; Reports metrics.json, plots.csv
evaluate    Reports scores.json
nothing     No outputs or dependencies
withdesc    First line of desc
blankdesc   Outputs y
longone     Depends on aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\u2026
onlyparams  Depends on params.yaml
fe@1        Outputs f1
fe@2        Outputs f2
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_dvc_repo(tmp_path / "repo", PIPELINE)


def _ok(*args: str, cwd: Path) -> str:
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_stage_list_text_as_dvc(repo: Path) -> None:
    assert _ok("stage", "list", cwd=repo) == STAGE_LIST


def test_stage_list_all_adds_other_dvc_yaml_files(repo: Path) -> None:
    lines = _ok("stage", "list", "--all", cwd=repo).splitlines()
    # dvc stage list --all: the names column widens to the longest name
    assert lines[0] == "prepare          Outputs prepared"
    assert lines[-1] == "sub/dvc.yaml:s1  Outputs o1"
    assert len(lines) == 11


def test_stage_list_names_only(repo: Path) -> None:
    assert _ok("stage", "list", "--name-only", "fe", cwd=repo) == "fe@1\nfe@2\n"


@pytest.mark.parametrize(
    ("target", "names"),
    [
        ("train", ["train"]),
        ("fe@2", ["fe@2"]),
        ("fe", ["fe@1", "fe@2"]),  # a foreach group
        (":train", ["train"]),
        ("./dvc.yaml:train", ["train"]),
        ("sub/dvc.yaml:s1", ["sub/dvc.yaml:s1"]),
        ("sub/dvc.yaml", ["sub/dvc.yaml:s1"]),
    ],
)
def test_stage_list_targets(repo: Path, target: str, names: list[str]) -> None:
    assert _ok("stage", "list", "--name-only", target, cwd=repo).split() == names


def test_stage_list_recursive_directory(repo: Path) -> None:
    assert _ok("stage", "list", "-R", "sub", cwd=repo) == "sub/dvc.yaml:s1  Outputs o1\n"


def test_stage_list_json(repo: Path) -> None:
    stages = json.loads(_ok("stage", "list", "--all", "--json", cwd=repo))
    train = next(s for s in stages if s["name"] == "train")
    assert train == {
        "addressing": "train", "name": "train", "dvcfile": "dvc.yaml", "wdir": ".",
        "cmd": "python train.py --lr 0.1 --flag", "deps": ["prepared"],
        "params": {"params.yaml": ["lr", "model.depth"]},
        "outs": [{"path": "model.pkl", "cache": True, "persist": False}],
        "metrics": [{"path": "metrics.json", "cache": False, "persist": False}],
        "plots": [{"path": "plots.csv", "cache": True, "persist": False}],
        "frozen": False, "always_changed": False,
    }
    assert stages[-1]["addressing"] == "sub/dvc.yaml:s1"


def test_an_empty_dvc_yaml_lists_nothing(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {"dvc.yaml": "stages: {}\n"})
    assert _ok("stage", "list", cwd=repo) == ""


# -- target errors (DVC's wording, plus what to check) --------------------
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nope", "Stage 'nope' not found inside 'dvc.yaml' file"),
        # a directory is not a target without -R (DVC: same message)
        ("sub", "Stage 'sub' not found inside 'dvc.yaml' file"),
        ("sub/dvc.yaml:nope", "Stage 'nope' not found inside 'sub/dvc.yaml' file"),
        ("fe@3", "Stage 'fe@3' not found inside 'dvc.yaml' file"),
        ("sub:s1", "bad DVC file name 'sub'. DVC files should be named 'dvc.yaml' or have a "
                   "'.dvc' suffix (e.g. 'sub.dvc')"),
        # DVC: "'/abs/path/nope/dvc.yaml' does not exist"
        ("nope/dvc.yaml", "'nope/dvc.yaml' does not exist"),
    ],
)
def test_stage_list_bad_targets(repo: Path, target: str, message: str) -> None:
    result = run_cli("stage", "list", target, cwd=repo)
    assert result.returncode == 255
    assert result.stdout == ""
    assert result.stderr.startswith(f"ERROR: {message}")
    assert len(result.stderr.splitlines()) == 1


# -- dag --------------------------------------------------------------------
DAG_FILES = {
    "dvc.yaml": """\
stages:
  evaluate:
    cmd: echo
    deps: [model, side]
    metrics: [m.json]
  train:
    matrix:
      lr: [1, 2]
    cmd: echo
    deps: [data/x.csv]
    outs: ["model/${item.lr}"]
  prepare:
    cmd: echo
    outs: [data]
  side:
    cmd: echo
    outs: [side]
  z:
    cmd: echo
  a:
    cmd: echo
    deps: [zz]
  b:
    cmd: echo
    outs: [zz]
""",
    "sub/dvc.yaml": "stages:\n  report:\n    cmd: echo\n    deps: [../m.json]\n",
}

# dvc dag --dot (DVC 3.67.1): nodes in pipeline order, edges grouped by producer;
# DVC prints one blank line after the closing brace
DOT = """\
strict digraph {
"evaluate";
"train@1";
"train@2";
"prepare";
"side";
"z";
"a";
"b";
"sub/dvc.yaml:report";
"evaluate" -> "sub/dvc.yaml:report";
"train@1" -> "evaluate";
"train@2" -> "evaluate";
"prepare" -> "train@1";
"prepare" -> "train@2";
"side" -> "evaluate";
"b" -> "a";
}

"""

# dvc dag --mermaid: one block per connected pipeline, names sorted in each
MERMAID = """\
flowchart TD
\tnode1["evaluate"]
\tnode2["prepare"]
\tnode3["side"]
\tnode4["sub/dvc.yaml:report"]
\tnode5["train@1"]
\tnode6["train@2"]
\tnode1-->node4
\tnode2-->node5
\tnode2-->node6
\tnode3-->node1
\tnode5-->node1
\tnode6-->node1
\tnode7["z"]
\tnode8["a"]
\tnode9["b"]
\tnode9-->node8
"""


@pytest.fixture
def dag_repo(tmp_path: Path) -> Path:
    return make_dvc_repo(tmp_path / "repo", DAG_FILES)


def test_dag_dot_as_dvc(dag_repo: Path) -> None:
    assert _ok("dag", "--dot", cwd=dag_repo) == DOT


def test_dag_mermaid_as_dvc(dag_repo: Path) -> None:
    assert _ok("dag", "--mermaid", cwd=dag_repo) == MERMAID
    assert _ok("dag", "--md", cwd=dag_repo) == f"```mermaid\n{MERMAID}```\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # ancestors only; nodes keep pipeline order (DVC 3.67.1)
        (["--dot", "train@2"], 'strict digraph {\n"train@2";\n"prepare";\n'
                               '"prepare" -> "train@2";\n}\n\n'),
        # an output path names the stage writing it
        (["--dot", "model/1"], 'strict digraph {\n"train@1";\n"prepare";\n'
                               '"prepare" -> "train@1";\n}\n\n'),
        (["--dot", "data/x.csv"], 'strict digraph {\n"prepare";\n}\n\n'),
        # the whole connected pipeline, side inputs included
        (["--mermaid", "--full", "train@2"],
         'flowchart TD\n\tnode1["evaluate"]\n\tnode2["prepare"]\n\tnode3["side"]\n'
         '\tnode4["sub/dvc.yaml:report"]\n\tnode5["train@1"]\n\tnode6["train@2"]\n'
         "\tnode1-->node4\n\tnode2-->node5\n\tnode2-->node6\n\tnode3-->node1\n"
         "\tnode5-->node1\n\tnode6-->node1\n"),
        (["--mermaid", "--collapse-foreach-matrix", "evaluate"],
         'flowchart TD\n\tnode1["evaluate"]\n\tnode2["prepare"]\n\tnode3["side"]\n'
         '\tnode4["train"]\n\tnode2-->node4\n\tnode3-->node1\n\tnode4-->node1\n'),
        (["--dot", "--outs"],
         'strict digraph {\n"m.json";\n"model/1";\n"model/2";\n"data";\n"side";\n"zz";\n'
         '"model/1" -> "m.json";\n"model/2" -> "m.json";\n"data" -> "model/1";\n'
         '"data" -> "model/2";\n"side" -> "m.json";\n}\n\n'),
    ],
)
def test_dag_targets_and_options_as_dvc(dag_repo: Path, args: list[str], expected: str) -> None:
    assert _ok("dag", *args, cwd=dag_repo) == expected


def test_dag_names_are_relative_to_the_working_directory(dag_repo: Path) -> None:
    out = _ok("dag", "--mermaid", "../dvc.yaml:evaluate", cwd=dag_repo / "sub")
    # DVC 3.67.1 from sub/: the root stages are '../dvc.yaml:…', the local one is 'report'
    assert '\tnode1["../dvc.yaml:evaluate"]' in out.splitlines()
    dot = _ok("dag", "--dot", "report", cwd=dag_repo / "sub").splitlines()
    assert dot[1:7] == [
        '"../dvc.yaml:evaluate";', '"../dvc.yaml:train@1";', '"../dvc.yaml:train@2";',
        '"../dvc.yaml:prepare";', '"../dvc.yaml:side";', '"report";',
    ]
    assert dot[7] == '"../dvc.yaml:evaluate" -> "report";'


def test_dag_text(dag_repo: Path) -> None:
    out = _ok("dag", "train@1", cwd=dag_repo)
    assert out == "+ prepare\n  -> train@1\n+ train@1\n"


def test_dag_unknown_target(dag_repo: Path) -> None:
    result = run_cli("dag", "model", cwd=dag_repo)
    # DVC: 'model' does not exist as an output or a stage name in 'dvc.yaml': Stage 'model' …
    assert result.returncode == 255
    assert result.stderr.startswith(
        "ERROR: 'model' does not exist as an output or a stage name in 'dvc.yaml'"
    )


# -- errors -------------------------------------------------------------------
ERRORS = {
    # DVC: './dvc.yaml' is invalid. While parsing a block mapping … (several lines)
    "yaml_syntax": ("stage list", {"dvc.yaml": "stages:\n  a:\n    cmd: echo\n   deps: [x]\n"},
                    "ERROR: unable to read: 'dvc.yaml', YAML file structure is corrupted: "),
    # DVC: './dvc.yaml' is invalid. … Found duplicate key "a" …
    "yaml_duplicate_key": ("stage list", {"dvc.yaml": "stages:\n  a:\n    cmd: echo\n  a:\n    cmd: e\n"},
                           "found duplicate key 'a' (line 4, column 3)"),
    # DVC: './dvc.yaml' validation failed. extra keys not allowed, in stages -> a -> dep, …
    "unknown_key": ("stage list", {"dvc.yaml": "stages:\n  a:\n    cmd: echo\n    dep: [x]\n"},
                    "ERROR: 'dvc.yaml' validation failed at 'stages.a.dep': extra keys not allowed"),
    # DVC: './dvc.yaml' validation failed. required key not provided, in stages -> a -> cmd, …
    "missing_cmd": ("stage list", {"dvc.yaml": "stages:\n  a:\n    deps: [x]\n"},
                    "ERROR: 'dvc.yaml' validation failed at 'stages.a.cmd': required key not provided"),
    # DVC, word for word
    "missing_key": ("stage list", {"dvc.yaml": "stages:\n  a:\n    cmd: echo ${foo.bar}\n"},
                    "ERROR: failed to parse 'stages.a.cmd' in 'dvc.yaml': Could not find 'foo.bar'"),
    "missing_vars_file": ("stage list", {"dvc.yaml": "vars: [nothere.yaml]\nstages:\n  a:\n    cmd: echo\n"},
                          "ERROR: failed to parse 'vars' in 'dvc.yaml': 'nothere.yaml' does not exist"),
    # DVC prints the same on two lines
    "merge_conflict": ("stage list", {"dvc.yaml": "vars: [{lr: 1}, {lr: 2}]\nstages:\n  a:\n    cmd: echo\n"},
                       "ERROR: failed to parse 'vars' in 'dvc.yaml': cannot redefine 'lr' from "
                       "'vars[1]' as it already exists in 'vars[0]'"),
    # DVC lists both stages, and keeps only one of them when running
    "name_clash": ("stage list", {"dvc.yaml": "stages:\n  a@1:\n    cmd: echo\n  a:\n    foreach: [1, 2]\n"
                                              "    do:\n      cmd: echo ${item}\n"},
                   "ERROR: 'dvc.yaml': stage name 'a@1' contains '@'"),
    # DVC: output 'x' is specified in:\n\t- a\n\t- b\nUse `dvc remove` …
    "duplicate_output": ("dag", {"dvc.yaml": "stages:\n  a:\n    cmd: e\n    outs: [x]\n"
                                             "  b:\n    cmd: e\n    outs: [x]\n"},
                         "ERROR: output 'x' is specified by both stage 'a' and stage 'b'"),
    # DVC: Same item(s) are defined as both a dependency and an output in stages: b, a.
    "cycle": ("dag", {"dvc.yaml": "stages:\n  a:\n    cmd: e\n    deps: [y]\n    outs: [x]\n"
                                  "  b:\n    cmd: e\n    deps: [x]\n    outs: [y]\n"},
              "ERROR: Same item(s) are defined as both a dependency and an output in stages: a, b"),
    "self_dependency": ("dag", {"dvc.yaml": "stages:\n  a:\n    cmd: e\n    deps: [x]\n    outs: [x]\n"},
                        "ERROR: Same item(s) are defined as both a dependency and an output in stage: a"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_are_one_line(tmp_path: Path, case: str) -> None:
    command, files, expected = ERRORS[case]
    repo = make_dvc_repo(tmp_path / "repo", files)
    result = run_cli(*command.split(), cwd=repo)
    assert result.returncode == 255
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ERROR: ")
    assert expected in lines[0]
    assert "dvc.yaml" in lines[0] or command == "dag"


# -- where we do not match DVC yet (commands/stage.py, owned elsewhere) -----
def test_stage_list_names_are_relative_to_the_working_directory(repo: Path) -> None:
    # dvc stage list --all, run in sub/
    assert _ok("stage", "list", "--all", "--name-only", cwd=repo / "sub").splitlines()[-1] == "s1"


def test_stage_list_all_skips_broken_files(repo: Path) -> None:
    (repo / "bad").mkdir()
    (repo / "bad" / "dvc.yaml").write_text("stages:\n  z:\n    cmd: [\n")
    # dvc stage list --all: the broken file is skipped silently (--fail raises)
    assert len(_ok("stage", "list", "--all", cwd=repo).splitlines()) == 11
