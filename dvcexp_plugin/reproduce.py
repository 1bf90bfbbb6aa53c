"""``repro``: plan with DVC's rules, compile, run on Snakemake, report as DVC.

Nothing reaches Snakemake when the plan is empty (no import, no child
process). A run's files live in ``.dvc/tmp/dvcexp/runs/<id>/`` (spec, Snakefile,
per-stage results, engine events); they are removed afterwards, unless the
engine itself failed (then the error names the folder). A stage that fails is
reported as DVC reports it, from its result file.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.pipeline import Pipeline, Stage
from dvcexp_plugin.pipeline.spec import stage_to_spec
from dvcexp_plugin.plan import Plan
from dvcexp_plugin.repo import Repo
from dvcexp_plugin.stage_runner import (
    THREAD_VARS,
    USER_THREAD_ENV,
    blank_after,
    shown_address,
)


class ReproductionError(DvcExpError):
    """A stage failed; the message names it as DVC does."""


@dataclass
class RunOutcome:
    """Per-stage results of an engine run (addressing → result dict)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    engine_error: str | None = None
    #: the engine's last error, whatever its kind
    engine_message: str | None = None
    run_dir: str | None = None
    #: DVC's lines for the unchanged stages after the last job
    trailing: list[tuple[str, str]] = field(default_factory=list)
    #: lines that jobs which never started would have printed first
    unprinted: list[tuple[str, str]] = field(default_factory=list)
    #: the last job in DVC's order reproduced (DVC's blank line before what follows)
    ends_reproduced: bool = False


#: a line for the user: ("out" | "err", text)
Line = tuple[str, str]


def frozen_warning(stage: Stage, shown: str | None = None) -> Line:
    """DVC's warning for a frozen stage it meets while reproducing."""
    return ("err", f"WARNING: stage: '{shown or stage.addressing}' is frozen. Its "
                   "dependencies are not going to be reproduced.")


def skip_lines(
    plan: Plan, exclude: set[str] | None = None, root: str | None = None,
    cwd: str | None = None,
) -> tuple[dict[str, list[Line]], list[Line]]:
    """DVC's lines for the planned stages the engine does not run, in DVC's order.

    :param exclude: stages already reported (data sources verified beforehand)
    :param root: with ``cwd``: stages are named relative to ``cwd``, as DVC does
    :returns: (rule addressing → lines printed just before that stage's job, lines
        after the last job). A frozen stage's warning precedes it, run or not.
    """
    to_run = {s.addressing for s in plan.to_run}
    before: dict[str, list[Line]] = {}
    pending: list[Line] = []
    for stage in plan.order:
        if stage.addressing in (exclude or ()):
            continue
        shown = shown_address(stage, root or "", cwd if root else None)
        if stage.frozen:
            pending.append(frozen_warning(stage, shown))
        if stage.addressing in to_run:
            before[stage.addressing], pending = pending, []
        else:
            prefix = "" if stage.data_source else "Stage "
            pending.append(("out", f"{prefix}'{shown}' didn't change, skipping"))
    return before, pending


def dependents(pipeline: Pipeline, address: str) -> list[str]:
    """Every stage downstream of ``address`` in DVC's active graph, in DAG order.

    A frozen stage is cut from its upstream, so neither it nor what lies
    only behind it depends on ``address``.
    """
    graph = pipeline.graph
    found: set[str] = set()
    todo = list(graph.downstream.get(address, []))
    while todo:
        node = todo.pop()
        if node in found or graph.by_address[node].frozen:
            continue
        found.add(node)
        todo.extend(graph.downstream.get(node, []))
    return [a for a in graph.topological() if a in found]


