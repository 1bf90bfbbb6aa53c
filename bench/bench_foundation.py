"""Benchmark dvcexp against DVC 3.x on the foundation issue's three measures.

Usage::

    python bench/gen_repo.py                   # once: the 200-stage, 1 GB project
    python bench/bench_foundation.py [--runs 5] [--only corpus,cold,warm,hash]

1. *resolve*: ``dvcexp stage list --all --json`` vs ``dvc stage list --all`` on
   the largest corpus pipeline (pwr-ai__JuDDGES, 195 stages), copied to /tmp
   with ``git init`` and an empty ``.dvc/``;
2. *status cold / warm* on the generated project. Cold: before every run our
   stat cache (``.dvc/tmp/dvcexp-state.db``) and DVC's state are deleted and the
   kernel page cache is dropped (when permitted). DVC 3.67.1 keeps its hash
   state (``hashes/local/cache.db``), ``links`` and data index in its *site
   cache dir*, not in ``.dvc/tmp``; we point it at a private directory with
   ``DVC_SITE_CACHE_DIR`` and delete that. Warm: the same command repeated;
3. *hashing*: ``dvcexp_plugin.hashing.file_md5`` (in process) vs ``md5sum`` on
   a 1 GiB file, page cache warm (a CPU measure; the file is deleted after).

Every measure alternates the tools (ours, DVC, ours, DVC...) after one untimed
warm-up each, and reports the median, min and max wall time. Results are printed
and written to ``bench/RESULTS.md``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from dvcexp_plugin.hashing import file_md5

HERE = Path(__file__).resolve().parent
DVCEXP = os.environ.get("DVCEXP", "/work/venv/bin/dvcexp")
DVC = os.environ.get("DVC", "/work/dvcvenv/bin/dvc")
CORPUS = Path("/work/shared/corpus/pwr-ai__JuDDGES")
CORPUS_COPY = Path("/tmp/dvcexp-bench-corpus")
REPO = Path("/tmp/dvcexp-bench-repo")
#: the same project generated with --no-params (optional: measured when present)
REPO_NO_PARAMS = Path("/tmp/dvcexp-bench-repo-noparams")
SITE_CACHE = Path("/tmp/dvcexp-bench-dvc-site-cache")
BIG_FILE = Path("/tmp/dvcexp-bench-1g.bin")
UP_TO_DATE = "Data and pipelines are up to date."
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": str(SITE_CACHE)}
#: measure name -> (target ratio ours/DVC in wall time, or None)
TARGETS = {"resolve": None, "status cold": 0.5, "status warm": 0.3}
#: our hashing throughput must be at least this share of md5sum's
HASH_TARGET = 0.8


class Sample(NamedTuple):
    """One timed call: wall seconds, CPU seconds (user + sys) and its stdout."""

    wall: float
    cpu: float
    out: str


class Timings(NamedTuple):
    """Per tool (ours first, then the reference): wall and CPU times of the timed runs."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path) -> Sample:
    """Run ``cmd`` in ``cwd`` and time it. Fails on exit != 0.

    CPU time is less sensitive to other load on the machine than wall time.
    """
    cpu, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return Sample(wall, cpu, proc.stdout)


