"""``${}`` interpolation: expressions, native types, rendering, dict → CLI flags.

Expected strings were checked against DVC 3.67.1 (``dvc stage list`` and the
resolved stage) on the same data.
"""
from __future__ import annotations

from typing import Any

import pytest

from dvcexp_plugin.errors import ResolveError
from dvcexp_plugin.pipeline.context import Context
from dvcexp_plugin.pipeline.interpolate import (
    InterpolationError,
    dict_to_cli,
    has_interpolation,
    parse_expression,
    resolve_str,
    resolve_value,
)

DATA: dict[str, Any] = {
    "lr": 0.1,
    "flag": True,
    "off": False,
    "name": "a b",
    "none": None,
    "layers": [1, 2],
    "nested": {"a": {"b": 3}, "lst": [{"x": 9}]},
    "strkey": {"0": "zero"},
    "opts": {"lr": 0.1, "flag": True, "no": False, "layers": [1, 2], "name": "a b",
             "sub": {"k": "v"}},
}


def _context() -> Context:
    ctx = Context("/nonexistent")
    ctx.merge_dict(DATA, source="params.yaml")
    return ctx


def _resolve(text: str, key: str | None = "cmd", config: dict[str, str] | None = None) -> Any:
    return resolve_str(text, _context().select, key, config)


@pytest.mark.parametrize(
    ("inner", "parts"),
    [
        ("lr", ["lr"]),
        ("nested.a.b", ["nested", "a", "b"]),
        ("nested.lst[0].x", ["nested", "lst", 0, "x"]),
        ("layers[-1]", ["layers", -1]),
        (" lr ", ["lr"]),
        ("m[0][1]", ["m", 0, 1]),
    ],
)
def test_parse_expression(inner: str, parts: list[Any]) -> None:
    assert parse_expression(inner) == parts


@pytest.mark.parametrize("inner", ["", "lr +", "a..b", "[0]"])
def test_parse_expression_rejects_garbage(inner: str) -> None:
    with pytest.raises(InterpolationError, match="Failed to parse"):
        parse_expression(inner)


@pytest.mark.parametrize(
    ("text", "value"),
    [("${lr}", 0.1), ("${flag}", True), ("${none}", None), ("${name}", "a b")],
)
def test_whole_string_keeps_the_native_type(text: str, value: Any) -> None:
    assert _resolve(text, key="deps") == value


def test_whole_string_lists_and_dicts_only_in_foreach_and_matrix() -> None:
    assert _resolve("${layers}", key="foreach") == [1, 2]
    assert _resolve("${nested.a}", key="foreach") == {"b": 3}
    # DVC: failed to parse 'stages.o.deps' in 'dvc.yaml': Cannot interpolate data of type 'list'
    with pytest.raises(InterpolationError, match="Cannot interpolate data of type 'list'"):
        _resolve("${layers}", key="deps")
    with pytest.raises(InterpolationError, match="Cannot interpolate data of type 'dict'"):
        _resolve("${nested.a}", key="meta")


def test_values_inside_a_longer_string() -> None:
    # DVC: "echo 0.1 true false a b 1 3 9"
    got = _resolve("echo ${lr} ${flag} ${off} ${name} ${layers[0]} ${nested.a.b} ${nested.lst[0].x}")
    assert got == "echo 0.1 true false a b 1 3 9"


def test_none_renders_as_python_does() -> None:
    assert _resolve("echo ${none}x") == "echo Nonex"  # DVC 3.67.1 prints None too


def test_dotted_index_and_string_keys_are_the_same() -> None:
    assert _resolve("${layers.1} ${layers[-1]} ${strkey.0} ${strkey[0]}") == "2 2 zero zero"


def test_escaped_interpolation_is_left_as_text() -> None:
    # DVC: "echo ${lr} 0.1 '${x}'"
    assert _resolve(r"echo \${lr} ${lr} '\${x}'") == "echo ${lr} 0.1 '${x}'"
    assert _resolve(r"\${lr}") == "${lr}"


def test_missing_key_names_the_dotted_path() -> None:
    # DVC: "Could not find 'l.5'" for ${l[5]}
    with pytest.raises(InterpolationError, match=r"^Could not find 'layers\.5'$"):
        _resolve("echo ${layers[5]}")
    with pytest.raises(InterpolationError, match="Could not find 'nested.a.c'"):
        _resolve("${nested.a.c}")


def test_dict_in_cmd_becomes_cli_flags() -> None:
    # DVC 3.67.1: python t.py --lr 0.1 --flag --layers 1 2 --name 'a b' --sub.k v
    got = _resolve("python t.py ${opts}")
    assert got == "python t.py --lr 0.1 --flag --layers 1 2 --name 'a b' --sub.k v"


def test_dict_to_cli_with_boolean_optional_and_append() -> None:
    # DVC with [parsing] bool = boolean_optional, list = append
    config = {"bool": "boolean_optional", "list": "append"}
    got = _resolve("python t.py ${opts}", config=config)
    assert got == (
        "python t.py --lr 0.1 --flag --no-no --layers 1 --layers 2 --name 'a b' --sub.k v"
    )


def test_dict_to_cli_edge_values() -> None:
    data = {"n": None, "f": 1.5, "el": [], "s": "it's", "i": -1, "t": "", "u": "a\tb"}
    # DVC 3.67.1: --n None --f 1.5 --s 'it'"'"'s' --i -1 --t '' --u 'a<TAB>b' (el vanishes)
    assert dict_to_cli(data, {}) == "--n None --f 1.5 --s 'it'\"'\"'s' --i -1 --t '' --u 'a\tb'"
    assert dict_to_cli({}, {}) == ""
    assert dict_to_cli({"lst": ["a b", 1, True, None]}, {}) == "--lst 'a b' 1 True None"


def test_dict_to_cli_rejects_nested_lists() -> None:
    with pytest.raises(InterpolationError, match="Cannot interpolate nested iterable in 'l'"):
        dict_to_cli({"l": [[1, 2]]}, {})


@pytest.mark.parametrize("key", ["outs", "deps", "desc", "wdir"])
def test_dict_outside_cmd_is_an_error(key: str) -> None:
    with pytest.raises(InterpolationError, match="Cannot interpolate data of type 'dict'"):
        _resolve("x${opts}", key=key)


def test_list_in_a_longer_string_is_an_error_even_in_cmd() -> None:
    with pytest.raises(InterpolationError, match="Cannot interpolate data of type 'list'"):
        _resolve("echo ${layers}")


def test_resolve_value_walks_keys_and_nested_values() -> None:
    value = {"${name}.txt": {"desc": "lr=${lr}"}, "items": ["${flag}", 3]}
    assert resolve_value(value, _context().select, "outs") == {
        "a b.txt": {"desc": "lr=0.1"},
        "items": [True, 3],
    }


def test_has_interpolation() -> None:
    assert has_interpolation([{"a": "${x}"}])
    assert has_interpolation({"${k}": 1})
    assert not has_interpolation(["plain", 1, None])
    assert not has_interpolation(r"\${escaped}")


def test_interpolation_error_is_a_resolve_error() -> None:
    assert issubclass(InterpolationError, ResolveError)
