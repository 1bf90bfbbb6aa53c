"""``dvcexp repro`` end to end: real git repos, real Snakemake, real processes.

Every expected text below was first taken from DVC 3.67.1 (``dvc repro``) on
the same scenario in a scratch directory; the tests then hold dvcexp to it.
The helpers here are shared by the other ``test_repro_*`` modules.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import yaml

from tests.conftest import Result, make_dvc_repo, run_cli

#: DVC's closing lines after stages ran in a git repo (the git hint + push hint)
ADD_HINT = (
    "\nTo track the changes with git, run:\n\n\tgit add {files}\n\n"
    "To enable auto staging, run:\n\n\tdvc config core.autostage true\n"
)
PUSH = "Use `dvc push` to send your updates to remote storage.\n"
UP_TO_DATE = "Data and pipelines are up to date.\n"

#: prep → train → eval; every command appends its name to count.log
THREE_STAGES = """\
stages:
  prep:
    cmd: cp data.txt prep.txt && echo prep >> count.log
    deps: [data.txt]
    outs: [prep.txt]
  train:
    cmd: wc -l prep.txt > model.txt && echo train >> count.log
    deps: [prep.txt]
    params: [n]
    outs: [model.txt]
  eval:
    cmd: cat model.txt > metrics.txt && echo eval >> count.log
    deps: [model.txt]
    outs: [metrics.txt]
