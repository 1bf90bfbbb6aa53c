"""The in-process engine for ``-j 1``: DVC's serial order without Snakemake.

With one job slot Snakemake adds nothing but its start-up (about 1.5 s to
import) and a Python process per job; ``dvc repro``'s own order is a plain
walk. This engine runs the very same jobs — ``stage_runner.main(spec, rule)``,
with the spec the Snakemake path writes — one after the other in the
planned order, with Snakemake's failure semantics: stop at the first failure,
or with ``keep-going`` skip everything downstream of a failed job.
"""
from __future__ import annotations

from collections.abc import Mapping


def run_serial(
    spec_path: str,
    order: list[str],
    upstream: Mapping[str, list[str]],
    keep_going: bool,
) -> int:
    """Run the rules of ``spec_path`` in ``order``; 0 when every job succeeded.

    :param order: rule names, dependencies first (DVC's order)
    :param upstream: rule → the rules it depends on (within this run)
    :param keep_going: go on with jobs that do not depend on a failed one
    """
    from dvcexp_plugin.stage_runner import main as run_job

    failed: set[str] = set()
    for rule in order:
        if any(up in failed for up in upstream.get(rule, [])):
            failed.add(rule)  # never started, as Snakemake skips dependents
            continue
        if run_job([spec_path, rule]) != 0:
            failed.add(rule)
            if not keep_going:
                break
    return 1 if failed else 0
