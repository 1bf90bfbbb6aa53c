"""Experiment names (git ref rules, DVC's message), random names, word lists, exp hash."""
from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.experiments import names
from dvcexp_plugin.experiments.names import (
    InvalidExpNameError,
    exp_hash,
    is_valid_name,
    random_name,
    validate_name,
)
from dvcexp_plugin.experiments.words import ADJECTIVES, NOUNS

BASE = "2dff1cde5d0b92997ae89c3ec1cb2ded7cc5944d"

ACCEPTED = ["myname", "UPPER_ok-1.2", "workspace", "main", "a.b", "x@y", "@", "ünï", "a-", "-a"]
REJECTED = [
    "bad name", "bad..name", "a/b", "bad~1", "x^", "a:b", "refs/heads/x", ".hidden", "end.lock",
    "q?", "a@{b", "star*", "br[ack", "back\\slash", "tab\tname", "dot.", "", "del\x7f",
]


@pytest.mark.parametrize("name", ACCEPTED + REJECTED)
def test_rules_agree_with_git_check_ref_format(name: str, tmp_path: Path) -> None:
    ref = f"refs/exps/{BASE[:2]}/{BASE[2:]}/{name}"
    by_git = subprocess.run(["git", "check-ref-format", ref], cwd=tmp_path).returncode == 0
    assert is_valid_name(name) == (by_git and "/" not in name)
    assert is_valid_name(name) == (name in ACCEPTED)


@pytest.mark.parametrize("name", ["bad..name", "a/b"])
def test_message_is_dvcs(name: str) -> None:
    with pytest.raises(InvalidExpNameError) as info:
        validate_name(name)
    # what `dvc exp run -n <name>` prints after "ERROR: " (checked with dvc 3.67.1)
    assert str(info.value) == (
        f"Invalid exp name {name}, the exp name must follow rules in "
        "https://git-scm.com/docs/git-check-ref-format"
    )
    assert isinstance(info.value, DvcExpError)


def test_validate_returns_name() -> None:
    assert validate_name("ok-name") == "ok-name"


def test_random_name_shape() -> None:
    name = random_name(lambda _: False)
    adjective, noun = name.split("-")
    assert adjective in ADJECTIVES and noun in NOUNS
    assert re.fullmatch(r"[a-z]{5}-[a-z]{4}", name)
    assert is_valid_name(name)


def test_random_name_ignores_global_seed() -> None:
    seen = set()
    for _ in range(20):
        random.seed(0)
        seen.add(random_name(lambda _: False))
    assert len(seen) > 1


def test_random_name_loops_until_free() -> None:
    taken: list[str] = []

    def exists(name: str) -> bool:
        if len(taken) < 5:
            taken.append(name)
            return True
        return False

    name = random_name(exists)
    assert len(taken) == 5 and name not in taken


def test_random_name_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "_MAX_TRIES", 3)
    with pytest.raises(DvcExpError, match="-n"):
        random_name(lambda _: True)


def test_word_lists() -> None:
    assert len(ADJECTIVES) >= 800 and len(NOUNS) >= 800
    assert len(set(ADJECTIVES)) == len(ADJECTIVES) and len(set(NOUNS)) == len(NOUNS)
    assert all(re.fullmatch(r"[a-z]{5}", word) for word in ADJECTIVES)
    assert all(re.fullmatch(r"[a-z]{4}", word) for word in NOUNS)
    assert list(ADJECTIVES) == sorted(ADJECTIVES) and list(NOUNS) == sorted(NOUNS)
    unwanted = {"cunt", "dick", "cock", "fuck", "shit", "slut", "porn", "rape", "kill", "nazi",
                "busty", "horny", "bitch", "whore", "drunk", "bomb", "dyke", "pimp", "turd"}
    assert not unwanted & (set(ADJECTIVES) | set(NOUNS))


def test_exp_hash() -> None:
    assert exp_hash({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    entries: dict[str, dict[str, Any]] = {
        "train": {"cmd": "python train.py", "deps": [{"path": "a", "md5": "x", "size": 1}]},
        "prepare": {"cmd": "echo", "outs": []},
    }
    expected = hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()
    assert exp_hash(entries) == expected
    assert exp_hash(dict(reversed(list(entries.items())))) == expected
    assert names.COMMIT_MESSAGE.format(exp_hash({})) == (
        "dvc: commit experiment 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )
