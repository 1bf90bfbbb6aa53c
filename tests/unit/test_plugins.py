"""Plugin system: hooks are documented, built-ins load through the same door, errors are clear."""
from __future__ import annotations

import inspect

import pluggy
import pytest
from dvcexp_translators.base import TranslatorConformance
from dvcexp_translators.snakemake import SnakemakeTranslator, rule_names

from dvcexp_plugin import hookspecs
from dvcexp_plugin.plugins import PluginError, get_translator, plugin_manager, translators

HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
         if name.startswith("dvcexp_")]


def test_every_hook_is_documented_with_when_it_fires() -> None:
    assert HOOKS
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert "Fires" in doc or "fires" in doc, name
        for param in inspect.signature(getattr(hookspecs, name)).parameters:
            assert f":param {param}:" in doc, (name, param)


def test_builtin_translator_is_registered() -> None:
    assert plugin_manager().get_plugins()
    assert translators()["snakemake"] is SnakemakeTranslator
    assert isinstance(get_translator("snakemake", "/repo"), SnakemakeTranslator)


def test_unknown_translator_names_the_available_ones() -> None:
    with pytest.raises(PluginError, match="unknown translator 'nope'; available: snakemake"):
        get_translator("nope", "/repo")


def test_duplicate_translator_name_is_rejected() -> None:
    class Twin:
        @pluggy.HookimplMarker("dvcexp")
        def dvcexp_register_translators(self, register):  # type: ignore[no-untyped-def]
            register("snakemake", SnakemakeTranslator)

    manager = plugin_manager()
    twin = Twin()
    manager.register(twin)
    translators.cache_clear()
    try:
        with pytest.raises(PluginError, match="two plugins register a translator named"):
            translators()
    finally:
        manager.unregister(twin)
        translators.cache_clear()


def test_rule_names_are_identifiers_and_unique() -> None:
    from dvcexp_plugin.pipeline import Stage

    stages = [Stage(n, f, ".", "true") for n, f in [
        ("train", "dvc.yaml"), ("process@2021", "dvc.yaml"), ("train", "sub/dvc.yaml"),
        ("sub_train", "dvc.yaml"), ("1st", "dvc.yaml"), ("if", "dvc.yaml"),
    ]]
    names = rule_names(stages)
    assert all(n.isidentifier() for n in names.values())
    assert len(set(names.values())) == len(stages)
    assert names["process@2021"] == "process_2021"
    assert names["sub/dvc.yaml:train"] == "sub_train"
    assert names["sub_train"] == "sub_train_2"


class TestSnakemakeTranslatorConformance(TranslatorConformance):
    __test__ = True

    def make_translator(self, root: str) -> SnakemakeTranslator:
        return SnakemakeTranslator(root)
