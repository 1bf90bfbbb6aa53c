"""dvcexp: DVC's experiment runner on Snakemake.

Plugin authors write ``from dvcexp_plugin import hookimpl``.
"""
from __future__ import annotations

__version__ = "0.1.0"
