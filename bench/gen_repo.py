"""Generate a large, up-to-date DVC project for benchmarking ``status``.

Usage::

    python bench/gen_repo.py [DEST] [--stages 200] [--size-mb 1024] [--seed 0] [--no-params]
                             [--force]

The project (default ``/tmp/dvcexp-bench-repo``) is a git repository with
``.dvc/`` (empty ``config``, DVC's ``.dvc/.gitignore``), a ``.dvcignore`` and a
``dvc.yaml`` of N stages shaped like a real pipeline:

* ``C = N // 20`` chains; chain ``c`` starts with ``c<c>_ingest`` (one large
  file, ~50 MB at the default size) and ``c<c>_split`` (a directory of ~1000
  small files), then a run of ``c<c>_step<k>`` stages each reading the previous
  one's output (every fifth also reads the chain's shard directory);
* ``merge<j>`` stages fan in the last output of three chains, and ``report``
  fans in every merge and writes an uncached metrics file.

Each stage has a section in ``params.yaml`` and declares two of its keys as
params (``--no-params``: none, to measure data checks alone).

Every stage runs ``python src/step.py <stage>``, which writes that stage's
outputs from ``src/spec.json`` with seeded pseudo-random bytes, so the content
is the same on every run and ``dvc repro`` reproduces it exactly. Roughly half
of the bytes are in the large files, 30% in the shard directories and the rest
in the step outputs. Generation writes every output once (``src/step.py
--all``), then ``dvc commit -f`` hashes them, fills ``.dvc/cache`` and writes
``dvc.lock`` -- so both DVC and dvcexp see a repository that is up to date.
Nothing is measured here.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

DVC = os.environ.get("DVC", "/work/dvcvenv/bin/dvc")
DEFAULT_DEST = "/tmp/dvcexp-bench-repo"
#: DVC's state/index go here rather than /var/tmp/dvc (bench_foundation uses it too)
SITE_CACHE = "/tmp/dvcexp-bench-dvc-site-cache"
MB = 2**20

#: the script every stage runs; it is also used (with --all) to write the data
STEP_PY = '''\
"""Write one stage's outputs (or every stage's, with --all) from src/spec.json."""
import json
import os
import random
import sys

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spec.json")


def write_file(path, size, seed):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    rng = random.Random(seed)
    with open(path, "wb") as fobj:
        left = size
        while left:
            n = min(left, 1 << 22)
            fobj.write(rng.randbytes(n))
            left -= n


def write_out(out):
    if out["kind"] == "file":
        write_file(out["path"], out["size"], out["seed"])
    elif out["kind"] == "dir":
        rng = random.Random(out["seed"])
        for i in range(out["nfiles"]):
            size = rng.randint(1, 2 * out["avg_size"] - 1)
            sub = "part-%02d" % (i % 10)
            write_file(os.path.join(out["path"], sub, "shard-%05d.bin" % i), size, rng.random())
    else:  # metrics
        os.makedirs(os.path.dirname(out["path"]), exist_ok=True)
        with open(out["path"], "w") as fobj:
            json.dump({"score": out["seed"] % 1000 / 1000}, fobj)


def main(names):
    with open(SPEC) as fobj:
        spec = json.load(fobj)
    for name in names or spec:
        for out in spec[name]:
            write_out(out)


if __name__ == "__main__":
    main([] if sys.argv[1:] == ["--all"] else sys.argv[1:])
'''


def plan(
    n_stages: int, size_mb: int, seed: int, with_params: bool = True
) -> tuple[dict, dict, dict]:
    """Return ``(stages, params, spec)``: dvc.yaml stages, params.yaml, src/spec.json.

    :param with_params: give every stage ``params:`` on its params.yaml section
    """
    chains = max(2, n_stages // 20)
    merges = max(1, chains)
    steps = n_stages - 2 * chains - merges - 1
    if steps < chains:
        raise SystemExit(f"--stages {n_stages} is too few; use at least 40")
    total = size_mb * MB
    big_size = total * 50 // 100 // chains
    shard_files = 1000
    shard_avg = max(1, total * 30 // 100 // chains // shard_files)
    step_size = total * 20 // 100 // steps
    stages: dict[str, dict] = {}
    params: dict[str, dict] = {}
    spec: dict[str, list[dict]] = {}

    def add(name: str, deps: list[str], outs: list[dict], metrics: str | None = None) -> None:
        seed_of = _seed(seed, name)
        for i, out in enumerate(outs):
            out["seed"] = seed_of + i
        stage: dict = {"cmd": f"python src/step.py {name}", "deps": ["src/step.py", *deps]}
        if with_params:
            stage["params"] = [f"{name}.seed", f"{name}.scale"]
        stage["outs"] = [o["path"] + ("/" if o["kind"] == "dir" else "") for o in outs]
        if metrics:
            stage["metrics"] = [{metrics: {"cache": False}}]
            outs = [*outs, {"kind": "metrics", "path": metrics, "seed": seed_of}]
        stages[name] = stage
        params[name] = {"seed": seed_of, "scale": round(1 + len(stages) / 100, 2), "tag": name}
        spec[name] = outs

    last: dict[int, str] = {}
    per_chain = [steps // chains + (c < steps % chains) for c in range(chains)]
    for c in range(chains):
        raw, shards = f"data/c{c}/raw.bin", f"data/c{c}/shards"
        add(f"c{c}_ingest", [], [{"kind": "file", "path": raw, "size": big_size}])
        add(f"c{c}_split", [raw], [
            {"kind": "dir", "path": shards, "nfiles": shard_files, "avg_size": shard_avg}
        ])
        prev = shards
        for k in range(per_chain[c]):
            out = f"data/c{c}/step{k:02d}.bin"
            deps = [prev] + ([shards] if k % 5 == 4 and prev != shards else [])
            is_last = k == per_chain[c] - 1
            add(f"c{c}_step{k:02d}", deps, [{"kind": "file", "path": out, "size": step_size}],
                metrics=f"metrics/c{c}.json" if is_last else None)
            prev = out
        last[c] = prev
    merged = []
    for j in range(merges):
        inputs = sorted({last[(j + d) % chains] for d in range(3)})
        out = f"data/merged/m{j:02d}.bin"
        add(f"merge{j:02d}", inputs, [{"kind": "file", "path": out, "size": step_size}])
        merged.append(out)
    add("report", merged, [], metrics="metrics/report.json")
    return stages, params, spec


def _seed(seed: int, name: str) -> int:
    """A stable 31-bit seed for a stage (``hash()`` of a str is salted per process)."""
    value = seed
    for ch in name:
        value = (value * 131 + ord(ch)) % (2**31 - 1)
    return value


def run(cmd: list[str], cwd: Path) -> None:
    """Run a command in the project, failing loudly."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": SITE_CACHE}
    subprocess.run(cmd, cwd=cwd, check=True, env=env, stdout=subprocess.DEVNULL)


