"""The translator contract, and a conformance test base other translators reuse."""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

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


class TranslatorConformance:
    """Tests every translator must pass; subclass it and set ``make_translator``.

    ``__test__ = False`` keeps pytest from collecting the base itself.
    """

    __test__ = False

    def make_translator(self, root: str) -> Translator:  # pragma: no cover - overridden
        raise NotImplementedError

    def sample_stages(self) -> list[Stage]:
        from dvcexp_plugin.pipeline import Output

        return [
            Stage("prepare", "dvc.yaml", ".", "echo {a} > 'x y'", deps=["in.txt"],
                  outs=[Output("data")]),
            Stage("train@1", "dvc.yaml", ".", ["echo $HOME", "awk '{print $1}' f"],
                  deps=["data/part.csv"], outs=[Output("model.bin")]),
            Stage("train", "sub/dvc.yaml", "sub", "true", outs=[Output("m.json", "metrics")]),
        ]

    def test_is_a_translator(self, tmp_path: Any) -> None:
        assert isinstance(self.make_translator(str(tmp_path)), Translator)

    def test_deterministic(self, tmp_path: Any) -> None:
        translator = self.make_translator(str(tmp_path))
        stages = self.sample_stages()
        assert translator.translate(stages, stages) == translator.translate(stages, stages)

    def test_one_rule_per_stage_and_no_raw_commands(self, tmp_path: Any) -> None:
        text = self.make_translator(str(tmp_path)).translate(self.sample_stages())
        assert text.count("\nrule ") == 3
        assert "awk" not in text and "$HOME" not in text  # cmd runs in the stage runner
