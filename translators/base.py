"""The translator contract, and a conformance test base other translators reuse."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from dvcexp_plugin.pipeline import Stage


@runtime_checkable
class Translator(Protocol):
    """Turns resolved stages into the rule text of a workflow engine.

    ``translate`` must be deterministic (same stages → same text) and must
    produce one rule per stage, each running that stage's job through the
    dvcexp stage runner, never the DVC ``cmd`` directly.
    """

    #: the name it is registered under
    name: str

    def translate(self, stages: list[Stage], all_stages: list[Stage] | None = None) -> str:
        """Rule text for ``stages`` (``all_stages`` lets deps map onto outputs)."""
        ...
