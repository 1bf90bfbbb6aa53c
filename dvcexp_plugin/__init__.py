"""dvcexp: DVC's experiment runner on Snakemake.

Plugin authors write ``from dvcexp_plugin import hookimpl``.
"""
from __future__ import annotations

__version__ = "0.1.0"

from typing import Any


def __getattr__(name: str) -> Any:
    # ``hookimpl`` is made on first use: pluggy stays out of the stage runner's start-up
    if name == "hookimpl":
        import pluggy

        return pluggy.HookimplMarker("dvcexp")
    raise AttributeError(name)