def generate(
    dest: Path, n_stages: int, size_mb: int, seed: int, with_params: bool = True
) -> None:
    """Create the project at ``dest`` (which must not exist) and commit it with DVC."""
    stages, params, spec = plan(n_stages, size_mb, seed, with_params)
    dest.mkdir(parents=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    run(["git", "init", "-q"], dest)
    (dest / ".dvc").mkdir()
    (dest / ".dvc" / "config").write_text("")
    (dest / ".dvc" / ".gitignore").write_text("/config.local\n/tmp\n/cache\n")
    (dest / ".dvcignore").write_text("# Add patterns of files dvc should ignore\n")
    (dest / "src").mkdir()
    (dest / "src" / "step.py").write_text(STEP_PY)
    (dest / "src" / "spec.json").write_text(json.dumps(spec, indent=1, sort_keys=True))
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (dest / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    (dest / ".gitignore").write_text("/data/\n")
    print(f"writing ~{size_mb} MB of outputs for {len(stages)} stages ...", flush=True)
    run([sys.executable, "src/step.py", "--all"], dest)
    print("dvc commit -f (hashes everything, fills .dvc/cache, writes dvc.lock) ...", flush=True)
    run([DVC, "commit", "-f", "-q"], dest)
    run([*git, "add", "-A"], dest)
    run([*git, "commit", "-q", "-m", "generated benchmark pipeline"], dest)


def main() -> None:
    """Parse arguments and generate the project."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dest", nargs="?", default=DEFAULT_DEST)
    parser.add_argument("--stages", type=int, default=200)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace an existing DEST")
    parser.add_argument("--no-params", action="store_true",
                        help="stages declare no params (params.yaml is still written)")
    args = parser.parse_args()
    dest = Path(args.dest)
    if dest.exists():
        if not args.force:
            raise SystemExit(f"{dest} exists; pass --force to replace it")
        shutil.rmtree(dest)
    generate(dest, args.stages, args.size_mb, args.seed, not args.no_params)
    print(f"done: {dest}")


if __name__ == "__main__":
    main()
