"""Small DVC projects for the ``repro`` / ``exp`` benchmarks, and the timing helpers they share.

Every project is a git repository laid out as ``dvc init`` leaves one
(``.dvc/config`` empty, DVC's ``.dvc/.gitignore``, a ``.dvcignore``) with a
``params.yaml``, a ``dvc.yaml`` and ``src/stage.py``, committed with a fixed
identity (``bench <bench@example.invalid>``, also set in ``.git/config`` so
``exp run`` can commit). Shapes (see :func:`write_project`):

* ``chain``: ``s00 → s01 → …``, each stage reading the previous one's output;
* ``independent``: N stages with no dependencies between them;
* ``foreach``: one ``foreach`` stage over ``params.yaml``'s ``items`` list;
* ``single``: one ``train`` stage writing ``model.txt`` and an uncached
  ``metrics.json``.

Every stage runs ``python3 src/stage.py OUT [IN ...] [--sleep S]`` (the real
interpreter is put first on ``PATH`` by :data:`ENV`, so no pyenv shim is
timed; both tools keep compiled modules in :data:`PYCACHE`). A *template* is
made once (optionally made up to date with ``dvc repro`` and committed), and
every timed run works on a fresh ``cp -a`` copy of it, so each run does the
same work.
"""
from __future__ import annotations

import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DVCEXP = os.environ.get("DVCEXP", "/work/venv/bin/dvcexp")
DVC = os.environ.get("DVC", "/work/dvcvenv/bin/dvc")
BASE = Path(os.environ.get("DVCEXP_BENCH_DIR", "/tmp/dvcexp-bench-small"))
#: DVC's state and indexes (normally /var/tmp/dvc) go here, deleted before fresh runs
SITE_CACHE = BASE / "dvc-site-cache"
_PYDIR = os.path.dirname(os.path.realpath(sys.executable))
#: byte-compiled modules are kept here: this machine sets PYTHONDONTWRITEBYTECODE=1, and
#: without .pyc files every dvcexp process recompiles its modules (~0.1 s per command)
#: while DVC's were compiled at install time; the untimed warm-up fills it for both
PYCACHE = BASE / "pycache"
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(PYCACHE),
    "PATH": _PYDIR + os.pathsep + os.environ.get("PATH", ""),
    "DVC_NO_ANALYTICS": "1",
    "DVC_SITE_CACHE_DIR": str(SITE_CACHE),
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}

STAGE_PY = '''\
"""A trivial stage: OUT gets its name, the params file's size and its inputs' sizes."""
import json
import os
import sys
import time

args = sys.argv[1:]
sleep = 0.0
if "--sleep" in args:
    i = args.index("--sleep")
    sleep = float(args[i + 1])
    del args[i:i + 2]
out, inputs = args[0], args[1:]
time.sleep(sleep)
sizes = [os.path.getsize(p) for p in ["params.yaml", *inputs]]
os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
with open(out, "w") as fobj:
    fobj.write(f"{out} {sizes}\\n")
if out == "model.txt":
    with open("metrics.json", "w") as fobj:
        json.dump({"acc": sizes[0] % 97 / 97, "loss": 1 - sizes[0] % 89 / 89}, fobj)
'''


