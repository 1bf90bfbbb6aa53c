"""DVC's pipeline model: every ``dvc.yaml`` of a repository, resolved.

The model itself (:class:`Stage`, :class:`Output`, :class:`ParamsDep`) is
imported eagerly; the loader (``load_pipeline``, ``Pipeline``,
``find_dvcfiles``, in :mod:`dvcexp_plugin.pipeline.loader`) only on first use,
so a stage-runner job that needs just the model does not pay for the resolver.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dvcexp_plugin.pipeline.stage import Output, ParamsDep, Stage

if TYPE_CHECKING:
    from dvcexp_plugin.pipeline.loader import DVCFILE, Pipeline, find_dvcfiles, load_pipeline

__all__ = [
    "DVCFILE", "Output", "ParamsDep", "Pipeline", "Stage", "find_dvcfiles", "load_pipeline",
]

_LAZY = {"DVCFILE", "Pipeline", "find_dvcfiles", "load_pipeline"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from dvcexp_plugin.pipeline import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'dvcexp_plugin.pipeline' has no attribute {name!r}")
