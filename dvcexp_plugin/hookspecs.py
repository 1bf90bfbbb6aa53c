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


@hookspec(firstresult=True)
def dvcexp_snapshot(
    git: Any, baseline: str, ref: str, paths: list[str], message: str, force: bool
) -> str | None:
    """Save the workspace as an experiment; return the new commit's sha.

    Fires once per experiment, after its last stage finished successfully. The
    built-in implementation commits DVC's experiment tree (tracked changes,
    staged files and ``paths``) with ``baseline`` as the only parent and sets
    ``ref`` compare-and-swap. ``firstresult``: the first plugin returning a sha
    wins, so a plugin can replace the built-in (e.g. to sign commits).

    :param git: the :class:`dvcexp_plugin.git.repo.GitRepo` of the workspace
    :param baseline: the baseline commit sha
    :param ref: the experiment ref to publish (``refs/exps/<b[:2]>/<b[2:]>/<name>``)
    :param paths: untracked files DVC adds to the commit (repo-relative)
    :param message: the commit message
    :param force: replace an existing experiment of the same name (``-f``)
    """


@hookspec
def dvcexp_experiment_saved(name: str, ref: str, sha: str, baseline: str) -> None:
    """An experiment was saved (e.g. log it to MLflow, notify a channel).

    Fires after :func:`dvcexp_snapshot` published the ref; failures of these
    hooks do not undo the experiment.

    :param name: the experiment name
    :param ref: its ref
    :param sha: its commit
    :param baseline: its baseline commit
    """
