"""Queue benchmark: an 8-entry sweep where ``prepare`` (1 s) is identical in every
entry and ``train`` (1 s) depends on the swept param, run with 2 job slots.

ours: ``dvcexp exp run --queue -S train.k=range(1,9)`` then ``dvcexp exp run
--run-all -j 2``; DVC: the same ``--queue``, then ``dvc queue start -j 2`` and
polling until all 8 experiment refs exist. Only the run is timed (not the
queueing). The lower limit is 1 s + 8 × 1 s / 2 = 5 s of commands; the issue's
target is ≤ 0.3× DVC's time.

Run: ``/work/venv/bin/python bench/bench_queue.py [--runs 3]``
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

DVCEXP = os.environ.get("DVCEXP", "/work/venv/bin/dvcexp")
DVC = os.environ.get("DVC", "/work/dvcvenv/bin/dvc")
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "bench",
       "GIT_AUTHOR_EMAIL": "bench@example.invalid", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "bench@example.invalid",
       # DVC's queue workers start `dvc` from PATH
       "PATH": f"{os.path.dirname(DVC)}{os.pathsep}{os.environ.get('PATH', '')}"}
DVC_YAML = """\
stages:
  prepare:
    cmd: sleep 1 && echo prepared > prepared.txt
    deps: [data.txt]
    outs: [prepared.txt]
  train:
    cmd: sleep 1 && cat prepared.txt > model.txt && echo ${train.k} >> model.txt
    deps: [prepared.txt]
    params: [train.k]
    outs: [model.txt]
"""


def make_repo(path: Path) -> None:
    """A fresh project with DVC initialised by real DVC."""
    path.mkdir(parents=True)
    (path / "dvc.yaml").write_text(DVC_YAML)
    (path / "params.yaml").write_text("train:\n  k: 0\n")
    (path / "data.txt").write_text("data\n")
    for args in (["git", "init", "-q", "-b", "main"], [DVC, "init", "-q"],
                 ["git", "add", "-A"], ["git", "commit", "-q", "-m", "baseline"]):
        subprocess.run(args, cwd=path, env=ENV, check=True, capture_output=True)


def exp_refs(path: Path) -> int:
    out = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"],
                         cwd=path, capture_output=True, text=True).stdout.split()
    return sum(1 for ref in out if len(ref.split("/")) == 5 and "/celery/" not in ref
               and "/exec/" not in ref)


def run_ours(path: Path) -> float:
    subprocess.run([DVCEXP, "exp", "run", "--queue", "-S", "train.k=range(1,9)"], cwd=path,
                   env=ENV, check=True, capture_output=True)
    start = time.monotonic()
    subprocess.run([DVCEXP, "exp", "run", "--run-all", "-j", "2"], cwd=path, env=ENV,
                   check=True, capture_output=True)
    took = time.monotonic() - start
    assert exp_refs(path) == 8, "not every experiment was saved"
    return took


def run_dvc(path: Path) -> float:
    subprocess.run([DVC, "exp", "run", "--queue", "-S", "train.k=range(1,9)"], cwd=path,
                   env=ENV, check=True, capture_output=True)
    start = time.monotonic()
    subprocess.Popen([DVC, "queue", "start", "-j", "2"], cwd=path, env=ENV,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait()
    while exp_refs(path) < 8:
        time.sleep(0.1)
        if time.monotonic() - start > 600:
            raise RuntimeError("DVC's queue did not finish in 10 minutes")
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ours, theirs = [], []
    for _ in range(args.runs):
        for runner, into in ((run_ours, ours), (run_dvc, theirs)):
            base = Path(tempfile.mkdtemp(prefix="dvcexp-bench-queue-"))
            try:
                make_repo(base / "repo")
                into.append(runner(base / "repo"))
            finally:
                time.sleep(12 if runner is run_dvc else 0)  # DVC's workers linger ~10 s
                shutil.rmtree(base, ignore_errors=True)
    load = os.getloadavg()[0]
    ours_m, dvc_m = statistics.median(ours), statistics.median(theirs)
    print(f"queue 8 entries -j 2: ours {ours_m:.2f} s {sorted(round(t, 2) for t in ours)}; "
          f"dvc {dvc_m:.2f} s {sorted(round(t, 2) for t in theirs)}; "
          f"ratio {ours_m / dvc_m:.2f}x (target <= 0.3x); load {load:.1f}")


if __name__ == "__main__":
    main()