def drop_page_cache() -> bool:
    """Flush dirty pages and drop the page cache; False when not permitted."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def alternate(
    runs: int, tools: dict[str, Callable[[], Sample]],
    before: dict[str, Callable[[], object]] | None = None,
) -> tuple[Timings, dict[str, str]]:
    """One untimed warm-up per tool, then ``runs`` timed rounds in turn.

    :param before: per tool, untimed preparation run before each call
    :returns: the timings and, per tool, the last stdout
    """
    times = Timings({name: [] for name in tools}, {name: [] for name in tools})
    outputs: dict[str, str] = {}
    for round_no in range(runs + 1):
        for name, call in tools.items():
            if before and name in before:
                before[name]()
            sample = call()
            outputs[name] = sample.out
            if round_no:
                times.wall[name].append(sample.wall)
                times.cpu[name].append(sample.cpu)
            label = round_no or "warm-up"
            print(f"  {name:6s} {label:>7}: {sample.wall:7.3f}s wall {sample.cpu:7.3f}s CPU",
                  flush=True)
    return times, outputs


def bench_resolve(runs: int) -> tuple[Timings, str]:
    """Measure 1: resolve the 195-stage corpus pipeline."""
    shutil.rmtree(CORPUS_COPY, ignore_errors=True)
    shutil.copytree(CORPUS, CORPUS_COPY)
    for path in [CORPUS_COPY, *CORPUS_COPY.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)  # the corpus is read-only
    subprocess.run(["git", "init", "-q"], cwd=CORPUS_COPY, check=True)
    (CORPUS_COPY / ".dvc").mkdir()
    (CORPUS_COPY / ".dvc" / "config").write_text("")
    times, out = alternate(runs, {
        "ours": lambda: run([DVCEXP, "stage", "list", "--all", "--json"], CORPUS_COPY),
        "dvc": lambda: run([DVC, "stage", "list", "--all"], CORPUS_COPY),
    })
    ours_n, dvc_n = len(json.loads(out["ours"])), len(out["dvc"].splitlines())
    check = f"stages: ours {ours_n}, DVC {dvc_n}" + ("" if ours_n == dvc_n else " (MISMATCH)")
    return times, check


def forget_ours(repo: Path) -> None:
    """Delete our stat cache (and its journal) from a generated repo."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{repo}/.dvc/tmp/dvcexp-state.db{suffix}").unlink(missing_ok=True)


def forget_dvc(repo: Path) -> None:
    """Delete DVC's state, links and index: its private site cache dir, which holds
    those of every repo it has seen (``repo`` is not needed to find it)."""
    shutil.rmtree(SITE_CACHE, ignore_errors=True)


def bench_status(runs: int, cold: bool, repo: Path = REPO) -> tuple[Timings, str]:
    """Measure 2: ``status`` on a generated repo, cold or warm."""
    if not (repo / "dvc.lock").exists():
        raise SystemExit(f"{repo} not found: run `python bench/gen_repo.py {repo}` first")
    before = None
    if cold:
        dropped = True

        def prepare(forget: Callable[[Path], None]) -> Callable[[], None]:
            def prep() -> None:
                nonlocal dropped
                forget(repo)
                dropped = drop_page_cache() and dropped
            return prep

        before = {"ours": prepare(forget_ours), "dvc": prepare(forget_dvc)}
    times, out = alternate(runs, {
        "ours": lambda: run([DVCEXP, "status"], repo),
        "dvc": lambda: run([DVC, "status"], repo),
    }, before)
    notes = []
    for name, text in out.items():
        ok = text.strip() == UP_TO_DATE
        notes.append(f"{name}: {'up to date' if ok else 'NOT up to date: ' + text[:200]!r}")
    if cold:
        notes.append("page cache dropped" if dropped else "page cache NOT dropped (warm)")
    return times, "; ".join(notes)


def bench_hash(runs: int) -> tuple[Timings, str]:
    """Measure 3: md5 of a 1 GiB file, ours in process vs md5sum."""
    if not BIG_FILE.exists() or BIG_FILE.stat().st_size != 2**30:
        rng = random.Random(0)
        with open(BIG_FILE, "wb") as fobj:
            for _ in range(256):
                fobj.write(rng.randbytes(2**22))
    digests: dict[str, str] = {}

    def ours() -> Sample:
        cpu, start = time.process_time(), time.perf_counter()
        digests["ours"] = file_md5(str(BIG_FILE))
        return Sample(time.perf_counter() - start, time.process_time() - cpu, digests["ours"])

    def md5sum() -> Sample:
        sample = run(["md5sum", str(BIG_FILE)], Path("/tmp"))
        digests["md5sum"] = sample.out.split()[0]
        return sample

    try:
        times, _ = alternate(runs, {"ours": ours, "md5sum": md5sum})
    finally:
        BIG_FILE.unlink(missing_ok=True)
    same = digests["ours"] == digests["md5sum"]
    speed = {name: 1024 / statistics.median(t) for name, t in times.wall.items()}
    return times, (("digests equal" if same else f"DIGESTS DIFFER: {digests}")
                   + f"; ours {speed['ours']:.0f} MiB/s, md5sum {speed['md5sum']:.0f} MiB/s")


