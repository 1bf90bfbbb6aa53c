"""Which dvc.yaml files are collected: ``.dvcignore``, ``.gitignore``, nested
repos and output directories.

The pattern table was run through ``dvc stage list --all`` (DVC 3.67.1) on the
same tree; ``found`` is the set of directories whose dvc.yaml DVC listed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from dvcexp_plugin.errors import StageNotFoundError
from dvcexp_plugin.pipeline import find_dvcfiles, load_pipeline
from dvcexp_plugin.pipeline.dvcignore import DvcIgnore, GitIgnore, parse_rules

TREE = ["x", "x/y", "y", "z/x", "deep/a/b/c", "dot.dir", "sp ace", "data.d/q", "foo/bar/baz"]
ALL = set(TREE)
STAGE = "stages:\n  s:\n    cmd: echo\n"


def _tree(root: Path, dirs: list[str], ignore: str | None = None) -> Path:
    for name in dirs:
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "dvc.yaml").write_text(STAGE)
    if ignore is not None:
        (root / ".dvcignore").write_text(ignore)
    return root


def _found(root: Path) -> set[str]:
    return {path.rsplit("/", 1)[0] if "/" in path else "." for path in find_dvcfiles(str(root))}


@pytest.mark.parametrize(
    ("patterns", "found"),
    [
        ("x", ALL - {"x", "x/y", "z/x"}),
        ("/x", ALL - {"x", "x/y"}),
        ("x/", ALL - {"x", "x/y", "z/x"}),
        ("x/y", ALL - {"x/y"}),
        ("*/x", ALL - {"z/x"}),
        ("**/x", ALL - {"x", "x/y", "z/x"}),
        ("deep/**", ALL - {"deep/a/b/c"}),
        ("deep/**/c", ALL - {"deep/a/b/c"}),
        ("x\n!x/y", ALL - {"x", "x/y", "z/x"}),  # a parent stays excluded
        ("x/*\n!x/y", ALL - {"x"}),
        ("*.dir", ALL - {"dot.dir"}),
        ("sp ace", ALL - {"sp ace"}),
        ("[xy]", ALL - {"x", "x/y", "y", "z/x"}),
        ("[!x]", {"dot.dir", "sp ace", "x", "foo/bar/baz"}),
        ("?", {"dot.dir", "sp ace", "foo/bar/baz"}),
        ("dvc.yaml", set()),
        ("x/dvc.yaml", ALL - {"x"}),
        ("*.yaml\n!dvc.yaml", ALL),
        ("deep/*/b", ALL - {"deep/a/b/c"}),
        ("/deep/a/", ALL - {"deep/a/b/c"}),
        ("foo/**/baz", ALL - {"foo/bar/baz"}),
        ("#x", ALL),
        ("\\#x", ALL),
        # DVC drops leading blanks: " x" is "x", "  !x" negates
        (" x", ALL - {"x", "x/y", "z/x"}),
        ("x\n  !x", ALL),
        ("x ", ALL - {"x", "x/y", "z/x"}),
    ],
)
def test_dvcignore_patterns_as_dvc(tmp_path: Path, patterns: str, found: set[str]) -> None:
    root = _tree(tmp_path, TREE, patterns + "\n")
    assert _found(root) == found


def test_dvcignore_in_a_subdirectory_applies_below_it(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["c/d", "e/d"])
    (root / "c" / ".dvcignore").write_text("d\n")
    assert _found(root) == {"e/d"}


def test_gitignored_dvc_yaml_is_not_collected(tmp_path: Path) -> None:
    # DVC 3.67.1 lists none of these (and `dvc stage list e/dvc.yaml` says
    # "bad DVC file name 'e/dvc.yaml' is git-ignored.")
    root = _tree(tmp_path, ["a", "b", "c/d", "e", "kept"])
    (root / ".gitignore").write_text("/a\nc/\n")
    (root / "e" / ".gitignore").write_text("dvc.yaml\n")
    (root / ".git" / "info").mkdir(parents=True)
    (root / ".git" / "info" / "exclude").write_text("b\n")
    assert _found(root) == {"kept"}
    assert GitIgnore(str(root)).is_ignored("c/d/dvc.yaml", is_dir=False)
    assert not DvcIgnore(str(root)).is_ignored("c/d/dvc.yaml", is_dir=False)


def test_nested_dvc_repositories_are_skipped(tmp_path: Path) -> None:
    root = _tree(tmp_path, ["nested", "nested/inner", "top/nested2", "plain"])
    (root / "nested" / ".dvc").mkdir()
    (root / "top" / "nested2" / ".dvc").mkdir()
    assert _found(root) == {"plain"}


def test_dvc_yaml_inside_an_output_directory_is_not_collected(tmp_path: Path) -> None:
    # DVC 3.67.1: `dvc stage list --all` shows only 'a'
    root = _tree(tmp_path, ["out/inner", "other"])
    (root / "dvc.yaml").write_text("stages:\n  a:\n    cmd: echo\n    outs: [out]\n")
    pipeline = load_pipeline(str(root))
    assert [s.addressing for s in pipeline.stages] == ["a", "other/dvc.yaml:s"]
    assert "out/inner/dvc.yaml" in find_dvcfiles(str(root))  # the plain walk still sees it


def test_walk_order_is_top_down_sorted(tmp_path: Path) -> None:
    root = _tree(tmp_path, [".", "zeta", "a/b", "b", "alpha/x/y"])
    assert find_dvcfiles(str(root)) == [
        "dvc.yaml", "a/b/dvc.yaml", "alpha/x/y/dvc.yaml", "b/dvc.yaml", "zeta/dvc.yaml",
    ]


def test_directory_only_rules_do_not_match_files(tmp_path: Path) -> None:
    rules = parse_rules("data/\n")
    assert len(rules) == 1 and rules[0].dir_only
    (tmp_path / ".dvcignore").write_text("data/\n")
    ignore = DvcIgnore(str(tmp_path))
    assert ignore.is_ignored("data", is_dir=True)
    assert not ignore.is_ignored("data", is_dir=False)
    assert ignore.is_ignored("data/file.csv", is_dir=False)


def test_always_ignored_directories(tmp_path: Path) -> None:
    ignore = DvcIgnore(str(tmp_path))
    assert ignore.is_ignored(".git/config", is_dir=False)
    assert ignore.is_ignored(".dvc/cache", is_dir=True)
    assert not ignore.is_ignored("src/main.py", is_dir=False)


@pytest.mark.parametrize(
    ("setup", "target", "message"),
    [
        # DVC 3.67.1: "bad DVC file name 'e/dvc.yaml' is git-ignored."
        ("gitignore", "e/dvc.yaml", "bad DVC file name 'e/dvc.yaml' is git-ignored; "),
        # DVC 3.67.1: "'/abs/a/dvc.yaml' is dvc-ignored"
        ("dvcignore", "e/dvc.yaml", "'e/dvc.yaml' is dvc-ignored; "),
        ("output", "e/dvc.yaml", "'e/dvc.yaml' is inside an output of stage 'a'"),
        ("nested", "e/dvc.yaml", "'e/dvc.yaml' belongs to the nested DVC repository 'e'"),
    ],
)
def test_targets_in_files_that_are_not_collected(
    tmp_path: Path, setup: str, target: str, message: str
) -> None:
    root = _tree(tmp_path, ["e"])
    if setup == "gitignore":
        (root / ".gitignore").write_text("e/\n")
    elif setup == "dvcignore":
        (root / ".dvcignore").write_text("e\n")
    elif setup == "output":
        (root / "dvc.yaml").write_text("stages:\n  a:\n    cmd: echo\n    outs: [e]\n")
    else:
        (root / "e" / ".dvc").mkdir()
    pipeline = load_pipeline(str(root))
    with pytest.raises(StageNotFoundError) as info:
        pipeline.find(target)
    assert str(info.value).startswith(message)
