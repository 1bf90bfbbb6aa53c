"""Benchmark ``dvcexp exp run`` / ``exp show`` against DVC 3.x on small generated projects.

Usage::

    python bench/bench_exp.py [--runs 5] [--only run,fanout,noop,show,show-cold] [--write]

Measures (projects from :mod:`minirepo`, under ``/tmp/dvcexp-bench-small``):

* ``run``: ``exp run -S train.lr=0.2`` on an up-to-date 1-stage project (the
  stage re-runs, one experiment is committed); fresh copy before every run;
  target ≤ 0.6× DVC;
* ``fanout``: ``exp run -S scale=2`` on an up-to-date 50-stage ``foreach``
  project (every stage re-runs): ``dvcexp exp run -j 2`` vs ``dvc exp run``
  (serial); fresh copy before every run; target ≤ 0.15× DVC;
* ``noop``: ``exp run`` with nothing changed on the 1-stage project, repeated
  on one copy per tool (the experiment refs it creates are deleted after each
  run); target ≤ 0.3× DVC;
* ``show``: ``exp show --json`` with 1,000 experiments on one baseline, repeated
  on one copy per tool (DVC keeps a cache of finished experiments in
  ``.dvc/tmp/exps/cache``; both tools warm); target ≤ 0.1× DVC. The two JSON
  documents are compared. ``show-cold`` (not in the default set): the same with
  ``.dvc/tmp`` deleted before every run.

The 1,000 experiments are made with one ``git fast-import`` stream: each is a
one-commit child of the baseline on ``refs/exps/<b[:2]>/<b[2:]>/exp-NNNN``
with its own ``params.yaml`` (``train.lr``), ``metrics.json`` and a matching
``dvc.lock``, one second apart. The table is printed; ``--write`` replaces (or
appends) the "## exp" section of ``bench/RESULTS.md``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import minirepo as m
import yaml

HERE = Path(__file__).resolve().parent
TARGETS = {"run": 0.6, "fanout": 0.15, "noop": 0.3, "show": 0.1, "show-cold": 0.1}
LABELS = {"run": "exp run, 1 stage", "fanout": "exp run, 50-stage foreach",
          "noop": "no-op exp run, 1 stage", "show": "exp show --json, 1,000 exps (warm)",
          "show-cold": "exp show --json, 1,000 exps (cold)"}
N_EXPS = 1000


def single_template() -> Path:
    """The up-to-date 1-stage project (made once per script run)."""
    path = m.BASE / "tpl-single"
    if not (path / "dvc.lock").exists():
        m.write_project(path, "single", 1, up_to_date=True)
    return path


def fresh_runs(name: str, template: Path, args: list[str], ours_extra: list[str],
               runs: int) -> m.Result:
    """Alternate ``dvcexp exp run ARGS`` and ``dvc exp run ARGS`` on fresh copies."""
    work = {"ours": m.BASE / "work-ours", "dvc": m.BASE / "work-dvc"}
    ours = [m.DVCEXP, "exp", "run", *ours_extra, *args]
    result = m.Result(LABELS[name], {"ours": " ".join(["dvcexp", *ours[1:]]),
                             "dvc": " ".join(["dvc", "exp", "run", *args])}, TARGETS[name])
    m.alternate(
        result, runs,
        {"ours": lambda: m.timed(ours, work["ours"]),
         "dvc": lambda: m.timed([m.DVC, "exp", "run", *args], work["dvc"])},
        before={tool: (lambda d=d: m.fresh_copy(template, d)) for tool, d in work.items()},
    )
    refs = {t: len(exp_refs(d)) for t, d in work.items()}
    ran = {t: s[-1].out.count("Running stage") for t, s in result.samples.items()}
    result.notes.append(f"stages run: ours {ran['ours']}, DVC {ran['dvc']}; "
                        f"experiments made: ours {refs['ours']}, DVC {refs['dvc']}")
    return result


def exp_refs(repo: Path) -> list[str]:
    """Experiment refs (``refs/exps/exec/*`` bookkeeping excluded)."""
    out = m.sh(["git", "for-each-ref", "--format=%(refname)", "refs/exps"], repo).stdout
    return [r for r in out.split() if not r.startswith("refs/exps/exec/")]


def measure_run(runs: int) -> m.Result:
    """(e) one experiment of a 1-stage project."""
    return fresh_runs("run", single_template(), ["-S", "train.lr=0.2"], [], runs)


def measure_fanout(runs: int) -> m.Result:
    """(f) 50 foreach stages, ours with 2 job slots."""
    template = m.BASE / "tpl-foreach50"
    if not (template / "dvc.lock").exists():
        m.write_project(template, "foreach", 50, up_to_date=True)
    return fresh_runs("fanout", template, ["-S", "scale=2"], ["-j", "2"], runs)


def measure_noop(runs: int) -> m.Result:
    """(g) ``exp run`` with nothing to do, repeated on one copy per tool."""
    work = {t: m.fresh_copy(single_template(), m.BASE / f"work-{t}") for t in ("ours", "dvc")}

    def forget(repo: Path) -> None:
        lines = "".join(f"delete {ref}\n" for ref in exp_refs(repo))
        subprocess.run(["git", "update-ref", "--stdin"], cwd=repo, input=lines, text=True,
                         check=True)

    result = m.Result(LABELS["noop"], {"ours": "dvcexp exp run", "dvc": "dvc exp run"},
                      TARGETS["noop"])
    m.alternate(result, runs,
                {"ours": lambda: m.timed([m.DVCEXP, "exp", "run"], work["ours"]),
                 "dvc": lambda: m.timed([m.DVC, "exp", "run"], work["dvc"])},
                before={t: (lambda d=d: forget(d)) for t, d in work.items()})
    skipped = {t: "skipped" if "didn't change" in s[-1].out else "RAN"
               for t, s in result.samples.items()}
    result.notes.append(f"stage: ours {skipped['ours']}, DVC {skipped['dvc']}; "
                        "each run commits one experiment (deleted before the next run)")
    return result


def make_experiments(repo: Path, count: int) -> None:
    """Add ``count`` one-commit experiments on HEAD with ``git fast-import``."""
    base = m.sh(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    when = int(m.sh(["git", "log", "-1", "--format=%ct"], repo).stdout)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    chunks: list[bytes] = []

    def blob(path: str, text: str) -> None:
        data = text.encode()
        chunks.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))

    for i in range(count):
        lr = round(0.001 * (i + 1), 3)
        params["train"]["lr"] = lr
        metrics = json.dumps({"acc": round(i / count, 4), "loss": round(1 - i / count, 4)})
        entry = lock["stages"]["train"]
        entry["params"]["params.yaml"]["train.lr"] = lr
        for out in entry["outs"]:
            if out["path"] == "metrics.json":
                out["md5"] = hashlib.md5(metrics.encode()).hexdigest()
                out["size"] = len(metrics)
        message = f"dvc: commit experiment {hashlib.sha256(str(i).encode()).hexdigest()}"
        stamp = f"bench <bench@example.invalid> {when + 1 + i} +0000"
        chunks.append(
            f"commit refs/exps/{base[:2]}/{base[2:]}/exp-{i:04d}\n"
            f"author {stamp}\ncommitter {stamp}\ndata {len(message)}\n{message}\n"
            f"from {base}\n".encode())
        blob("params.yaml", yaml.safe_dump(params, sort_keys=False))
        blob("metrics.json", metrics)
        blob("dvc.lock", yaml.safe_dump(lock, sort_keys=False))
        chunks.append(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(chunks),
                     check=True, env=m.ENV)


def show_template() -> Path:
    """The 1-stage project with :data:`N_EXPS` experiments on its baseline."""
    path = m.BASE / "tpl-show"
    if not (path / ".git" / "bench-done").exists():
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(single_template(), path, symlinks=True)
        make_experiments(path, N_EXPS)
        (path / ".git" / "bench-done").write_text("")
    return path


def measure_show(runs: int, cold: bool = False) -> m.Result:
    """(h) ``exp show --json`` with 1,000 experiments; warm, or ``.dvc/tmp`` removed (cold)."""
    template = show_template()
    work = {t: m.fresh_copy(template, m.BASE / f"work-{t}") for t in ("ours", "dvc")}
    name = "show-cold" if cold else "show"
    result = m.Result(LABELS[name], {"ours": "dvcexp exp show --json",
                                     "dvc": "dvc exp show --json"}, TARGETS[name])
    before = None
    if cold:
        before = {t: (lambda d=d: shutil.rmtree(d / ".dvc" / "tmp", ignore_errors=True))
                  for t, d in work.items()}
    m.alternate(result, runs,
                {"ours": lambda: m.timed([m.DVCEXP, "exp", "show", "--json"], work["ours"]),
                 "dvc": lambda: m.timed([m.DVC, "exp", "show", "--json"], work["dvc"])},
                before=before)
    docs = {t: json.loads(s[-1].out) for t, s in result.samples.items()}
    exps = {t: sum(len(b.get("experiments") or []) for b in d) for t, d in docs.items()}
    equal = docs["ours"] == docs["dvc"]
    result.notes.append(f"experiments listed: ours {exps['ours']}, DVC {exps['dvc']}; "
                        f"JSON equal: {'yes' if equal else 'NO'}")
    if not equal:
        for t, d in docs.items():
            (m.BASE / f"show-{t}.json").write_text(json.dumps(d, indent=1, sort_keys=True))
        result.notes.append(f"documents saved as {m.BASE}/show-{{ours,dvc}}.json")
    return result


def section(results: list[m.Result], runs: int, started: str) -> str:
    """The "exp" section of bench/RESULTS.md."""
    parts = [
        "## exp\n",
        f"Date: {started}\n",
        f"- Machine: {m.machine()}",
        f"- Load averages (1, 5, 15 min) at the end: {m.loadavg()}\n",
        "Method: `bench/bench_exp.py`, small projects from `bench/minirepo.py` "
        f"(up to date: `dvc repro` + commit). {runs} timed runs per tool after one "
        "untimed warm-up each, alternating ours/DVC; wall time of the whole command. "
        "`run` and `fanout` copy the template before every run and delete DVC's site "
        "cache; `noop` and `show` repeat on one copy per tool. 1,000 experiments: one "
        "`git fast-import` stream of one-commit experiments (own params.yaml, "
        "metrics.json, dvc.lock). Ratio = our median / DVC's median; CPU = user + sys "
        "of the process tree; load = 1-min load average before → after. `show` (warm): DVC's "
        "`.dvc/tmp/exps/cache` filled by the warm-up; `show-cold`: `.dvc/tmp` deleted before "
        "every run (DVC's first `exp show` after the experiments were made). "
        + m.PYCACHE_NOTE + "\n",
        m.table(results), "",
        *[f"- **{r.name}**: {'; '.join(r.notes)}" for r in results], "",
        "Re-run:\n", "```bash",
        "/work/venv/bin/python bench/bench_exp.py --runs 5 --write   # ~12 min",
        "rm -rf /tmp/dvcexp-bench-small", "```\n",
    ]
    return "\n".join(parts)


def main() -> None:
    """Run the chosen measures, print the table, optionally write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="run,noop,fanout,show,show-cold")
    parser.add_argument("--write", action="store_true",
                        help="write the 'exp' section of bench/RESULTS.md")
    args = parser.parse_args()
    started = m.now()
    measures = {"run": measure_run, "fanout": measure_fanout, "noop": measure_noop,
                "show": measure_show, "show-cold": lambda r: measure_show(r, cold=True)}
    results = []
    for name in args.only.split(","):
        t0 = time.perf_counter()
        results.append(measures[name](args.runs))
        print(f"{name}: done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    text = section(results, args.runs, started)
    print(text)
    if args.write:
        m.write_section(HERE / "RESULTS.md", "exp", text)


if __name__ == "__main__":
    main()
