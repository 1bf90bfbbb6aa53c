"""``dvcexp repro`` when stages fail: DVC's messages, exit codes and leftovers."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import make_dvc_repo
from tests.functional.test_repro import ADD_HINT, PUSH, count_log, lock, ok, repro

#: a (ok) → bad1 (fails, after writing part of its output) → after; bad2 fails; other is fine
FAILING = """\
stages:
  a:
    cmd: cp data.txt a.txt
    deps: [data.txt]
    outs: [a.txt]
  bad1:
    cmd: echo one > bad1.txt && exit 3
    deps: [a.txt]
    outs: [bad1.txt]
  after:
    cmd: cp bad1.txt after.txt
    deps: [bad1.txt]
    outs: [after.txt]
  bad2:
    cmd: "false"
    deps: [data.txt]
    outs: [bad2.txt]
  other:
    cmd: cp data.txt other.txt
    deps: [data.txt]
    outs: [other.txt]
"""


def failing_repo(tmp_path: Path) -> Path:
    return make_dvc_repo(tmp_path / "repo", {"dvc.yaml": FAILING, "data.txt": "hi\n"})


def test_failure_stops_with_one_line_error(tmp_path: Path) -> None:
    repo = failing_repo(tmp_path)

    result = repro(repo)

    assert result.returncode == 255
    assert result.stdout == (
        "Running stage 'a':\n"
        "> cp data.txt a.txt\n"
        "Generating lock file 'dvc.lock'\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Running stage 'bad1':\n"
        "> echo one > bad1.txt && exit 3\n"
    )
    assert result.stderr == (
        "ERROR: failed to reproduce 'bad1': failed to run: echo one > bad1.txt && exit 3, "
        "exited with 3\n"
    )
    # the stage that completed keeps its lock entry; nothing after the failure ran
    assert list(lock(repo)["stages"]) == ["a"]
    assert not (repo / "other.txt").exists()
    # DVC leaves a failed stage's partial output in place
    assert (repo / "bad1.txt").read_text() == "one\n"
    assert not any((repo / ".dvc" / "tmp" / "dvcexp" / "runs").iterdir())


def test_list_command_stops_at_the_first_failing_item(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "dvc.yaml": (
            "stages:\n"
            "  steps:\n"
            "    cmd:\n"
            "    - echo one > out.txt\n"
            "    - exit 1\n"
            "    - echo three >> out.txt\n"
            "    outs: [out.txt]\n"
        ),
    })

    result = repro(repo)

    assert result.returncode == 255
    assert result.stdout == (
        "Running stage 'steps':\n> echo one > out.txt\n> exit 1\n"
    )
    assert result.stderr == (
        "ERROR: failed to reproduce 'steps': failed to run: exit 1, exited with 1\n"
    )
    assert (repo / "out.txt").read_text() == "one\n"
    assert not (repo / "dvc.lock").exists()


def test_next_run_after_a_failure_works(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "src/f.txt": "f\n",
        "dvc.yaml": (
            "stages:\n"
            "  build:\n"
            "    cmd: mkdir -p out && cp src/f.txt out/ && echo build >> count.log\n"
            "    deps: [src]\n"
            "    outs: [out]\n"
            "  check:\n"
            "    cmd: test -f flag && ls -A out > check.txt\n"
            "    deps: [out]\n"
            "    outs: [check.txt]\n"
        ),
    })

    failed = repro(repo)

    assert failed.returncode == 255
    assert failed.stderr.startswith("ERROR: failed to reproduce 'check': ")
    assert list(lock(repo)["stages"]) == ["build"]
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["f.txt"]  # no Snakemake marker
    (repo / "flag").write_text("")

    result = ok(repo)

    assert result.stdout.startswith(
        "Stage 'build' didn't change, skipping\nRunning stage 'check':\n"
    )
    assert (repo / "check.txt").read_text() == "f.txt\n"
    assert count_log(repo) == ["build"]


def test_missing_dependency_fails_that_stage(tmp_path: Path) -> None:
    repo = make_dvc_repo(tmp_path / "repo", {
        "data.txt": "x\n",
        "dvc.yaml": (
            "stages:\n"
            "  first:\n"
            "    cmd: cp data.txt first.txt\n"
            "    deps: [data.txt]\n"
            "    outs: [first.txt]\n"
            "  needs:\n"
            "    cmd: cp nothere.txt needs.txt\n"
            "    deps: [nothere.txt]\n"
            "    outs: [needs.txt]\n"
        ),
    })

    result = repro(repo)

    # as DVC: the stages before it ran, then the stage fails naming the dep
    assert result.returncode == 255
    assert result.stdout.startswith("Running stage 'first':\n")
    assert result.stderr.startswith("ERROR: failed to reproduce 'needs': ")
    assert "nothere.txt" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert list(lock(repo)["stages"]) == ["first"]


def test_keep_going_runs_what_does_not_depend_on_the_failures(tmp_path: Path) -> None:
    repo = failing_repo(tmp_path)

    result = repro(repo, "-k")

    assert result.returncode == 255
    assert result.stdout == (
        "Running stage 'a':\n"
        "> cp data.txt a.txt\n"
        "Generating lock file 'dvc.lock'\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Running stage 'bad1':\n"
        "> echo one > bad1.txt && exit 3\n"
        "\n"
        "Running stage 'bad2':\n"
        "> false\n"
        "\n"
        "Running stage 'other':\n"
        "> cp data.txt other.txt\n"
        "Updating lock file 'dvc.lock'\n"
    )
    assert result.stderr == (
        "WARNING: failed to run: echo one > bad1.txt && exit 3, exited with 3\n"
        "WARNING: Stage 'after' will be skipped due to this failure\n"
        "WARNING: failed to run: false, exited with 1\n"
        "ERROR: failed to reproduce stages: 'bad1' and 'bad2'\n"
    )
    assert list(lock(repo)["stages"]) == ["a", "other"]
    assert not (repo / "after.txt").exists()


def test_ignore_errors_goes_on_with_the_dependents(tmp_path: Path) -> None:
    repo = failing_repo(tmp_path)
    ok(repo, "-k", "a", "other")  # only the failing stages are left

    result = ok(repo, "--ignore-errors")

    assert result.stdout == (
        "Stage 'a' didn't change, skipping\n"
        "Running stage 'bad1':\n"
        "> echo one > bad1.txt && exit 3\n"
        "Running stage 'after':\n"
        "> cp bad1.txt after.txt\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Running stage 'bad2':\n"
        "> false\n"
        "\n"
        "Stage 'other' didn't change, skipping\n"
        + ADD_HINT.format(files="dvc.lock .gitignore")
        + PUSH
    )
    assert result.stderr == (
        "WARNING: failed to run: echo one > bad1.txt && exit 3, exited with 3 (ignored)\n"
        "WARNING: failed to run: false, exited with 1 (ignored)\n"
    )
    assert (repo / "after.txt").read_text() == "one\n"
    assert list(lock(repo)["stages"]) == ["a", "other", "after"]
