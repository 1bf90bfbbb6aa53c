"""Loading plugins: built-ins and the ``dvcexp`` entry-point group, once, lazily.

``DVCEXP_DISABLE_PLUGINS=1`` loads only the built-ins (to rule a third-party
plugin out when something misbehaves).
"""
from __future__ import annotations

import os
from functools import cache
from typing import Any

import pluggy

from dvcexp_plugin.errors import DvcExpError

PROJECT = "dvcexp"
DISABLE_ENV = "DVCEXP_DISABLE_PLUGINS"


class PluginError(DvcExpError):
    """A plugin could not be loaded or registered something twice."""


@cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with every plugin loaded and checked."""
    from dvcexp_plugin import builtin_plugins, hookspecs

    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    if not os.environ.get(DISABLE_ENV):
        try:
            manager.load_setuptools_entrypoints(PROJECT)
        except Exception as exc:  # noqa: BLE001 - any plugin import failure
            raise PluginError(
                f"a dvcexp plugin failed to load ({exc}); fix or uninstall it, or set "
                f"{DISABLE_ENV}=1"
            ) from exc
    if not manager.is_registered(builtin_plugins):
        # plugins disabled, or running from a source tree without entry-point metadata
        manager.register(builtin_plugins, name="builtin")
    manager.check_pending()
    return manager


@cache
def translators() -> dict[str, Any]:
    """Translator name → factory, from every plugin."""
    found: dict[str, Any] = {}

    def register(name: str, factory: Any) -> None:
        if name in found:
            raise PluginError(
                f"two plugins register a translator named '{name}'; uninstall one of them"
            )
        found[name] = factory

    plugin_manager().hook.dvcexp_register_translators(register=register)
    return found


def get_translator(name: str, root: str, prefix: str = "") -> Any:
    """A translator instance by name."""
    available = translators()
    if name not in available:
        raise PluginError(
            f"unknown translator '{name}'; available: {', '.join(sorted(available))}"
        )
    return available[name](root, prefix)
