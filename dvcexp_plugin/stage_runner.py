"""One job = one stage: decide with DVC's rules, then run, restore or verify.

The engine decides *when* a stage runs; this module decides *whether* and
*how*. It never imports snakemake or hydra (start-up is paid by every job).

Decision, in DVC's order:
1. frozen → only verify that the outputs exist;
2. unforced and cmd/deps/params equal the lock entry:
   - every output equals the lock (cached ones in the cache) →
     ``Stage 'x' didn't change, skipping``;
   - else, when the lock's outputs can be checked out from the cache →
     ``Stage 'x' is cached - skipping run, checking out outputs`` (DVC's
     ``stage_cache.restore`` with the lock entry);
3. unforced and the run-cache has this exact input state → check it out,
   ``Stage 'x' is cached - skipping run, checking out outputs``;
4. otherwise remove non-persistent outputs, run ``cmd`` and record the result.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from dvcexp_plugin.cache import ObjectCache
from dvcexp_plugin.errors import DvcExpError
from dvcexp_plugin.lock_read import read_lockfile
from dvcexp_plugin.params_values import ParamsReader
from dvcexp_plugin.pipeline import Stage
from dvcexp_plugin.stage_record import StageRecorder
from dvcexp_plugin.stage_state import can_run_cache, input_entry, inputs_match
from dvcexp_plugin.statcache import StatCache
from dvcexp_plugin.workspace_hasher import WorkspaceHasher

#: variables Snakemake sets to 1 in every job; restored unless the user set them
THREAD_VARS = (
    "OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
)
#: JSON {var: value or null} of the user's thread variables, set by the engine
USER_THREAD_ENV = "DVCEXP_USER_THREAD_ENV"
#: result statuses DVC counts as "reproduced" (``Stage.reproduce`` returned the stage)
REPRODUCED = ("ran", "cached", "verified")


class StageFailedError(DvcExpError):
    """The stage's command failed, or its outputs are missing afterwards."""


@dataclass
class StageResult:
    """What the runner did: ``ran``, ``skipped``, ``cached``, ``verified`` or ``failed``."""

    addressing: str
    status: str
    error: str | None = None
    duration: float = 0.0
    lock_lines: list[str] = field(default_factory=list)
    #: repo paths changed for git (lock file, .gitignore files)
    changed_files: list[str] = field(default_factory=list)


def shown_address(stage: Stage, root: str, cwd: str | None) -> str:
    """The stage's name as DVC prints it: its addressing relative to ``cwd``.

    DVC's ``addressing`` uses the dvc.yaml path relative to the working
    directory (``../dvc.yaml:train`` from a subdirectory, ``train`` beside it).
    """
    if cwd is None:
        return stage.addressing
    rel = os.path.relpath(os.path.join(root, stage.dvcfile), cwd).replace(os.sep, "/")
    if stage.data_source:
        return rel
    return stage.name if rel == "dvc.yaml" else f"{rel}:{stage.name}"


def stage_env(
    root: str, stage: Stage, extra: dict[str, str] | None = None, shown: str | None = None
) -> dict[str, str]:
    """The environment of a stage command: the user's, plus DVC's variables.

    :param shown: the name DVC prints for the stage (``DVC_STAGE``), see
        :func:`shown_address`; the repo-relative addressing by default
    """
    env = dict(os.environ)
    saved = env.pop(USER_THREAD_ENV, None)
    if saved is not None:
        for name, value in json.loads(saved).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
    env.update(extra or {})
    # in an isolated (queue) workspace DVC_ROOT still names the user's repository, as in DVC
    env["DVC_ROOT"] = (extra or {}).get("DVC_ROOT", root)
    env["DVC_STAGE"] = shown or stage.addressing
    return env


def shell_argv(command: str) -> list[str] | None:
    """DVC's shell: ``$SHELL`` (bash/zsh without rc files), else ``/bin/sh``."""
    executable = os.environ.get("SHELL")
    if not executable:
        return None
    options = {"zsh": ["--no-rcs"], "bash": ["--noprofile", "--norc"]}
    name = os.path.basename(executable).lower()
    return [executable, *options.get(name, []), "-c", command]


