"""Every hook of dvcexp, in one module (pluggy project name ``dvcexp``).

Plugins implement them with ``from dvcexp_plugin import hookimpl`` and are
loaded from the ``dvcexp`` entry-point group. Built-in behaviour goes through
the same hooks (the Snakemake translator is registered by
``dvcexp_plugin.builtin_plugins``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("dvcexp")


@hookspec
def dvcexp_register_translators(register: Callable[[str, Any], None]) -> None:
    """Register translators (resolved stages → engine rules).

    Fires once, the first time a translator is looked up (``dvcexp compile``,
    ``repro``). Call ``register(name, factory)`` for each translator, where
    ``factory(root: str, prefix: str)`` returns an object following
    :class:`dvcexp_translators.base.Translator`. The host rejects duplicate names.

    :param register: the callback that records a translator under a name
    """
