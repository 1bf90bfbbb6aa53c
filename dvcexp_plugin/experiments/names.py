"""Experiment names and hashes, as DVC makes them.

* :func:`validate_name` — git's ref-name rules plus "no ``/``" (DVC's check).
* :func:`random_name` — ``<adjective>-<noun>``, unique per baseline.
* :func:`exp_hash` — the sha256 in ``dvc: commit experiment <hash>``.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping
from typing import Any

from dvcexp_plugin.errors import DvcExpError

#: DVC's default experiment commit message, formatted with :func:`exp_hash`
COMMIT_MESSAGE = "dvc: commit experiment {}"

#: characters git-check-ref-format(1) forbids anywhere in a ref name
_FORBIDDEN = frozenset(" ~^:?*[\\\x7f") | frozenset(chr(c) for c in range(32))

#: give up after this many taken names in a row (there are ~800k combinations)
_MAX_TRIES = 1000


class InvalidExpNameError(DvcExpError):
    """An experiment name git (or DVC) would not accept."""


def _ref_component_ok(name: str) -> bool:
    return not (
        not name
        or name.startswith(".")
        or name.endswith(".")
        or name.endswith(".lock")
        or ".." in name
        or "@{" in name
        or any(c in _FORBIDDEN for c in name)
    )


def is_valid_name(name: str) -> bool:
    """Whether ``refs/exps/<b[:2]>/<b[2:]>/<name>`` is a valid ref and ``name`` has no ``/``."""
    return "/" not in name and _ref_component_ok(name)


def validate_name(name: str) -> str:
    """Return ``name`` if it can name an experiment.

    The rules are git-check-ref-format(1) applied to the experiment's ref, and
    no ``/`` (DVC does not support nested experiment names).

    :raises InvalidExpNameError: with DVC's message
    """
    if not is_valid_name(name):
        raise InvalidExpNameError(
            f"Invalid exp name {name}, the exp name must follow rules in "
            "https://git-scm.com/docs/git-check-ref-format"
        )
    return name


def random_name(exists: Callable[[str], bool]) -> str:
    """A fresh ``<adjective>-<noun>`` for which ``exists(name)`` is false.

    A private :class:`random.Random` is seeded from the OS on every call, so a
    pipeline calling ``random.seed(0)`` does not make names repeat.

    :param exists: whether a name is taken (for DVC: under the same baseline)
    :raises DvcExpError: when no free name turned up (the namespace is nearly full)
    """
    from dvcexp_plugin.experiments.words import ADJECTIVES, NOUNS

    rng = random.Random()
    for _ in range(_MAX_TRIES):
        name = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
        if not exists(name):
            return name
    raise DvcExpError(
        f"no free random experiment name after {_MAX_TRIES} tries; "
        "name the experiment with -n or remove old ones with 'dvc exp remove'"
    )


def exp_hash(entries: Mapping[str, Mapping[str, Any]]) -> str:
    """sha256 of ``json.dumps(entries, sort_keys=True)`` (DVC's ``dict_sha256``).

    :param entries: ``{stage name: dvc.lock entry}`` of the stages that ran
    """
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest()