@dataclass
class Row:
    """One measure's result: times of ours and of the reference tool."""

    measure: str
    times: Timings
    note: str

    @property
    def ref_name(self) -> str:
        """The reference tool (``dvc`` or ``md5sum``)."""
        return list(self.times.wall)[1]

    def _ratio(self, values: dict[str, list[float]]) -> float:
        ours, ref = (statistics.median(v) for v in values.values())
        return ref / ours if self.measure == "hashing" else ours / ref

    @property
    def ratio(self) -> float:
        """Our median wall / the reference's; for hashing, our share of md5sum's speed."""
        return self._ratio(self.times.wall)

    @property
    def cpu_ratio(self) -> float:
        """As :attr:`ratio`, on CPU time (less sensitive to other load)."""
        return self._ratio(self.times.cpu)

    @property
    def target(self) -> str:
        """The issue's target, as text."""
        if self.measure == "hashing":
            return f"≥ {HASH_TARGET:.2f} of md5sum"
        target = TARGETS.get(self.measure.split(",")[0])
        return "none" if target is None else f"≤ {target:.2f}× DVC"

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None when there is none)."""
        if self.measure == "hashing":
            return self.ratio >= HASH_TARGET
        target = TARGETS.get(self.measure.split(",")[0])
        return None if target is None else self.ratio <= target


def fmt(values: list[float]) -> str:
    """``median (min–max)`` in seconds."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| measure | ours: wall median (min–max) s | reference | ref: wall median (min–max) s "
        "| ratio (wall) | target | met | CPU s ours / ref | ratio (CPU) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        unit = " of md5sum" if r.measure == "hashing" else "×"
        ours, ref = (statistics.median(v) for v in r.times.cpu.values())
        lines.append(
            f"| {r.measure} | {fmt(r.times.wall['ours'])} | {r.ref_name} "
            f"| {fmt(r.times.wall[r.ref_name])} | {r.ratio:.2f}{unit} | {r.target} | {met} "
            f"| {ours:.2f} / {ref:.2f} | {r.cpu_ratio:.2f}{unit} |"
        )
    return "\n".join(lines)


def versions() -> dict[str, str]:
    """Machine and tool versions for the report."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    mem = next(ln.split()[1] for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))
    fs = subprocess.run(["df", "-T", "/tmp"], capture_output=True, text=True).stdout
    return {
        "machine": f"{cpu}, {os.cpu_count()} cores, {int(mem) // 2**20} GiB RAM, "
                   f"Linux {platform.release()}, /tmp on {fs.splitlines()[-1].split()[1]}",
        "python": sys.version.split()[0],
        "dvcexp": run([DVCEXP, "--version"], HERE).out.strip(),
        "dvc": run([DVC, "--version"], HERE).out.strip(),
        "md5sum": run(["md5sum", "--version"], HERE).out.splitlines()[0],
    }


def repo_summary(repo: Path) -> str:
    """Stages, files and bytes of a generated project (outputs under ``data/``)."""
    stages = sum(1 for ln in (repo / "dvc.yaml").read_text().splitlines()
                 if ln.startswith("  ") and not ln.startswith("   "))
    nfiles = nbytes = 0
    for dirpath, _, files in os.walk(repo / "data"):
        nfiles += len(files)
        nbytes += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    return f"{stages} stages, {nfiles} output files, {nbytes / 2**30:.2f} GiB"


def write_results(rows: list[Row], runs: int, info: dict[str, str]) -> None:
    """Write the "foundation" section of ``bench/RESULTS.md``.

    Other sections (other benchmarks append theirs) are kept; an earlier
    "foundation" section is replaced in place.
    """
    notes = "\n".join(f"- **{r.measure}**: {r.note}" for r in rows)
    section = f"""## foundation

Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}

- Machine: {info['machine']}
- Python {info['python']}; dvcexp {info['dvcexp']}; DVC {info['dvc']}; {info['md5sum']}

### Method

`bench/bench_foundation.py`, {runs} timed runs per tool after one untimed
warm-up, alternating ours/reference; wall time of the whole process (hashing:
our `file_md5` call in process vs the `md5sum` process). Ratio = our median /
reference median (hashing: md5sum median / our median, i.e. our share of
md5sum's speed). Targets are judged on wall time. CPU time (user + sys of the
process; in process for our hashing) is shown too because other jobs shared
the 2 cores during runs (see the load averages below) and CPU time is much
less sensitive to that than wall time.

