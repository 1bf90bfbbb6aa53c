"""dvcexp's own hook implementations: they enter through the same door as plugins."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pluggy import HookimplMarker

hookimpl = HookimplMarker("dvcexp")


@hookimpl
def dvcexp_register_translators(register: Callable[[str, Any], None]) -> None:
    """The Snakemake translator."""
    from dvcexp_translators.snakemake import SnakemakeTranslator

    register("snakemake", SnakemakeTranslator)