class StageRunner:
    """Runs one stage in a repository.

    :param root: repository root
    :param stage: the resolved stage
    :param force: run the command whatever the lock says (``-f``)
    :param env: extra environment (``DVC_EXP_NAME``…)
    :param out: where progress lines go (DVC prints them on stdout)
    :param pull: ``--pull``: outputs that are only missing are checked out
        ("pulled") from the local cache instead of reproduced
    :param cwd: the user's working directory (messages name stages and lock
        files relative to it, as DVC); None: repo-relative
    :param allow_missing: ``--allow-missing``: outputs that are only missing
        (deleted, not in the cache) do not make the stage changed
    """

    def __init__(
        self,
        root: str,
        stage: Stage,
        force: bool = False,
        env: dict[str, str] | None = None,
        out: Any = None,
        pull: bool = False,
        cwd: str | None = None,
        allow_missing: bool = False,
        lock_before: Collection[str] = (),
    ) -> None:
        self.root = root
        #: stages DVC's serial order writes after this one into its lock file
        self.lock_before = lock_before
        self.stage = stage
        self.force = force
        self.pull = pull
        self.allow_missing = allow_missing
        #: names and paths in messages are shown relative to the user's cwd, as DVC
        self.cwd = cwd
        self.shown = shown_address(stage, root, cwd)
        self.env = env or {}
        self.out = out or sys.stdout
        self.cache = ObjectCache.for_repo(root)

    def say(self, line: str) -> None:
        _say(line, self.out)

    def run(self) -> StageResult:
        """Decide and act; failures come back as a ``failed`` result."""
        start = time.monotonic()
        stage = self.stage
        with StatCache(self.root) as stat_cache:
            hasher = WorkspaceHasher(self.root, stat_cache)
            lock_shown = (os.path.relpath(os.path.join(self.root, stage.lockfile), self.cwd)
                          if self.cwd else None)
            recorder = StageRecorder(self.root, stage, self.cache, hasher, lock_shown,
                                     self.lock_before)
            try:
                status, lines = self._decide_and_act(hasher, recorder)
                error = None
            except DvcExpError as exc:
                status, lines, error = "failed", [], str(exc)
        return StageResult(
            stage.addressing, status, error, time.monotonic() - start, lines,
            list(recorder.changed_files),
        )

    def _decide_and_act(
        self, hasher: WorkspaceHasher, recorder: StageRecorder
    ) -> tuple[str, list[str]]:
        stage = self.stage
        if stage.frozen:
            self.say(f"Verifying outputs in frozen stage: '{self.shown}'")
            recorder.verify_outputs()
            return "verified", []
        locked = read_lockfile(os.path.join(self.root, stage.lockfile)).get(stage.name) or {}
        reader = ParamsReader(self.root)
        # --allow-missing: a deleted dep counts as its lock entry says (DVC checks
        # the upstream stage's lock too; here the lock entry is taken as is)
        missing_as = ({i.get("path"): i for i in locked.get("deps") or []}
                      if self.allow_missing else None)
        current = input_entry(stage, hasher, reader, missing_as)
        always = stage.always_changed or stage.is_callback
        if not self.force and not always and inputs_match(current, locked):
            if recorder.outputs_unchanged(locked) or (
                self.allow_missing and self._only_missing_outputs(hasher, locked)
            ):
                self.say(f"Stage '{self.shown}' didn't change, skipping")
                return "skipped", []
            if self.pull and self._only_missing_outputs(hasher, locked):
                # DVC's --pull: data missing but nothing else changed → pull, check out
                self.say(f"Pulling data for stage: '{self.shown}'")
                if recorder.outputs_restorable(locked) and recorder.restore_outputs(locked):
                    return "pulled", []
                self.say(f"Unable to pull data for stage: '{self.shown}'")
            # outputs deleted or modified: DVC restores the lock's outputs from
            # the cache and says so as for a run-cache hit
            if (can_run_cache(stage) and recorder.outputs_restorable(locked)
                    and recorder.restore_outputs(locked)):
                self.say(
                    f"Stage '{self.shown}' is cached - skipping run, checking out outputs"
                )
                return "cached", recorder.commit_entry(locked)
        if missing_as:
            current = input_entry(stage, hasher, reader)  # running needs every dep
        if not self.force and can_run_cache(stage):
            cached = recorder.run_cache_lookup(current)
            if (cached is not None and recorder.outputs_restorable(cached)
                    and recorder.restore_outputs(cached)):
                self.say(
                    f"Stage '{self.shown}' is cached - skipping run, checking out outputs"
                )
                return "cached", recorder.commit_entry(cached)
        recorder.remove_outputs()
        self.say(f"Running stage '{self.shown}':")
        self._run_commands()
        hasher.forget_all()
        entry = recorder.record_outputs(current)
        # DVC saves no run-cache entry when a plain output is not cached
        # (``Stage.run``: ``run_cache=not no_cache_outs``)
        no_cache_outs = any(not o.cache for o in stage.outs if o.kind == "outs")
        save = can_run_cache(stage) and not no_cache_outs
        return "ran", recorder.commit_entry(entry, save_run_cache=save)

    def _only_missing_outputs(self, hasher: WorkspaceHasher, locked: dict[str, Any]) -> bool:
        """Every output that differs from the lock is deleted or not in the cache."""
        items = {item.get("path"): item for item in locked.get("outs") or []}
        for out in self.stage.outs:
            current = hasher.hash(self.stage.repo_path(out.path))
            if current is not None and current.md5 != (items.get(out.path) or {}).get("md5"):
                return False
        return True

    def _run_commands(self) -> None:
        stage = self.stage
        commands = stage.cmd if isinstance(stage.cmd, list) else [stage.cmd]
        cwd = os.path.join(self.root, stage.wdir)
        env = stage_env(self.root, stage, self.env, self.shown)
        from dvcexp_plugin.command_log import StageLog, log_path, run_logged

        self.log_file = log_path(self.root, stage.addressing)
        log = StageLog(self.log_file)
        try:
            for command in commands:
                self.say(f"> {command}")
                log.note(f"> {command}")
                argv = shell_argv(command)
                try:
                    returncode = run_logged(
                        command if argv is None else argv, shell=argv is None, cwd=cwd,
                        env=env, log=log,
                    )
                except OSError as exc:
                    raise StageFailedError(f"failed to run: {command}, {exc.strerror}") from exc
                log.note(f"exit code {returncode}")
                if returncode != 0:
                    raise StageFailedError(
                        f"failed to run: {command}, exited with {returncode}"
                    )
        finally:
            log.close()


