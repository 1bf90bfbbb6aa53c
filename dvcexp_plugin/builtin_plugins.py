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


@hookimpl(trylast=True)
def dvcexp_snapshot(
    git: Any, baseline: str, ref: str, paths: list[str], message: str, force: bool
) -> str:
    """Commit DVC's experiment tree and publish its ref (compare-and-swap)."""
    tree = git.snapshot_tree(paths)
    sha: str = git.commit_tree(tree, [baseline], message)
    old = git.get_ref(ref)
    if old is not None and not force:
        from dvcexp_plugin.experiments.run import ExperimentExistsError

        raise ExperimentExistsError(
            f"Experiment conflicts with existing experiment '{ref.rsplit('/', 1)[-1]}'. To "
            "overwrite the existing experiment run: dvcexp exp run -f ..."
        )
    git.set_ref(ref, sha, expected_old=old)
    return sha
