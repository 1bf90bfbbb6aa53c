"""Running queued experiments: every entry's stages in ONE Snakemake DAG.

Each claimed entry gets an isolated workspace under ``.dvc/tmp/exps/<id>/``
(its commit's tree; ``.dvc/cache`` shared through ``cache.dir``), is planned
with DVC's repro rules there, and contributes its stage rules — prefixed
``q<n>_`` — plus one ``q<n>_commit`` rule that saves the experiment the moment
its last stage finishes. All rules go to one engine run with ``jobs`` slots,
so stages of different experiments interleave. A root stage whose inputs
(cmd, deps, params) are identical in several entries runs once: the other
entries' copies wait for it and then restore its outputs from the run-cache.
A failed entry never blocks the others (keep-going) and keeps its log.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from dvcexp_plugin.experiments.queue_store import QueueEntry, QueueStore
from dvcexp_plugin.repo import Repo

COMMIT_SUFFIX = "commit"


@dataclass
class QueueRun:
    """What one ``queue start`` / ``--run-all`` did."""

    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def prepare_workspace(repo: Repo, git: Any, entry: QueueEntry, store: QueueStore) -> str:
    """Write the entry's tree to its workspace and point its cache at the repo's."""
    from dvcexp_plugin.cache import cache_settings
    from dvcexp_plugin.experiments.temp_run import copy_into, setup_workspace

    workspace = store.workspace(entry.id)
    if os.path.exists(workspace):
        shutil.rmtree(workspace)
    git.materialize(entry.rev, workspace)
    setup_workspace(repo, workspace, cache_settings(repo.root))
    # -C/--copy-paths: copied from the repository as it is when the entry runs
    copy_into(repo.root, workspace, list(entry.args.get("copy_paths") or []))
    if entry.args.get("reset"):
        from dvcexp_plugin.experiments.temp_run import reset_persist
        from dvcexp_plugin.pipeline import load_pipeline

        reset_persist(workspace, load_pipeline(workspace))
    return workspace


def _plan_entry(workspace: str, entry: QueueEntry) -> tuple[Any, Any]:
    import argparse

    from dvcexp_plugin.cache import ObjectCache
    from dvcexp_plugin.commands.loading import load_repo_pipeline
    from dvcexp_plugin.plan import plan_repro
    from dvcexp_plugin.repro_flow import options_from_args
    from dvcexp_plugin.statcache import StatCache
    from dvcexp_plugin.status import StatusChecker
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    flags = {"targets": [], "single_item": False, "recursive": False, "downstream": False,
             "all_pipelines": False, "force": False, "force_downstream": False}
    flags.update({k: v for k, v in entry.args.items() if k in flags and v is not None})
    old = os.getcwd()
    os.chdir(workspace)
    try:
        ws_repo, pipeline = load_repo_pipeline()
        with StatCache(ws_repo.root) as stat_cache:
            checker = StatusChecker(ws_repo.root, ObjectCache.for_repo(ws_repo.root),
                                    WorkspaceHasher(ws_repo.root, stat_cache), workspace)
            plan = plan_repro(pipeline, options_from_args(argparse.Namespace(**flags)),
                              checker, workspace)
    finally:
        os.chdir(old)
    return pipeline, plan


def run_queue(repo: Repo, jobs: int, out: TextIO) -> QueueRun:
    """Run every queued entry (see module docstring); returns who succeeded/failed."""
    from dvcexp_translators.snakemake import SnakemakeTranslator, rule_names

    from dvcexp_plugin import engine
    from dvcexp_plugin.git.repo import GitRepo
    from dvcexp_plugin.pipeline.spec import stage_to_spec
    from dvcexp_plugin.stage_record import StageRecorder  # noqa: F401 - import cost paid once
    from dvcexp_plugin.stage_runner import THREAD_VARS, USER_THREAD_ENV
    from dvcexp_plugin.stage_state import input_entry

    store = QueueStore(repo.root)
    store.recover()
    entries = store.claim(os.getpid())
    result = QueueRun()
    if not entries:
        return result
    engine.warm_up()  # Snakemake imports while the entries' workspaces are prepared
    git = GitRepo.find(repo.root)
    runs = os.path.join(repo.tmp_dir, "dvcexp", "runs")
    os.makedirs(runs, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix=time.strftime("queue-%Y%m%d-%H%M%S-"), dir=runs)
    texts: list[str] = []
    all_rules: list[str] = []
    leaders: dict[str, str] = {}  # run-cache key of a root stage -> rule that runs it
    queue_spec: dict[str, Any] = {"root": repo.root, "entries": {}}
    for index, entry in enumerate(entries):
        prefix = f"q{index + 1}_"
        try:
            workspace = prepare_workspace(repo, git, entry, store)
            pipeline, plan = _plan_entry(workspace, entry)
        except Exception as exc:  # noqa: BLE001 - one broken entry must not stop the rest
            store.finish(entry.id, False, None, str(exc))
            result.failed.append(entry.name)
            continue
        stages = plan.to_run
        names = rule_names(stages, prefix)
        graph = pipeline.graph
        upstream = {s.addressing: [u for u in graph.upstream[s.addressing] if u in names]
                    for s in stages}
        extra: dict[str, list[str]] = {}
        for stage in stages:
            if upstream[stage.addressing] or stage.always_changed or stage.frozen:
                continue
            try:
                key = json.dumps(input_entry(stage, _hasher(workspace), _params(workspace)),
                                 sort_keys=True)
            except Exception:  # noqa: BLE001 - a missing dep fails in its own job
                continue
            if key in leaders:
                extra[stage.addressing] = [leaders[key]]
            else:
                leaders[key] = names[stage.addressing]
        entry_dir = os.path.join(run_dir, entry.id)
        os.makedirs(entry_dir)
        spec_path = os.path.join(entry_dir, "spec.json")
        env = {"DVC_EXP_NAME": entry.name, "DVC_EXP_BASELINE_REV": entry.baseline,
               "DVC_ROOT": repo.root, **store.job_env(entry.id)}
        spec = {
            "root": workspace, "run_dir": entry_dir, "forced": sorted(plan.forced),
            "force_downstream": bool(entry.args.get("force_downstream")), "on_error": "fail",
            "pull": False, "env": env,
            "rules": {names[s.addressing]: {
                "stage": stage_to_spec(s),
                "upstream": [names[u] for u in upstream[s.addressing]],
                "before": [], "previous": [], "dependents": [],
            } for s in stages},
        }
        with open(spec_path, "w", encoding="utf-8") as fobj:
            json.dump(spec, fobj)
        text = SnakemakeTranslator(workspace, prefix).translate(
            stages, pipeline.stages, upstream, spec=spec_path, run_dir=entry_dir, after=extra,
        )
        texts.append(text)
        commit_rule = f"{prefix}{COMMIT_SUFFIX}"
        inputs = ", ".join(repr(f"done/{names[s.addressing]}") for s in stages)
        # a run: block, in the engine's thread pool like the stage jobs
        queue_json = os.path.join(run_dir, "queue.json")
        texts.append(
            f"rule {commit_rule}:\n" + (f"    input: {inputs}\n" if inputs else "")
            + f"    output: touch('done/{commit_rule}')\n"
            # saving the experiment is not a stage: it takes no job slot of -j
            + "    threads: 0\n"
            + f"    run:\n        _dvcexp_commit({queue_json!r}, {entry.id!r})\n"
        )
        all_rules += [names[s.addressing] for s in stages] + [commit_rule]
        queue_spec["entries"][entry.id] = {
            "workspace": workspace, "spec": spec_path, "rules": [names[s.addressing] for s in
                                                                 stages],
            "addresses": {names[s.addressing]: s.addressing for s in stages},
        }
    with open(os.path.join(run_dir, "queue.json"), "w", encoding="utf-8") as fobj:
        json.dump(queue_spec, fobj)
    snakefile = os.path.join(run_dir, "Snakefile")
    with open(snakefile, "w", encoding="utf-8") as fobj:
        fobj.write("from dvcexp_plugin.experiments.queue_commit import snakemake_job as "
                   "_dvcexp_commit\n\n" + "\n".join(texts))
    with open(os.path.join(run_dir, engine.ENGINE_SETTINGS), "w", encoding="utf-8") as fobj:
        json.dump({"snakefile": snakefile, "rules": all_rules, "jobs": max(1, jobs),
                   "keep_going": True}, fobj)
    os.environ[USER_THREAD_ENV] = json.dumps({n: os.environ.get(n) for n in THREAD_VARS})
    out.flush()
    proc = engine.start(run_dir) if all_rules else None
    if proc is not None:
        store.record_engine(proc.pid)
    try:
        if proc is not None:
            proc.wait()
    except KeyboardInterrupt:
        if proc is not None:
            engine.stop(proc)
        raise
    finally:
        os.environ.pop(USER_THREAD_ENV, None)
        store.record_engine(None)
        _settle(store, entries, queue_spec, result)
    shutil.rmtree(run_dir, ignore_errors=True)
    return result


def _hasher(workspace: str) -> Any:
    from dvcexp_plugin.workspace_hasher import WorkspaceHasher

    return WorkspaceHasher(workspace)


def _params(workspace: str) -> Any:
    from dvcexp_plugin.params_values import ParamsReader

    return ParamsReader(workspace)


def _settle(store: QueueStore, entries: list[QueueEntry], queue_spec: dict[str, Any],
            result: QueueRun) -> None:
    """Entries whose commit job did not finish them are failed; logs are kept."""
    from dvcexp_plugin.experiments.queue_commit import collect_log
    from dvcexp_plugin.experiments.queue_kill import STOPPED_ERROR

    for entry in entries:
        current = store.load(entry.id)
        if current is None or entry.name in result.failed:
            continue
        info = queue_spec["entries"].get(entry.id)
        if current.status == "Running":
            error = _first_error(info)
            if error and STOPPED_ERROR in error:
                store.requeue(entry.id)  # `queue stop` came before its first command
                continue
            if info:
                collect_log(store, current, info)
            store.finish(entry.id, False, None, error or "the experiment did not finish")
            current = store.load(entry.id)
        if current and current.status == "Success":
            result.succeeded.append(entry.name)
        else:
            result.failed.append(entry.name)
        if info and current and current.status == "Success":
            shutil.rmtree(info["workspace"], ignore_errors=True)


def _first_error(info: dict[str, Any] | None) -> str | None:
    if not info:
        return None
    from dvcexp_plugin.experiments.queue_commit import rule_results

    for address, data in rule_results(info).items():
        if data.get("status") == "failed":
            return f"failed to reproduce '{address}': {data.get('error')}"
    return None