def main(argv: list[str]) -> int:
    """Run one job of an engine run: ``argv`` is ``[SPEC, RULE]``.

    Both engines call it in process: the serial engine for ``-j 1``, and
    Snakemake through :func:`snakemake_job` (the generated ``run:`` rules).

    The spec (written by :func:`dvcexp_plugin.reproduce.execute`) also says
    what to print before the stage (DVC's lines for the unchanged stages that
    precede it in DVC's order) and what to do on failure: ``fail`` (the
    parent reports it), ``keep-going`` (warn, name the dependents Snakemake
    will skip) or ``ignore`` (warn, and let the dependents run).
    """
    from dvcexp_plugin.pipeline.spec import stage_from_spec

    spec_path, rule = argv[0], argv[1]
    spec = _load_spec(spec_path)
    job = spec["rules"][rule]
    stage = stage_from_spec(job["stage"])
    results_dir = os.path.join(spec["run_dir"], "results")
    blank = blank_after(results_dir, job.get("previous") or [])
    if blank:
        _say("")  # DVC: a blank line after a stage that reproduced
    for stream, line in job.get("before", []):
        _say(line, sys.stderr if stream == "err" else sys.stdout)
    force = stage.addressing in spec.get("forced", [])
    if spec.get("force_downstream") and not force:
        force = any(_upstream_ran(results_dir, up) for up in job.get("upstream", []))
    order = (spec.get("lock_order") or {}).get(stage.lockfile) or []
    later = order[order.index(stage.name) + 1:] if stage.name in order else []
    runner = StageRunner(spec["root"], stage, force=force, env=spec.get("env"),
                         pull=bool(spec.get("pull")), cwd=spec.get("cwd"),
                         allow_missing=bool(spec.get("allow_missing")), lock_before=later)
    result = runner.run()
    os.makedirs(results_dir, exist_ok=True)
    tmp = os.path.join(results_dir, f".{rule}.json.tmp")
    with open(tmp, "w", encoding="utf-8") as fobj:
        # a failed stage leaves DVC's "previous stage reproduced" state as it was
        json.dump({**result.__dict__, "blank_after": blank}, fobj)
    os.replace(tmp, os.path.join(results_dir, f"{rule}.json"))
    for line in result.lock_lines:
        runner.say(line)
    if result.status == "failed":
        # the stage's output is kept in .dvc/tmp/dvcexp/logs/<stage>.log; stderr stays
        # exactly DVC's, so the path is documented rather than printed
        on_error = spec.get("on_error", "fail")
        if on_error == "ignore":
            _say(f"WARNING: {result.error} (ignored)", sys.stderr)
            return 0  # DVC goes on with the dependents
        if on_error == "keep-going":
            _say(f"WARNING: {result.error}", sys.stderr)
            dependents = job.get("dependents", [])  # already shown relative to the cwd
            if dependents:
                names = _join([f"'{d}'" for d in dependents])
                which = "Stages" if len(dependents) > 1 else "Stage"
                _say(f"WARNING: {which} {names} will be skipped due to this failure",
                     sys.stderr)
        return 1
    return 0


