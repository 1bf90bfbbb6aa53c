"""Benchmark ``dvcexp repro`` against ``dvc repro`` (DVC 3.x) on small generated projects.

Usage::

    python bench/bench_repro.py [--runs 5] [--only chain,parallel,noop,runner] [--write]

Measures (projects from :mod:`minirepo`, under ``/tmp/dvcexp-bench-small``):

* ``chain``: ``repro`` of a new 20-stage chain of trivial stages (no ``dvc.lock``
  yet), ``dvcexp repro`` (``-j 1``: the in-process serial engine) vs ``dvc repro``;
  target ≤ 0.35× DVC. The first pair's ``dvc.lock`` files are compared;
* ``parallel``: 8 independent stages that each sleep 1 s, ``dvcexp repro -j 2``
  (Snakemake) vs ``dvc repro`` (serial); target ≤ 0.55× DVC (the limit is 0.5×);
* ``noop``: ``repro`` of an up-to-date 50-stage chain, repeated on the same
  copy; target ≤ 0.3× DVC. Also checks with ``-X importtime`` that ours
  imports neither snakemake nor hydra;
* ``runner``: (not a comparison) what one job costs under the Snakemake engine
  (a ``run:`` rule in its thread pool): the slope between 4- and 24-stage runs,
  minus the stage command's own time (the same command through DVC's shell);
  target ≤ 60 ms. Also the in-process cost of one job of the serial engine
  (``stage_runner.main`` called in a loop in one process) minus the command's time.

Fresh-project measures copy a template before every run (untimed) and delete
DVC's site cache; every measure alternates ours and DVC after one untimed
warm-up each. The table is printed; ``--write`` replaces (or appends) the
"## repro" section of ``bench/RESULTS.md``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import minirepo as m
import yaml

HERE = Path(__file__).resolve().parent
PY = sys.executable
#: measure → target ratio ours/DVC (wall time, medians)
TARGETS = {"chain": 0.35, "parallel": 0.55, "noop": 0.3}
RUNNER_TARGET_MS = 60.0


def _lock_stages(repo: Path) -> int:
    text = (repo / "dvc.lock").read_text() if (repo / "dvc.lock").exists() else ""
    return sum(1 for line in text.splitlines() if line.startswith("  ") and line[2] != " ")


def fresh_pair(name: str, template: Path, ours_cmd: list[str], runs: int,
               target: float, env: dict[str, str] | None = None) -> m.Result:
    """Alternate ``ours_cmd`` and ``dvc repro`` on fresh copies of ``template``."""
    work = {"ours": m.BASE / "work-ours", "dvc": m.BASE / "work-dvc"}
    result = m.Result(name, {"ours": " ".join(["dvcexp", *ours_cmd[1:]]), "dvc": "dvc repro"},
                      target)
    m.alternate(
        result, runs,
        {"ours": lambda: m.timed(ours_cmd, work["ours"], env=env),
         "dvc": lambda: m.timed([m.DVC, "repro"], work["dvc"])},
        before={tool: (lambda d=d: m.fresh_copy(template, d)) for tool, d in work.items()},
    )
    texts = {tool: (d / "dvc.lock").read_text() for tool, d in work.items()}
    same = "yes" if texts["ours"] == texts["dvc"] else "NO"
    if same == "NO":
        entries = {tool: yaml.safe_load(text)["stages"] for tool, text in texts.items()}
        if entries["ours"] == entries["dvc"]:
            order = ", ".join(entries["ours"])
            same = f"no, same entries in another order (ours: {order})"
    result.notes.append(f"stages in dvc.lock: ours {_lock_stages(work['ours'])}, "
                        f"DVC {_lock_stages(work['dvc'])}; last dvc.lock byte-equal: {same}")
    return result


def measure_chain(runs: int) -> m.Result:
    """(a) 20 trivial stages in a chain, run from scratch."""
    template = m.write_project(m.BASE / "tpl-chain20", "chain", 20)
    return fresh_pair("repro, 20-stage chain", template, [m.DVCEXP, "repro"], runs,
                      TARGETS["chain"])


def measure_parallel(runs: int) -> m.Result:
    """(b) 8 independent ``sleep 1`` stages: ours with 2 job slots, DVC serial."""
    template = m.write_project(m.BASE / "tpl-par8", "independent", 8, sleep=1.0)
    return fresh_pair("repro, 8 × sleep 1", template, [m.DVCEXP, "repro", "-j", "2"], runs,
                      TARGETS["parallel"])


def imported(cmd: list[str], cwd: Path, names: tuple[str, ...]) -> list[str]:
    """Top-level packages among ``names`` that ``python -X importtime`` shows imported."""
    proc = subprocess.run([PY, "-X", "importtime", *cmd], cwd=cwd, env=m.ENV,
                          capture_output=True, text=True)
    found = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip().split(".")[0]
            if module in names:
                found.add(module)
    return sorted(found)


def measure_noop(runs: int) -> m.Result:
    """(c) ``repro`` with nothing to do on an up-to-date 50-stage chain."""
    template = m.write_project(m.BASE / "tpl-chain50", "chain", 50, up_to_date=True)
    work = {tool: m.fresh_copy(template, m.BASE / f"work-{tool}") for tool in ("ours", "dvc")}
    result = m.Result("no-op repro, 50 stages", {"ours": "dvcexp repro", "dvc": "dvc repro"},
                      TARGETS["noop"])
    m.alternate(result, runs, {
        "ours": lambda: m.timed([m.DVCEXP, "repro"], work["ours"]),
        "dvc": lambda: m.timed([m.DVC, "repro"], work["dvc"]),
    })
    says = {t: "up to date" if "up to date" in s[-1].out else repr(s[-1].out[-80:])
            for t, s in result.samples.items()}
    heavy = imported(["-m", "dvcexp_plugin", "repro"], work["ours"], ("snakemake", "hydra"))
    result.notes.append(f"ours: {says['ours']}; DVC: {says['dvc']}; ours imports "
                        f"snakemake/hydra: {', '.join(heavy) or 'neither'} (-X importtime)")
    return result


SPEC_PY = '''\
import json, os, sys
from dvcexp_plugin.commands.loading import load_repo_pipeline
from dvcexp_plugin.pipeline.spec import stage_to_spec
from dvcexp_translators.snakemake import rule_names
repo, pipeline = load_repo_pipeline()
stage = pipeline.stages[0]
rule = rule_names([stage])[stage.addressing]
run_dir = os.path.join(repo.tmp_dir, "bench-run")
os.makedirs(run_dir, exist_ok=True)
spec = {"root": repo.root, "run_dir": run_dir, "forced": [stage.addressing], "env": {},
        "rules": {rule: {"stage": stage_to_spec(stage), "upstream": [], "before": [],
                         "previous": [], "dependents": []}}}
path = os.path.join(run_dir, "spec.json")
with open(path, "w") as fobj:
    json.dump(spec, fobj)
print(json.dumps({"spec": path, "rule": rule, "cmd": stage.cmd}))
'''

#: in one process: N × (cmd through DVC's shell, stage_runner.main) alternating, times in s
IN_PROCESS_PY = '''\
import json, os, subprocess, sys, time
from dvcexp_plugin.stage_runner import main, shell_argv
spec, rule, cmd, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
times = {"main": [], "cmd": []}
for i in range(n + 1):
    start = time.perf_counter()
    subprocess.run(shell_argv(cmd), check=True)
    cmd_time = time.perf_counter() - start
    start = time.perf_counter()
    assert main([spec, rule]) == 0
    if i:
        times["main"].append(time.perf_counter() - start)
        times["cmd"].append(cmd_time)
print(json.dumps(times), file=sys.stderr)
'''


def measure_runner(runs: int) -> list[tuple[str, list[float], str]]:
    """(d) per-job overhead under Snakemake, and one in-process serial job (ms).

    Snakemake's cost per job is the slope between two runs of ``repro -j 1``
    through the Snakemake engine (``DVCEXP_ENGINE=snakemake``) on fresh projects
    of 4 and 24 independent trivial stages: (T24 − T4) / 20, which cancels
    start-up, planning and the engine's import. Minus the stage command's own
    time (the same command through DVC's shell), that is what a job adds.
    """
    from dvcexp_plugin.stage_runner import shell_argv

    template = m.write_project(m.BASE / "tpl-one", "independent", 1, up_to_date=True)
    repo = m.fresh_copy(template, m.BASE / "work-one")
    info = json.loads(m.sh([PY, "-c", SPEC_PY], repo).stdout)
    n = max(runs * 3, 15)
    command = []
    for i in range(n + 1):  # first one untimed
        cmd = m.timed(shell_argv(info["cmd"]) or ["/bin/sh", "-c", info["cmd"]], repo)
        if i:
            command.append(cmd)
    small, big = 4, 24
    templates = {k: m.write_project(m.BASE / f"tpl-ind{k}", "independent", k) for k in (small, big)}
    env = {**m.ENV, "DVCEXP_ENGINE": "snakemake"}
    walls: dict[int, list[float]] = {small: [], big: []}
    cpus: dict[int, list[float]] = {small: [], big: []}
    for i in range(runs + 1):  # alternating, first pair untimed
        for k in (small, big):
            work = m.fresh_copy(templates[k], m.BASE / "work-ours")
            sample = m.timed([PY, "-m", "dvcexp_plugin", "repro", "-j", "1"], work, env=env)
            assert _lock_stages(work) == k, f"{k}-stage repro left {_lock_stages(work)} entries"
            if i:
                walls[k].append(sample.wall)
                cpus[k].append(sample.cpu)
    proc = subprocess.run([PY, "-c", IN_PROCESS_PY, info["spec"], info["rule"], info["cmd"],
                           str(n)], cwd=repo, env=m.ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=True)
    inproc = json.loads(proc.stderr.strip().splitlines()[-1])
    ms = 1000.0
    cmd_wall = statistics.median(c.wall for c in command)
    cmd_cpu = statistics.median(c.cpu for c in command)
    per_job = [(b - a) / (big - small) for a, b in zip(walls[small], walls[big], strict=True)]
    per_job_cpu = [(b - a) / (big - small) for a, b in zip(cpus[small], cpus[big], strict=True)]
    return [
        ("stage command alone (`" + info["cmd"] + "` via $SHELL), wall",
         [c.wall * ms for c in command], ""),
        (f"Snakemake engine, one job, wall ((T{big} − T{small}) / {big - small}, "
         f"`DVCEXP_ENGINE=snakemake dvcexp repro -j 1`)", [t * ms for t in per_job], ""),
        ("overhead per Snakemake job, wall (job − command median)",
         [(t - cmd_wall) * ms for t in per_job], f"≤ {RUNNER_TARGET_MS:.0f} ms"),
        ("overhead per Snakemake job, CPU (job − command median)",
         [(t - cmd_cpu) * ms for t in per_job_cpu], "none"),
        ("serial engine, in process, per job (main() − command)",
         [(a - b) * ms for a, b in zip(inproc["main"], inproc["cmd"], strict=True)], "none"),
    ]


def runner_table(rows: list[tuple[str, list[float], str]]) -> str:
    """Markdown table of the per-job rows (milliseconds)."""
    lines = ["| per-job measure | median (min–max) ms | target | met |", "|---|---|---|---|"]
    for label, values, target in rows:
        med = statistics.median(values)
        met = "—"
        if target.startswith("≤"):
            met = "yes" if med <= RUNNER_TARGET_MS else "**no**"
        lines.append(f"| {label} | {med:.1f} ({min(values):.1f}–{max(values):.1f}) | "
                     f"{target or '—'} | {met} |")
    return "\n".join(lines)


def section(results: list[m.Result], runner_rows: list, runs: int, started: str) -> str:
    """The "repro" section of bench/RESULTS.md."""
    parts = [
        "## repro\n",
        f"Date: {started}\n",
        f"- Machine: {m.machine()}",
        f"- Load averages (1, 5, 15 min) at the end: {m.loadavg()}\n",
        "Method: `bench/bench_repro.py`, fresh small projects from `bench/minirepo.py` "
        "(git repository, `dvc init`'s `.dvc/`, params.yaml, dvc.yaml, `src/stage.py`; "
        f"stage commands `python3 src/stage.py …`). {runs} timed runs per tool after one "
        "untimed warm-up each, alternating ours/DVC; wall time of the whole command. "
        "Fresh-project measures copy a template (`cp -a`) before every run and delete "
        "DVC's site cache (`DVC_SITE_CACHE_DIR`); the no-op measure repeats on one "
        "up-to-date copy per tool. Ratio = our median / DVC's median. CPU = user + sys "
        "of the process and its children (less sensitive to other load). Load = 1-min "
        "load average before → after the measure. " + m.PYCACHE_NOTE + "\n",
    ]
    if results:
        parts += [m.table(results), ""]
        parts += [f"- **{r.name}**: {'; '.join(r.notes)}" for r in results]
        parts.append("")
    if runner_rows:
        parts += [runner_table(runner_rows), ""]
    parts += ["Re-run:\n", "```bash",
              "/work/venv/bin/python bench/bench_repro.py --runs 5 --write   # ~3 min",
              "rm -rf /tmp/dvcexp-bench-small", "```\n"]
    return "\n".join(parts)


def main() -> None:
    """Run the chosen measures, print the tables, optionally write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="chain,parallel,noop,runner")
    parser.add_argument("--write", action="store_true",
                        help="write the 'repro' section of bench/RESULTS.md")
    args = parser.parse_args()
    chosen = args.only.split(",")
    started = m.now()
    measures = {"chain": measure_chain, "parallel": measure_parallel, "noop": measure_noop}
    results = []
    for name, func in measures.items():
        if name in chosen:
            t0 = time.perf_counter()
            results.append(func(args.runs))
            print(f"{name}: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    rows = measure_runner(args.runs) if "runner" in chosen else []
    text = section(results, rows, args.runs, started)
    print(text)
    if args.write:
        m.write_section(HERE / "RESULTS.md", "repro", text)


if __name__ == "__main__":
    main()
