"""``dvcexp repro`` against a real DVC: same lock bytes, and each accepts the other's work.

Skipped unless ``DVCEXP_DVC`` names a ``dvc`` executable (e.g. ``tox -e interop``
with ``DVCEXP_DVC=/path/to/dvc``). DVC runs with analytics off, in the
temporary repositories only.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, make_dvc_repo
from tests.functional.test_repro import ok

DVC = os.environ.get("DVCEXP_DVC", "")

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not (DVC and os.access(DVC, os.X_OK)),
        reason="set DVCEXP_DVC to a dvc executable to compare with DVC",
    ),
]

#: params (nested keys), a directory dep and out, a dep inside another stage's
#: directory out, a list command, wdir, a persistent out, an uncached metric,
#: foreach, and a second dvc.yaml with its own dvc.lock
FILES = {
    "params.yaml": "prep:\n  n: 2\n  sep: ','\ntrain:\n  lr: 0.1\n  layers: [8, 4]\nseed: 7\n",
    "data/raw/a.csv": "1,2\n3,4\n",
    "data/raw/b.csv": "5,6\n",
    "dvc.yaml": """\
stages:
  prep:
    cmd: mkdir -p data/prep && cp data/raw/*.csv data/prep/ && echo ${prep.n} > data/prep/n.txt
    deps: [data/raw]
    params: [prep.n, prep.sep]
    outs: [data/prep]
  train:
    cmd:
    - cat data/prep/a.csv data/prep/n.txt > model.bin
    - echo lr=${train.lr} >> model.bin
    - printf '{"acc":0.5}' > metrics.json
    deps: [data/prep/a.csv, data/prep/n.txt]
    params: [train, seed]
    outs: [model.bin]
    metrics:
    - metrics.json:
        cache: false
  log:
    cmd: wc -c ../model.bin >> history.txt
    wdir: logs
    deps: [../model.bin]
    outs:
    - history.txt:
        persist: true
  report:
    foreach: [a, b]
    do:
      cmd: grep -c , data/prep/${item}.csv > report-${item}.txt
      deps: [data/prep]
      outs:
      - report-${item}.txt
""",
    "logs/.keep": "",
    "sub/dvc.yaml": """\
stages:
  copy:
    cmd: cp ../model.bin model-copy.bin
    deps: [../model.bin]
    outs: [model-copy.bin]
""",
}


def dvc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1"}
    return subprocess.run([DVC, *args], cwd=cwd, env=env, capture_output=True, text=True)


def _same_order(text: str) -> str:
    """DVC lists the files of its ``git add`` hint in set order: sort them."""
    return "\n".join(
        "\tgit add " + " ".join(sorted(line.split()[2:])) if line.startswith("\tgit add ")
        else line
        for line in text.split("\n")
    )


def twin_repos(tmp_path: Path) -> tuple[Path, Path]:
    return (make_dvc_repo(tmp_path / "with-dvc", FILES),
            make_dvc_repo(tmp_path / "with-dvcexp", FILES))


def _cache_listing(repo: Path) -> list[str]:
    cache = repo / ".dvc" / "cache"
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_same_lock_bytes_and_dvc_status_up_to_date(tmp_path: Path) -> None:
    by_dvc, by_us = twin_repos(tmp_path)

    theirs = dvc("repro", "-P", cwd=by_dvc)
    ok(by_us, "-P")

    assert theirs.returncode == 0, theirs.stderr
    for lock in ("dvc.lock", "sub/dvc.lock"):
        assert (by_us / lock).read_bytes() == (by_dvc / lock).read_bytes(), lock
    for gitignore in (".gitignore", "data/.gitignore", "logs/.gitignore", "sub/.gitignore"):
        assert (by_us / gitignore).exists() == (by_dvc / gitignore).exists(), gitignore
        if (by_dvc / gitignore).exists():
            assert sorted((by_us / gitignore).read_text().splitlines()) == sorted(
                (by_dvc / gitignore).read_text().splitlines()
            ), gitignore
    # the same objects and the same run-cache entries
    assert _cache_listing(by_us) == _cache_listing(by_dvc)
    status = dvc("status", cwd=by_us)
    assert status.returncode == 0, status.stderr
    assert status.stdout == "Data and pipelines are up to date.\n"


def test_dvc_accepts_our_run_after_a_change(tmp_path: Path) -> None:
    by_dvc, by_us = twin_repos(tmp_path)
    dvc("repro", "-P", cwd=by_dvc)
    shutil.rmtree(by_us)
    shutil.copytree(by_dvc, by_us, symlinks=True)
    for repo in (by_dvc, by_us):
        params = repo / "params.yaml"
        params.write_text(params.read_text().replace("lr: 0.1", "lr: 0.2"))

    theirs = dvc("repro", "-P", cwd=by_dvc)
    ours = ok(by_us, "-P")

    assert theirs.returncode == 0, theirs.stderr
    assert _same_order(ours.stdout) == _same_order(theirs.stdout)
    for lock in ("dvc.lock", "sub/dvc.lock"):
        assert (by_us / lock).read_bytes() == (by_dvc / lock).read_bytes(), lock
    assert dvc("status", cwd=by_us).stdout == "Data and pipelines are up to date.\n"


def test_nothing_to_run_after_dvc_repro(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", FILES)
    theirs = dvc("repro", "-P", cwd=repo)
    assert theirs.returncode == 0, theirs.stderr
    before = (repo / "dvc.lock").read_bytes()
    history = (repo / "logs" / "history.txt").read_text()

    result = ok(repo, "-P")

    assert "Running stage" not in result.stdout
    assert result.stdout.endswith("Data and pipelines are up to date.\n")
    assert (repo / "dvc.lock").read_bytes() == before
    assert (repo / "logs" / "history.txt").read_text() == history
    # and the same text as DVC's second run
    assert result.stdout == dvc("repro", "-P", cwd=repo).stdout


#: differential scenarios: (name, files, steps); a step is a repro argv or a
#: callable that edits the repository between runs
THREE = {
    "params.yaml": "n: 3\n",
    "data.txt": "a\nb\nc\n",
    "dvc.yaml": """\
stages:
  prep:
    cmd: cp data.txt prep.txt
    deps: [data.txt]
    outs: [prep.txt]
  train:
    cmd: wc -l prep.txt > model.txt
    deps: [prep.txt]
    params: [n]
    outs: [model.txt]
  eval:
    cmd: cat model.txt > metrics.txt
    deps: [model.txt]
    outs: [metrics.txt]
  side:
    cmd: "false"
    deps: [data.txt]
    outs: [side.txt]
""",
}


def _edit(path: str, old: str, new: str):  # type: ignore[no-untyped-def]
    def step(repo: Path) -> None:
        target = repo / path
        target.write_text(target.read_text().replace(old, new))
    return step


def _remove(path: str):  # type: ignore[no-untyped-def]
    return lambda repo: (repo / path).unlink()


SCENARIOS = {
    "keep-going-then-identical-output": [
        ["-k"], ["-k"], _edit("dvc.yaml", "cp data.txt prep.txt", "cat data.txt > prep.txt"),
        ["-k"],
    ],
    "run-cache-and-checkout": [
        ["eval"], _edit("params.yaml", "3", "4"), ["eval"], _edit("params.yaml", "4", "3"),
        ["eval"], _remove("metrics.txt"), ["eval"],
    ],
    "dry-force-downstream-single": [
        ["eval"], _edit("params.yaml", "3", "5"), ["--dry", "eval"], ["-f", "--dry", "prep"],
        ["--force-downstream", "eval"], ["-s", "train"], ["train", "--downstream"],
        ["--ignore-errors"],
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_output_as_dvc(name: str, tmp_path: Path) -> None:
    from tests.conftest import run_cli

    repos = {tool: make_dvc_repo(tmp_path / tool, THREE) for tool in ("dvc", "dvcexp")}
    for step in SCENARIOS[name]:
        if callable(step):
            for repo in repos.values():
                step(repo)
            continue
        theirs = dvc("repro", *step, cwd=repos["dvc"])
        ours = run_cli("repro", *step, cwd=repos["dvcexp"])
        what = f"repro {' '.join(step)}"
        assert ours.returncode == theirs.returncode, what
        assert _same_order(ours.stdout) == _same_order(theirs.stdout), what
        assert ours.stderr == theirs.stderr, what
        assert (repos["dvcexp"] / "dvc.lock").read_bytes() == (
            repos["dvc"] / "dvc.lock"
        ).read_bytes(), what
