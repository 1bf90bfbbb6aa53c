"""YAML as DVC reads it (ruamel.yaml, YAML 1.2): scalars, duplicate keys, tabs.

Checked against DVC 3.67.1: the values below are what ``${v.x}`` renders to
in a resolved ``cmd``; the documents that fail here fail in DVC too
("unable to read: 'dvc.yaml', YAML file structure is corrupted").
"""
from __future__ import annotations

import datetime
import math
from pathlib import Path

import pytest

from dvcexp_plugin.errors import YAMLFileCorruptedError
from dvcexp_plugin.pipeline.yamlio import load_yaml_file, parse_yaml


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1.0e+3", 1000.0),
        ("1.5e-3", 0.0015),
        (".5", 0.5),
        ("0755", 755),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("+5", 5),
        ("-0", 0),
        ("1:20", "1:20"),
        ("~", None),
        ("null", None),
        (".inf", math.inf),
        ("-.inf", -math.inf),
    ],
)
def test_yaml_12_scalars(text: str, value: object) -> None:
    got = parse_yaml(f"v: {text}\n", "params.yaml")["v"]
    assert got == value and type(got) is type(value)


def test_nan() -> None:
    assert math.isnan(parse_yaml("v: .NaN\n", "params.yaml")["v"])


def test_dates_are_dates_as_in_ruamel() -> None:
    # DVC then refuses them: "Unsupported value of type 'date' in 'params.yaml:d'"
    assert parse_yaml("d: 2001-12-14\n", "p.yaml")["d"] == datetime.date(2001, 12, 14)


def test_anchors_and_merge_keys() -> None:
    data = parse_yaml("a: &b {cmd: echo}\nc:\n  <<: *b\n  deps: [x]\n", "dvc.yaml")
    assert data["c"] == {"cmd": "echo", "deps": ["x"]}


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "dvc.yaml"
    path.write_text("\ufeffstages: {}\n", encoding="utf-8")
    assert load_yaml_file(str(path)) == {"stages": {}}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("stages:\n  a:\n    cmd: echo\n  a:\n    cmd: echo 2\n",
         "found duplicate key 'a' (line 4, column 3)"),
        ("a: 1\na: 2\n", "found duplicate key 'a' (line 2, column 1)"),
        # libyaml would accept these; ruamel (and so DVC) does not
        ("stages:\n  f:\n    cmd: echo hi\t\n    deps: [x]\n",
         "found character '\\t' that cannot start any token (line 3, column 17)"),
        ("stages:\n  f:\n    cmd: echo\t# c\n",
         "found character '\\t' that cannot start any token (line 3, column 14)"),
        ("stages:\n  a:\n    cmd: echo\n   deps: [x]\n", "(line 4, column 4)"),
        ("stages:\n  f:\n    cmd: echo\n---\nstages: {}\n",
         "expected a single document in the stream, but found another document "
         "(line 4, column 1)"),
        ("a: [\n", "did not find expected node content (line 2, column 1)"),
    ],
)
def test_broken_documents_give_one_line(text: str, problem: str) -> None:
    with pytest.raises(YAMLFileCorruptedError) as info:
        parse_yaml(text, "sub/dvc.yaml")
    message = str(info.value)
    assert message.startswith(
        "unable to read: 'sub/dvc.yaml', YAML file structure is corrupted: "
    )
    assert message.endswith(problem)
    assert "\n" not in message


def test_tabs_inside_quoted_strings_are_fine() -> None:
    assert parse_yaml('cmd: "echo\\there"\nx: "a\tb"\n', "dvc.yaml") == {
        "cmd": "echo\there", "x": "a\tb",
    }


def test_empty_document_is_none() -> None:
    assert parse_yaml("", "dvc.yaml") is None
    assert parse_yaml("# only a comment\n", "dvc.yaml") is None