def execute(
    repo: Repo,
    pipeline: Pipeline,
    plan: Plan,
    jobs: int = 1,
    keep_going: bool = False,
    force_downstream: bool = False,
    env: dict[str, str] | None = None,
    out: TextIO | None = None,
    on_error: str | None = None,
    exclude: set[str] | None = None,
    pull: bool = False,
    use_snakemake: bool | None = None,
    cwd: str | None = None,
    allow_missing: bool = False,
) -> RunOutcome:
    """Run ``plan.to_run`` through the engine; return what each stage did.

    :param on_error: DVC's ``fail``, ``keep-going`` or ``ignore`` (default: from
        ``keep_going``). With ``ignore`` a failed job lets its dependents run.
    :param exclude: planned stages already reported by the caller
    :param pull: ``--pull`` (see :class:`dvcexp_plugin.stage_runner.StageRunner`)
    :param use_snakemake: run ``-j 1`` through Snakemake too (default: only when
        ``DVCEXP_ENGINE=snakemake``); otherwise one job slot runs in-process
    :param cwd: the user's working directory; messages name stages relative to it
    :param allow_missing: ``--allow-missing`` (see ``StageRunner``)

    Each job prints DVC's lines for the unchanged stages that precede it in
    ``plan.order``; the lines after the last job come back in
    ``RunOutcome.trailing`` for the caller to print.
    """
    from dvcexp_translators.snakemake import SnakemakeTranslator, rule_names

    from dvcexp_plugin import engine

    on_error = on_error or ("keep-going" if keep_going else "fail")
    if use_snakemake is None:
        use_snakemake = os.environ.get("DVCEXP_ENGINE", "") == "snakemake"
    out = out or sys.stdout
    stages = plan.to_run
    runs = os.path.join(repo.tmp_dir, "dvcexp", "runs")
    os.makedirs(runs, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=runs)
    names = rule_names(stages)
    graph = pipeline.graph
    upstream = {s.addressing: list(graph.upstream[s.addressing]) for s in stages}
    before, trailing = skip_lines(plan, exclude, repo.root, cwd)
    # Snakemake's priority: DVC's order first (one job at a time = dvc repro's order)
    order = [s.addressing for s in plan.order if s.addressing in names]
    priorities = {a: len(order) - i for i, a in enumerate(order)}
    # nearest first; a job that never started (skipped after a failure) is passed over
    previous = {a: [names[p] for p in reversed(order[max(0, i - 20):i])]
                for i, a in enumerate(order)}
    spec_path = os.path.join(run_dir, "spec.json")
    spec = {
        "lock_order": _new_lock_entries(repo.root, stages, order) if jobs > 1 else {},
        "root": repo.root,
        "run_dir": run_dir,
        "forced": sorted(plan.forced),
        "force_downstream": force_downstream,
        "on_error": on_error,
        "pull": pull,
        "allow_missing": allow_missing,
        "cwd": cwd,
        "env": env or {},
        "rules": {
            names[s.addressing]: {
                "stage": stage_to_spec(s),
                "upstream": [names[u] for u in upstream[s.addressing] if u in names],
                "before": before.get(s.addressing, []),
                # DVC prints a blank line before a stage when the one before it
                # reproduced; that is the previous job in DVC's order, or nothing
                "previous": previous.get(s.addressing, []),
                "dependents": ([shown_address(graph.by_address[d], repo.root, cwd)
                                for d in dependents(pipeline, s.addressing)]
                               if on_error == "keep-going" else []),
            }
            for s in stages
        },
    }
    with open(spec_path, "w", encoding="utf-8") as fobj:
        json.dump(spec, fobj)
    snakefile = os.path.join(run_dir, "Snakefile")
    text = SnakemakeTranslator(repo.root).translate(
        stages, pipeline.stages, upstream, spec=spec_path, run_dir=run_dir,
        priorities=priorities,
    )
    with open(snakefile, "w", encoding="utf-8") as fobj:
        fobj.write(text)
    with open(os.path.join(run_dir, engine.ENGINE_SETTINGS), "w", encoding="utf-8") as fobj:
        json.dump({"snakefile": snakefile, "rules": sorted(names.values()), "jobs": jobs,
                   "keep_going": on_error != "fail"}, fobj)
    saved = {name: os.environ.get(name) for name in THREAD_VARS}
    os.environ[USER_THREAD_ENV] = json.dumps(saved)
    out.flush()
    if jobs == 1 and not use_snakemake:
        from dvcexp_plugin.serial_engine import run_serial

        rules_upstream = {names[a]: [names[u] for u in upstream[a] if u in names] for a in order}
        try:
            returncode = run_serial(spec_path, [names[a] for a in order], rules_upstream,
                                    keep_going=on_error != "fail")
        finally:
            os.environ.pop(USER_THREAD_ENV, None)
    else:
        proc = engine.start(run_dir)
        try:
            proc.wait()
        except KeyboardInterrupt:
            engine.stop(proc)
            _clean_timestamps(repo, stages)
            raise
        finally:
            os.environ.pop(USER_THREAD_ENV, None)
        returncode = proc.returncode
    outcome = _collect(run_dir, names)
    if returncode != 0 and not outcome.failed and not outcome.engine_error:
        # the engine failed without any stage failing: never report success
        outcome.engine_error = outcome.engine_message or (
            f"the engine exited with code {returncode}"
        )
    outcome.trailing = trailing
    outcome.ends_reproduced = blank_after(
        os.path.join(run_dir, "results"), [names[a] for a in reversed(order)]
    )
    # lines of jobs that never started (a failure stopped the run) come last
    outcome.unprinted = [line for a in order if a not in outcome.results
                         for line in before.get(a, [])]
    _clean_timestamps(repo, stages)
    if not outcome.engine_error:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        outcome.run_dir = run_dir
    return outcome


