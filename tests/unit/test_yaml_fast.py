"""The fast YAML path writes exactly what ruamel writes, or declines."""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from dvcexp_plugin import lock
from dvcexp_plugin.pipeline.yamlio import parse_yaml
from dvcexp_plugin.yaml_fast import fast_dump

CORPUS = Path("/work/shared/corpus")
CORPUS_LOCKS = sorted(CORPUS.glob("**/dvc.lock")) if CORPUS.is_dir() else []


def ruamel_dump(data: Any) -> str:
    """ruamel alone (the fast path bypassed)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def check(data: Any) -> bool:
    """Fast output equals ruamel's; returns whether the fast path took it."""
    text = fast_dump(data)
    if text is None:
        return False
    assert text == ruamel_dump(data), data
    return True


@pytest.mark.skipif(not CORPUS_LOCKS, reason="../shared/corpus is not beside the project")
def test_every_corpus_lock_entry_is_written_as_ruamel_writes_it() -> None:
    taken = total = 0
    for path in CORPUS_LOCKS:
        data = parse_yaml(path.read_text("utf-8"), str(path))
        if not isinstance(data, dict):
            continue
        for name, entry in (data.get("stages") or {}).items():
            for doc in ({"stages": {name: entry}}, entry):  # a lock block, a run-cache entry
                total += 1
                taken += check(doc)
    assert taken > 0.8 * total  # the point: most real entries take the fast path


def test_long_commands_fold_as_ruamel_folds_them() -> None:
    rnd = random.Random(7)
    words = ["python", "src/train.py", "--lr", "0.1", "&&", "echo", "a" * 40, "b" * 85,
             "$HOME", "|", "wc", "-l", "", "x" * 7, "--out=data/features/train.parquet"]
    taken = 0
    for i in range(2000):
        cmd = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 30)))
        for doc in ({"stages": {f"s{i}": {"cmd": cmd, "deps": [
                        {"path": "p" * rnd.randint(1, 95), "hash": "md5", "md5": "f" * 32,
                         "size": rnd.randint(0, 10**9)}]}}},
                    {"cmd": [cmd, cmd[::-1]]}):
            taken += check(doc)
    assert taken > 1000


@pytest.mark.parametrize("value", [0.1, 1e-05, 3.0, 1e16, -2.5e-10, float("inf"),
                                   float("-inf"), float("nan"), 0.0, -0.0, 5e-324, 7, True,
                                   False, "1.0", "true", "null", "2021-01-01", "0x1F", "yes",
                                   "a: b", "#x", "it's", "-x", "~", "", "0" * 32, "1e5" + "0" * 29])
def test_scalars_are_spelt_or_declined_like_ruamel(value: Any) -> None:
    check({"params": {"params.yaml": {"k": value, "list": [value, "a"]}}})


def test_what_only_ruamel_can_write_is_declined() -> None:
    shared = {"a": 1}
    assert fast_dump({"x": shared, "y": shared}) is None  # ruamel anchors it
    assert fast_dump({"x": None}) is None
    assert fast_dump({"x": [[1]]}) is None
    assert fast_dump({"k" * 130: 1}) is None  # a complex key for ruamel
    assert fast_dump({"x": "two\nlines"}) is None


def test_dumps_yaml_uses_the_fast_path_and_keeps_ruamels_bytes() -> None:
    entry = lock.build_entry("python train.py", [lock.dep_item("d.csv", "a" * 32, 3)],
                             {"params.yaml": {"lr": 0.1}}, [lock.dep_item("m.pkl", "b" * 32, 9)])
    assert lock.dumps_yaml({"stages": {"train": entry}}) == ruamel_dump(
        {"stages": {"train": entry}})
    assert fast_dump(entry) is not None