def sh(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an untimed helper command quietly; fail loudly on error."""
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def stages_for(shape: str, n: int, sleep: float = 0.0) -> dict:
    """The ``stages:`` mapping of a project of ``shape`` with ``n`` stages."""
    extra = f" --sleep {sleep:g}" if sleep else ""
    if shape == "single":
        return {"train": {
            "cmd": "python3 src/stage.py model.txt", "deps": ["src/stage.py"],
            "params": ["train.lr", "train.epochs"], "outs": ["model.txt"],
            "metrics": [{"metrics.json": {"cache": False}}],
        }}
    if shape == "foreach":
        return {"fan": {"foreach": "${items}", "do": {
            "cmd": f"python3 src/stage.py out/${{item}}.txt{extra}",
            "deps": ["src/stage.py"], "params": ["scale"], "outs": ["out/${item}.txt"],
        }}}
    stages = {}
    for i in range(n):
        deps = ["src/stage.py"]
        cmd = f"python3 src/stage.py out/s{i:02d}.txt"
        if shape == "chain" and i:
            deps.append(f"out/s{i - 1:02d}.txt")
            cmd += f" out/s{i - 1:02d}.txt"
        elif shape != "independent" and shape != "chain":
            raise ValueError(shape)
        stages[f"s{i:02d}"] = {"cmd": cmd + extra, "deps": deps, "params": ["scale"],
                               "outs": [f"out/s{i:02d}.txt"]}
    return stages


def write_project(dest: Path, shape: str, n: int = 1, sleep: float = 0.0,
                  up_to_date: bool = False) -> Path:
    """Create (replacing) the template project ``dest`` and commit it.

    :param up_to_date: run ``dvc repro`` once and commit ``dvc.lock`` (so
        ``dvc.lock`` and ``.dvc/cache`` are DVC's own)
    """
    if dest.exists():
        shutil.rmtree(dest)
    (dest / ".dvc").mkdir(parents=True)
    sh(["git", "init", "-q", "-b", "main"], dest)
    sh(["git", "config", "user.name", "bench"], dest)
    sh(["git", "config", "user.email", "bench@example.invalid"], dest)
    (dest / ".dvc" / "config").write_text("")
    (dest / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    (dest / ".dvcignore").write_text("# Add patterns of files dvc should ignore\n")
    (dest / "src").mkdir()
    (dest / "src" / "stage.py").write_text(STAGE_PY)
    params: dict = {"scale": 1, "train": {"lr": 0.1, "epochs": 10}}
    if shape == "foreach":
        params["items"] = list(range(n))
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (dest / "dvc.yaml").write_text(
        yaml.safe_dump({"stages": stages_for(shape, n, sleep)}, sort_keys=False))
    sh(["git", "add", "-A"], dest)
    sh(["git", "commit", "-q", "-m", f"{shape} pipeline, {n} stage(s)"], dest)
    if up_to_date:
        sh([DVC, "repro", "-q"], dest)
        sh(["git", "add", "-A"], dest)
        sh(["git", "commit", "-q", "-m", "dvc repro"], dest)
    shutil.rmtree(dest / ".dvc" / "tmp", ignore_errors=True)
    shutil.rmtree(SITE_CACHE, ignore_errors=True)
    return dest


def fresh_copy(template: Path, dest: Path) -> Path:
    """Replace ``dest`` by a copy of ``template`` and forget DVC's site cache."""
    if dest.exists():
        shutil.rmtree(dest)
    subprocess.run(["cp", "-a", str(template), str(dest)], check=True)
    shutil.rmtree(SITE_CACHE, ignore_errors=True)
    return dest


# --- timing -------------------------------------------------------------------------------


@dataclass
class Sample:
    """One timed call: wall and CPU (user + sys of the children) seconds, exit code, output."""

    wall: float
    cpu: float
    code: int
    out: str
    err: str


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
          ok: tuple[int, ...] = (0,)) -> Sample:
    """Run ``cmd`` in ``cwd`` and time the whole process; fail on an exit code not in ``ok``."""
    import resource

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    cpu0, start = cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return Sample(wall, cpu() - cpu0, proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Result:
    """One measure: per tool (ours first) the timed samples, and notes."""

    name: str
    what: dict[str, str]
    target: float | None
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)

    def walls(self, tool: str) -> list[float]:
        return [s.wall for s in self.samples[tool]]

    def median(self, tool: str) -> float:
        return statistics.median(self.walls(tool))

    def cpu(self, tool: str) -> float:
        return statistics.median(s.cpu for s in self.samples[tool])

    @property
    def ratio(self) -> float:
        ours, ref = list(self.samples)
        return self.median(ours) / self.median(ref)

    @property
    def met(self) -> str:
        return "—" if self.target is None else ("yes" if self.ratio <= self.target else "**no**")


def alternate(result: Result, runs: int, calls: dict[str, Callable[[], Sample]],
              before: dict[str, Callable[[], object]] | None = None,
              warmup: bool = True) -> Result:
    """Time ``calls`` in turn (ours, DVC, ours, DVC …) ``runs`` times each.

    :param before: per tool, untimed preparation before every call (e.g. a fresh copy)
    :param warmup: one untimed call per tool first (page cache, .pyc files)
    """
    result.samples = {tool: [] for tool in calls}
    load0 = os.getloadavg()[0]
    for round_no in range(runs + warmup):
        for tool, call in calls.items():
            if before and tool in before:
                before[tool]()
            sample = call()
            if round_no >= warmup:
                result.samples[tool].append(sample)
    result.load = (load0, os.getloadavg()[0])
    return result


def machine() -> str:
    """CPU model, cores, RAM, kernel, Python, and both tools' versions."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 2**20
    except OSError:
        mem = 0
    dvc = sh([DVC, "--version"], Path.cwd()).stdout.strip()
    ours = sh([DVCEXP, "--version"], Path.cwd()).stdout.strip()
    git = sh(["git", "--version"], Path.cwd()).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {mem} GiB RAM, Linux {platform.release()}; "
            f"Python {platform.python_version()}; dvcexp {ours}; DVC {dvc}; {git}")


def fmt(values: list[float]) -> str:
    """``median (min–max)`` in seconds."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def table(results: list[Result]) -> str:
    """The Markdown results table (wall times; CPU medians for noisy machines)."""
    lines = [
        "| measure | ours | wall median (min–max) s | DVC | wall median (min–max) s "
        "| ratio | target | met | CPU s ours / DVC | load 1-min |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours, ref = list(r.samples)
        target = "—" if r.target is None else f"≤ {r.target:.2f}×"
        lines.append(
            f"| {r.name} | `{r.what[ours]}` | {fmt(r.walls(ours))} | `{r.what[ref]}` | "
            f"{fmt(r.walls(ref))} | {r.ratio:.2f}× | {target} | {r.met} | "
            f"{r.cpu(ours):.2f} / {r.cpu(ref):.2f} | {r.load[0]:.1f} → {r.load[1]:.1f} |")
    return "\n".join(lines)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``0.66, 1.61, 2.67``."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


#: one sentence for the Method paragraphs
PYCACHE_NOTE = (
    "Both tools keep compiled modules in a private `PYTHONPYCACHEPREFIX` (this machine sets "
    "`PYTHONDONTWRITEBYTECODE=1`, with which every dvcexp process recompiles its modules, "
    "about 0.1 s per command, while DVC's were compiled at install time)."
)


def write_section(path: Path, name: str, section: str) -> None:
    """Replace the ``## name`` section of ``path`` (up to the next ``## ``), or append it."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []
    heads = [i for i, line in enumerate(lines) if line.startswith("## ")]
    start = next((i for i in heads if lines[i].strip() == f"## {name}"), None)
    body = section.rstrip("\n") + "\n"
    if start is None:
        text = "".join(lines).rstrip("\n") + "\n\n" + body
    else:
        end = next((i for i in heads if i > start), len(lines))
        text = "".join(lines[:start]) + body + ("\n" + "".join(lines[end:]) if end < len(lines)
                                                else "")
    path.write_text(text, encoding="utf-8")


def now() -> str:
    """The current UTC time, to the minute."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