class JobFailedError(Exception):
    """Raised to Snakemake by :func:`snakemake_job` when the stage failed (already reported)."""


def snakemake_job(spec_path: str, rule: str) -> None:
    """The body of a generated ``run:`` rule: one stage job in Snakemake's own process.

    Snakemake runs ``run:`` jobs in its thread pool (``use_threads``), so a
    job costs no interpreter start-up or imports; the runner passes cwd and
    environment to the command explicitly and shares no state between jobs
    but the read-only spec.
    """
    if main([spec_path, rule]) != 0:
        raise JobFailedError(f"stage job {rule} failed")


_SPECS: dict[str, dict[str, Any]] = {}
_SPECS_LOCK = threading.Lock()


def _load_spec(path: str) -> dict[str, Any]:
    """The run's spec, read once per process (it never changes during a run)."""
    with _SPECS_LOCK:
        if path not in _SPECS:
            with open(path, encoding="utf-8") as fobj:
                _SPECS[path] = json.load(fobj)
        return _SPECS[path]


def _say(line: str, stream: Any = None) -> None:
    """One line in one write: jobs in threads must not interleave inside a line."""
    stream = stream or sys.stdout
    stream.write(line + "\n")
    stream.flush()


def _join(words: list[str]) -> str:
    """DVC's ``humanize.join``: ``a``, ``a and b``, ``a, b and c``."""
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def blank_after(results_dir: str, previous: list[str]) -> bool:
    """Whether DVC prints a blank line before this job's first line.

    DVC does after a stage that reproduced; a failed stage keeps the state
    of the one before it, and a skipped one (no result) is passed over.
    """
    for rule in previous:
        try:
            with open(os.path.join(results_dir, f"{rule}.json"), encoding="utf-8") as fobj:
                result = json.load(fobj)
        except (OSError, ValueError):
            continue
        if result.get("status") == "failed":
            return bool(result.get("blank_after"))
        return result.get("status") in REPRODUCED
    return False


def _upstream_ran(results_dir: str, rule: str) -> bool:
    """Whether an upstream job "reproduced" (DVC's ``ret``: ran, restored or verified)."""
    try:
        with open(os.path.join(results_dir, f"{rule}.json"), encoding="utf-8") as fobj:
            return json.load(fobj).get("status") in REPRODUCED
    except (OSError, ValueError):
        return False