def _new_lock_entries(root: str, stages: list[Stage], order: list[str]) -> dict[str, list[str]]:
    """Lock file → names of the planned stages it has no entry for yet, in DVC's order.

    ``dvc repro`` appends new entries as it goes, in its serial order; with
    several job slots they finish in another order, so each job inserts its
    new entry before the later ones already written (see ``lock.write_entry``).
    """
    from dvcexp_plugin.lock_read import read_lockfile

    by_address = {s.addressing: s for s in stages}
    existing: dict[str, set[str]] = {}
    found: dict[str, list[str]] = {}
    for address in order:
        stage = by_address[address]
        if stage.lockfile not in existing:
            try:
                existing[stage.lockfile] = set(read_lockfile(os.path.join(root, stage.lockfile)))
            except DvcExpError:
                existing[stage.lockfile] = set()  # the job reports the broken lock
        if stage.name not in existing[stage.lockfile]:
            found.setdefault(stage.lockfile, []).append(stage.name)
    return found


def _collect(run_dir: str, names: dict[str, str]) -> RunOutcome:
    outcome = RunOutcome()
    by_rule = {rule: addr for addr, rule in names.items()}
    results_dir = os.path.join(run_dir, "results")
    for rule, addr in by_rule.items():
        try:
            with open(os.path.join(results_dir, f"{rule}.json"), encoding="utf-8") as fobj:
                result = json.load(fobj)
        except (OSError, ValueError):
            continue
        outcome.results[addr] = result
        if result.get("status") == "failed":
            outcome.failed.append(addr)
    try:
        with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as fobj:
            events = [json.loads(line) for line in fobj if line.strip()]
    except OSError:
        events = []
    for event in events:
        if event.get("event") == "JOB_ERROR":
            failed = by_rule.get(event.get("rule", ""))
            if failed and failed not in outcome.failed and failed not in outcome.results:
                outcome.failed.append(failed)
        if event.get("event") == "FAILED":
            message = " ".join(str(event.get("message", "")).split())
            outcome.engine_message = f"{event.get('exception')}: {message}"
            # a WorkflowError is Snakemake's summary of failed jobs, unless no job failed
            if event.get("exception") != "WorkflowError":
                outcome.engine_error = outcome.engine_message
    return outcome


def _clean_timestamps(repo: Repo, stages: list[Stage]) -> None:
    """Remove Snakemake's ``.snakemake_timestamp`` from directory outputs."""
    for stage in stages:
        for out in stage.out_paths:
            marker = os.path.join(repo.root, out, ".snakemake_timestamp")
            if os.path.isfile(marker):
                os.unlink(marker)