"""
THREE_FILES = {"dvc.yaml": THREE_STAGES, "params.yaml": "n: 3\n", "data.txt": "a\nb\nc\n"}


def repro(repo: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """``dvcexp repro ARGS`` in ``repo``; never a traceback."""
    result = run_cli("repro", *args, cwd=repo, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def ok(repo: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = repro(repo, *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def count_log(repo: Path) -> list[str]:
    path = repo / "count.log"
    return path.read_text().split() if path.exists() else []


def lock(repo: Path) -> dict:
    return yaml.safe_load((repo / "dvc.lock").read_text())


def three_stage_repo(tmp_path: Path, ran: bool = False) -> Path:
    repo = make_dvc_repo(tmp_path / "repo", THREE_FILES)
    if ran:
        ok(repo)
    return repo


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# ----------------------------------------------------------------- basic runs
def test_three_stages_run_in_order_with_dvcs_lines(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path)

    result = ok(repo)

    assert result.stdout == (
        "Running stage 'prep':\n"
        "> cp data.txt prep.txt && echo prep >> count.log\n"
        "Generating lock file 'dvc.lock'\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Running stage 'train':\n"
        "> wc -l prep.txt > model.txt && echo train >> count.log\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Running stage 'eval':\n"
        "> cat model.txt > metrics.txt && echo eval >> count.log\n"
        "Updating lock file 'dvc.lock'\n"
        + ADD_HINT.format(files="dvc.lock .gitignore")
        + PUSH
    )
    assert count_log(repo) == ["prep", "train", "eval"]
    data = md5(b"a\nb\nc\n")
    model = md5((repo / "model.txt").read_bytes())
    assert lock(repo) == {
        "schema": "2.0",
        "stages": {
            "prep": {
                "cmd": "cp data.txt prep.txt && echo prep >> count.log",
                "deps": [{"path": "data.txt", "hash": "md5", "md5": data, "size": 6}],
                "outs": [{"path": "prep.txt", "hash": "md5", "md5": data, "size": 6}],
            },
            "train": {
                "cmd": "wc -l prep.txt > model.txt && echo train >> count.log",
                "deps": [{"path": "prep.txt", "hash": "md5", "md5": data, "size": 6}],
                "params": {"params.yaml": {"n": 3}},
                "outs": [{"path": "model.txt", "hash": "md5", "md5": model, "size": 11}],
            },
            "eval": {
                "cmd": "cat model.txt > metrics.txt && echo eval >> count.log",
                "deps": [{"path": "model.txt", "hash": "md5", "md5": model, "size": 11}],
                "outs": [{"path": "metrics.txt", "hash": "md5", "md5": model, "size": 11}],
            },
        },
    }
    assert (repo / ".gitignore").read_text() == "/prep.txt\n/model.txt\n/metrics.txt\n"
    cache = repo / ".dvc" / "cache" / "files" / "md5"
    assert (cache / data[:2] / data[2:]).read_bytes() == b"a\nb\nc\n"
    # the run's files are gone, and Snakemake left nothing in the repository
    assert not any((repo / ".dvc" / "tmp" / "dvcexp" / "runs").iterdir())
    assert not (repo / ".snakemake").exists()


def test_second_run_runs_nothing(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    before = (repo / "dvc.lock").read_bytes()

    result = ok(repo)

    assert result.stdout == (
        "Stage 'prep' didn't change, skipping\n"
        "Stage 'train' didn't change, skipping\n"
        "Stage 'eval' didn't change, skipping\n" + UP_TO_DATE
    )
    assert count_log(repo) == ["prep", "train", "eval"]
    assert (repo / "dvc.lock").read_bytes() == before


def test_identical_upstream_output_does_not_rerun_downstream(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    yaml_text = (repo / "dvc.yaml").read_text()
    # a new command (so prep re-runs) that writes byte-identical output
    new_cmd = yaml_text.replace("cp data.txt prep.txt", "cat data.txt > prep.txt")
    (repo / "dvc.yaml").write_text(new_cmd)

    result = ok(repo)

    assert result.stdout == (
        "Running stage 'prep':\n"
        "> cat data.txt > prep.txt && echo prep >> count.log\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Stage 'train' didn't change, skipping\n"
        "Stage 'eval' didn't change, skipping\n"
        + ADD_HINT.format(files="dvc.lock")
        + PUSH
    )
    assert count_log(repo) == ["prep", "train", "eval", "prep"]


def test_dependency_touched_only_in_mtime_does_not_run(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    os.utime(repo / "data.txt", (1_000_000_000, 1_000_000_000))  # far in the past
    os.utime(repo / "prep.txt")  # and an upstream output: now

    result = ok(repo)

    assert result.stdout.endswith(UP_TO_DATE)
    assert "Running" not in result.stdout
    assert count_log(repo) == ["prep", "train", "eval"]


def test_changed_param_reruns_only_from_that_stage(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "params.yaml").write_text("n: 4\n")

    result = ok(repo)

    assert result.stdout.startswith(
        "Stage 'prep' didn't change, skipping\n"
        "Running stage 'train':\n"
    )
    # model.txt does not depend on n: same bytes, eval is not run
    assert "Stage 'eval' didn't change, skipping\n" in result.stdout
    assert count_log(repo) == ["prep", "train", "eval", "train"]
    assert lock(repo)["stages"]["train"]["params"] == {"params.yaml": {"n": 4}}


# ------------------------------------------------------------- outputs, cache
def test_persist_output_survives_a_rerun(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "data.txt": "1\n",
        "dvc.yaml": (
            "stages:\n"
            "  acc:\n"
            "    cmd: cat data.txt >> acc.txt\n"
            "    deps: [data.txt]\n"
            "    outs:\n"
            "    - acc.txt:\n"
            "        persist: true\n"
        ),
    })
    ok(repo)
    (repo / "data.txt").write_text("2\n")
    ok(repo)
    ok(repo, "-f")

    assert (repo / "acc.txt").read_text() == "1\n2\n2\n"
    # DVC keeps no run-cache entry for a stage with a persistent output
    assert not (repo / ".dvc" / "cache" / "runs").exists()


def test_directory_output_hashes_as_dvc(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "src/a.txt": "a\n",
        "src/sub/b.txt": "b\n",
        "dvc.yaml": (
            "stages:\n"
            "  build:\n"
            "    cmd: rm -rf out && cp -r src out && printf 'new' > out/new.txt\n"
            "    deps: [src]\n"
            "    outs: [out]\n"
            "  use:\n"
            "    cmd: ls out > use.txt && cat out/sub/b.txt >> use.txt\n"
            "    deps: [out/sub/b.txt]\n"
            "    outs: [use.txt]\n"
        ),
    })

    ok(repo)

    files = {"a.txt": b"a\n", "new.txt": b"new", "sub/b.txt": b"b\n"}
    manifest = [{"md5": md5(data), "relpath": rel} for rel, data in sorted(files.items())]
    text = json.dumps(manifest, sort_keys=True)
    expected = md5(text.encode()) + ".dir"
    entry = lock(repo)["stages"]["build"]
    assert entry["outs"] == [
        {"path": "out", "hash": "md5", "md5": expected, "size": 7, "nfiles": 3}
    ]
    src_manifest = [{"md5": md5(b"a\n"), "relpath": "a.txt"},
                    {"md5": md5(b"b\n"), "relpath": "sub/b.txt"}]
    src_text = json.dumps(src_manifest, sort_keys=True)
    assert entry["deps"][0]["md5"] == md5(src_text.encode()) + ".dir"
    obj = repo / ".dvc" / "cache" / "files" / "md5" / expected[:2] / expected[2:]
    assert obj.read_text() == text
    # the consumer of a file inside the directory ran after it, and no marker leaked
    assert (repo / "use.txt").read_text() == "a.txt\nnew.txt\nsub\nb\n"
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["a.txt", "new.txt", "sub"]
    assert ok(repo).stdout.endswith(UP_TO_DATE)


def test_deleted_output_is_checked_out_from_the_cache(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "model.txt").unlink()

    result = ok(repo)

    assert result.stdout == (
        "Stage 'prep' didn't change, skipping\n"
        "Stage 'train' is cached - skipping run, checking out outputs\n"
        "\n"
        "Stage 'eval' didn't change, skipping\n" + PUSH
    )
    assert (repo / "model.txt").exists()
    assert count_log(repo) == ["prep", "train", "eval"]


def test_run_cache_hit_after_reverting_a_param(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    first_lock = (repo / "dvc.lock").read_bytes()
    (repo / "params.yaml").write_text("n: 4\n")
    ok(repo)
    (repo / "params.yaml").write_text("n: 3\n")

    result = ok(repo)

    assert result.stdout == (
        "Stage 'prep' didn't change, skipping\n"
        "Stage 'train' is cached - skipping run, checking out outputs\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Stage 'eval' didn't change, skipping\n"
        + ADD_HINT.format(files="dvc.lock")
        + PUSH
    )
    assert count_log(repo) == ["prep", "train", "eval", "train"]
    assert (repo / "dvc.lock").read_bytes() == first_lock


def test_frozen_stage_is_not_run_and_only_verified(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    text = (repo / "dvc.yaml").read_text().replace("  train:\n", "  train:\n    frozen: true\n")
    (repo / "dvc.yaml").write_text(text)
    (repo / "data.txt").write_text("changed\n")

    result = ok(repo, "eval")

    # frozen cuts the graph above train: prep is not even planned
    assert result.stdout == (
        "Stage 'train' didn't change, skipping\n"
        "Stage 'eval' didn't change, skipping\n" + UP_TO_DATE
    )
    assert result.stderr == (
        "WARNING: stage: 'train' is frozen. Its dependencies are not going to be reproduced.\n"
    )
    (repo / "model.txt").unlink()

    failed = repro(repo, "train")

    assert failed.returncode == 255
    assert "Verifying outputs in frozen stage: 'train'" in failed.stdout
    assert failed.stderr.splitlines()[-1].startswith("ERROR: failed to reproduce 'train': ")
    assert count_log(repo) == ["prep", "train", "eval"]


# ------------------------------------------------------------ shell, env
def test_commands_run_in_dvcs_shell(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "data.txt": "x 1\ny 2\n",
        "dvc.yaml": (
            "stages:\n"
            "  esc:\n"
            # \\${HOME} is DVC's escape: the shell gets ${HOME}; $HOME is left alone
            "    cmd: echo \\${HOME} $HOME > esc.txt\n"
            "    outs: [esc.txt]\n"
            "  awk:\n"
            "    cmd: awk '{print $1}' data.txt | sort -r > awk.txt && echo done >> awk.txt\n"
            "    deps: [data.txt]\n"
            "    outs: [awk.txt]\n"
            "  braces:\n"
            "    cmd: printf '%s\\n' '{rule}' \"{{x}}\" 'it''s' > braces.txt\n"
            "    outs: [braces.txt]\n"
        ),
    })
    home = str(tmp_path / "home dir")

    result = ok(repo, env={"HOME": home})

    assert "> echo ${HOME} $HOME > esc.txt\n" in result.stdout
    assert (repo / "esc.txt").read_text() == f"{home} {home}\n"
    assert (repo / "awk.txt").read_text() == "y\nx\ndone\n"
    assert (repo / "braces.txt").read_text() == "{rule}\n{{x}}\nits\n"
    assert lock(repo)["stages"]["esc"]["cmd"] == "echo ${HOME} $HOME > esc.txt"


def test_unescaped_dollar_brace_is_interpolation(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "dvc.yaml": "stages:\n  h:\n    cmd: echo ${HOME} > h.txt\n    outs: [h.txt]\n",
    })

    result = repro(repo)

    assert result.returncode == 255
    assert result.stderr == (
        "ERROR: failed to parse 'stages.h.cmd' in 'dvc.yaml': Could not find 'HOME'\n"
    )


def test_stage_environment(tmp_path: Path) -> None:
    grep = "env | grep -E '^(DVC_ROOT|DVC_STAGE|OMP_NUM_THREADS|MKL_NUM_THREADS)=' | sort"
    repo = make_dvc_repo(tmp_path / "repo", {
        "sub/keep": "",
        "dvc.yaml": (
            "stages:\n"
            "  env:\n"
            f"    cmd: {grep} > env.txt\n"
            "    outs: [env.txt]\n"
            "  sub:\n"
            "    wdir: sub\n"
            f"    cmd: {grep} > env.txt; pwd >> env.txt\n"
            "    outs: [env.txt]\n"
        ),
    })
    ok(repo, env={"OMP_NUM_THREADS": "7"})

    root = str(repo)
    # OMP_NUM_THREADS as the user set it; MKL_NUM_THREADS not forced to 1 (Snakemake's)
    user_mkl = os.environ.get("MKL_NUM_THREADS")
    mkl = f"MKL_NUM_THREADS={user_mkl}\n" if user_mkl is not None else ""
    assert (repo / "env.txt").read_text() == (
        f"DVC_ROOT={root}\nDVC_STAGE=env\n{mkl}OMP_NUM_THREADS=7\n"
    )
    assert (repo / "sub" / "env.txt").read_text() == (
        f"DVC_ROOT={root}\nDVC_STAGE=sub\n{mkl}OMP_NUM_THREADS=7\n{root}/sub\n"
    )


def test_repository_path_with_braces_quotes_and_spaces(tmp_path: Path) -> None:
    # Snakemake reads braces in rule paths as wildcards; the repo's path must not matter
    repo = make_dvc_repo(tmp_path / "we{ird} it's {{x}}", THREE_FILES)

    result = ok(repo)

    assert count_log(repo) == ["prep", "train", "eval"]
    assert result.stdout.startswith("Running stage 'prep':\n")
    assert ok(repo).stdout.endswith(UP_TO_DATE)


def test_output_of_a_background_child_does_not_hold_the_stage(tmp_path: Path) -> None:
    """A command that leaves a child holding stdout ends the stage soon after it exits."""
    import time

    repo = make_dvc_repo(tmp_path / "repo", {"dvc.yaml": (
        "stages:\n  s:\n    cmd: (sleep 60 &) ; echo hi > o.txt; echo printed; "
        "echo warned >&2\n    outs: [o.txt]\n")})
    start = time.monotonic()
    result = run_cli("repro", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 30  # the output is drained for 5 s, not 60
    assert "printed\n" in result.stdout and "warned\n" in result.stderr
    log = (repo / ".dvc" / "tmp" / "dvcexp" / "logs" / "s.log").read_text()
    assert "printed" in log and "warned" in log
