"""``repro``: plan with DVC's rules, compile, run on Snakemake, report as DVC.

Nothing reaches Snakemake when the plan is empty (no import, no child
process). A run's files live in ``.dvc/tmp/dvcexp/runs/<id>/`` (spec, Snakefile,
per-stage results, engine events); they are removed after a successful run and
kept, with their path printed, after a failure.
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
from dvcexp_plugin.stage_runner import THREAD_VARS, USER_THREAD_ENV
from dvcexp_plugin.stage_state import directory_outputs


class ReproductionError(DvcExpError):
    """A stage failed; the message names it as DVC does."""


@dataclass
class RunOutcome:
    """Per-stage results of an engine run (addressing → result dict)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    engine_error: str | None = None
    run_dir: str | None = None


def execute(
    repo: Repo,
    pipeline: Pipeline,
    plan: Plan,
    jobs: int = 1,
    keep_going: bool = False,
    force_downstream: bool = False,
    env: dict[str, str] | None = None,
    out: TextIO | None = None,
) -> RunOutcome:
    """Run ``plan.to_run`` through the engine; return what each stage did."""
    from dvcexp_translators.snakemake import SnakemakeTranslator, rule_names

    from dvcexp_plugin import engine

    out = out or sys.stdout
    stages = plan.to_run
    runs = os.path.join(repo.tmp_dir, "dvcexp", "runs")
    os.makedirs(runs, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=runs)
    names = rule_names(stages)
    graph = pipeline.graph
    upstream = {s.addressing: list(graph.upstream[s.addressing]) for s in stages}
    spec_path = os.path.join(run_dir, "spec.json")
    spec = {
        "root": repo.root,
        "run_dir": run_dir,
        "forced": sorted(plan.forced),
        "force_downstream": force_downstream,
        "env": env or {},
        "rules": {
            names[s.addressing]: {
                "stage": stage_to_spec(s),
                "upstream": [names[u] for u in upstream[s.addressing] if u in names],
            }
            for s in stages
        },
    }
    with open(spec_path, "w", encoding="utf-8") as fobj:
        json.dump(spec, fobj)
    snakefile = os.path.join(run_dir, "Snakefile")
    text = SnakemakeTranslator(repo.root).translate(
        stages, pipeline.stages, upstream, spec=spec_path, run_dir=run_dir,
        dir_outputs=directory_outputs(repo.root, stages),
    )
    with open(snakefile, "w", encoding="utf-8") as fobj:
        fobj.write(text)
    with open(os.path.join(run_dir, engine.ENGINE_SETTINGS), "w", encoding="utf-8") as fobj:
        json.dump({"snakefile": snakefile, "rules": sorted(names.values()), "jobs": jobs,
                   "keep_going": keep_going}, fobj)
    saved = {name: os.environ.get(name) for name in THREAD_VARS}
    os.environ[USER_THREAD_ENV] = json.dumps(saved)
    out.flush()
    proc = engine.start(run_dir)
    try:
        proc.wait()
    except KeyboardInterrupt:
        engine.stop(proc)
        _clean_timestamps(repo, stages)
        raise
    finally:
        os.environ.pop(USER_THREAD_ENV, None)
    outcome = _collect(run_dir, names)
    _clean_timestamps(repo, stages)
    if not outcome.failed and not outcome.engine_error:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        outcome.run_dir = run_dir
    return outcome


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
        if event.get("event") == "FAILED" and event.get("exception") != "WorkflowError":
            message = " ".join(str(event.get("message", "")).split())
            outcome.engine_error = f"{event.get('exception')}: {message}"
    return outcome


def _clean_timestamps(repo: Repo, stages: list[Stage]) -> None:
    """Remove Snakemake's ``.snakemake_timestamp`` from directory outputs."""
    for stage in stages:
        for out in stage.out_paths:
            marker = os.path.join(repo.root, out, ".snakemake_timestamp")
            if os.path.isfile(marker):
                os.unlink(marker)