- **resolve**: `dvcexp stage list --all --json` vs `dvc stage list --all` on a
  copy of `/work/shared/corpus/pwr-ai__JuDDGES` (195 stages) with `git init`
  and an empty `.dvc/config`.
- **status cold / warm**: `status` on the project from `bench/gen_repo.py`
  ({info['repo']}: 10 × ~50 MiB files, 10 directories
  of 1000 small files, 180 ~1 MiB files). Cold: before each run, our
  `.dvc/tmp/dvcexp-state.db` or DVC's site cache dir (`DVC_SITE_CACHE_DIR`;
  DVC 3.67.1 keeps its hash state `hashes/local/cache.db` there, not in
  `.dvc/tmp`) is deleted and `echo 3 > /proc/sys/vm/drop_caches` is run.
  Warm: repeated runs with both caches filled. Every stage declares two keys
  of its own section of a 200-section `params.yaml`; DVC re-reads that file
  for every stage, which dominates its time. The *no params* rows (present
  when `gen_repo.py /tmp/dvcexp-bench-repo-noparams --no-params` was run)
  measure the same data without params, i.e. data checks alone.
- **hashing**: a 1 GiB seeded-random file, page cache warm.

### Results

{table(rows)}

{notes}

### Re-run

```bash
/work/venv/bin/python bench/gen_repo.py            # ~1 GiB under /tmp/dvcexp-bench-repo
/work/venv/bin/python bench/gen_repo.py /tmp/dvcexp-bench-repo-noparams --no-params  # optional
/work/venv/bin/python bench/bench_foundation.py    # rewrites this section
rm -rf /tmp/dvcexp-bench-repo* /tmp/dvcexp-bench-corpus /tmp/dvcexp-bench-dvc-site-cache
```
"""
    path = HERE / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    path.write_text(replace_section(old, "foundation", section), encoding="utf-8")


def replace_section(text: str, name: str, section: str) -> str:
    """``text`` with its ``## name`` section (up to the next ``## ``) replaced by
    ``section``, or with ``section`` inserted before the first ``## `` if absent."""
    lines = text.splitlines(keepends=True)
    heads = [i for i, ln in enumerate(lines) if ln.startswith("## ")]
    mine = next((i for i in heads if lines[i].strip() == f"## {name}"), None)
    if mine is None:
        start = end = heads[0] if heads else len(lines)
    else:
        start, end = mine, next((i for i in heads if i > mine), len(lines))
    before = "".join(lines[:start]).rstrip("\n") + "\n\n"
    after = "".join(lines[end:])
    return before + section.rstrip("\n") + "\n" + ("\n" + after if after else "")


def main() -> None:
    """Run the selected measures, print the table and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per tool (≥ 5)")
    parser.add_argument("--only", default="corpus,cold,warm,cold-np,warm-np,hash",
                        help="comma-separated subset of the default (the -np ones run "
                        f"only when {REPO_NO_PARAMS} exists)")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    info = versions()
    info["repo"] = repo_summary(REPO) if (REPO / "dvc.yaml").exists() else "not generated"
    rows: list[Row] = []
    measures = {
        "corpus": ("resolve", lambda: bench_resolve(args.runs)),
        "cold": ("status cold", lambda: bench_status(args.runs, cold=True)),
        "warm": ("status warm", lambda: bench_status(args.runs, cold=False)),
        "cold-np": ("status cold, no params",
                    lambda: bench_status(args.runs, cold=True, repo=REPO_NO_PARAMS)),
        "warm-np": ("status warm, no params",
                    lambda: bench_status(args.runs, cold=False, repo=REPO_NO_PARAMS)),
        "hash": ("hashing", lambda: bench_hash(args.runs)),
    }
    for key in args.only.split(","):
        if key.endswith("-np") and not REPO_NO_PARAMS.exists():
            print(f"skipping {key}: no {REPO_NO_PARAMS}")
            continue
        name, measure = measures[key]
        print(f"{name}:", flush=True)
        load_before = os.getloadavg()[0]
        times, note = measure()
        # other processes on the machine make the times noisy: say so
        note += f"; 1-min load average {load_before:.1f} → {os.getloadavg()[0]:.1f}"
        rows.append(Row(name, times, note))
    print()
    print(table(rows))
    for row in rows:
        print(f"{row.measure}: {row.note}")
    if not args.no_write:
        write_results(rows, args.runs, info)
        print(f"\nwritten: {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
