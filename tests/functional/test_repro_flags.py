"""``dvcexp repro`` flags, each checked against what ``dvc repro`` 3.67.1 prints."""
from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import make_dvc_repo
from tests.functional.test_repro import (
    ADD_HINT,
    PUSH,
    UP_TO_DATE,
    count_log,
    lock,
    ok,
    repro,
    three_stage_repo,
)


def _tree(repo: Path) -> dict[str, tuple[int, bytes]]:
    """Every file outside .git with its mtime and bytes (to prove nothing changed)."""
    found = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if rel.startswith((".git/", ".dvc/tmp/")) or not path.is_file():
            continue
        found[str(path.relative_to(repo))] = (path.stat().st_mtime_ns, path.read_bytes())
    return found


def test_target_runs_it_and_its_upstream_only(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path)

    result = ok(repo, "train")

    assert "Running stage 'eval'" not in result.stdout
    assert count_log(repo) == ["prep", "train"]
    assert list(lock(repo)["stages"]) == ["prep", "train"]
    assert ok(repo).stdout.startswith(
        "Stage 'prep' didn't change, skipping\n"
        "Stage 'train' didn't change, skipping\n"
        "Running stage 'eval':\n"
    )


def test_single_item_ignores_upstream_changes(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "data.txt").write_text("new\n")
    (repo / "params.yaml").write_text("n: 4\n")

    result = ok(repo, "-s", "train")

    assert result.stdout.startswith("Running stage 'train':\n")
    assert "'prep'" not in result.stdout and "'eval'" not in result.stdout
    assert count_log(repo)[3:] == ["train"]


def test_downstream_plans_the_target_and_what_follows(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "data.txt").write_text("new\n")  # prep changed, but it is not planned
    (repo / "params.yaml").write_text("n: 4\n")

    result = ok(repo, "train", "--downstream")

    assert result.stdout == (
        "Running stage 'train':\n"
        "> wc -l prep.txt > model.txt && echo train >> count.log\n"
        "Updating lock file 'dvc.lock'\n"
        "\n"
        "Stage 'eval' didn't change, skipping\n"
        + ADD_HINT.format(files="dvc.lock")
        + PUSH
    )
    assert count_log(repo)[3:] == ["train"]


def test_force_runs_every_planned_stage(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    before = (repo / "dvc.lock").read_bytes()

    result = ok(repo, "-f", "train")

    assert result.stdout == (
        "Running stage 'prep':\n"
        "> cp data.txt prep.txt && echo prep >> count.log\n"
        "\n"
        "Running stage 'train':\n"
        "> wc -l prep.txt > model.txt && echo train >> count.log\n" + PUSH
    )
    assert count_log(repo)[3:] == ["prep", "train"]
    assert (repo / "dvc.lock").read_bytes() == before


def test_force_downstream_runs_what_follows_a_stage_that_ran(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    text = (repo / "dvc.yaml").read_text()
    (repo / "dvc.yaml").write_text(text.replace("cp data.txt prep.txt", "cat data.txt > prep.txt"))

    result = ok(repo, "--force-downstream")

    # prep's output is byte-identical, yet train and eval are forced
    assert "Running stage 'train':" in result.stdout
    assert "Running stage 'eval':" in result.stdout
    assert count_log(repo)[3:] == ["prep", "train", "eval"]
    # nothing ran, nothing forced
    assert ok(repo, "--force-downstream").stdout.endswith(UP_TO_DATE)


def test_dry_changes_nothing_and_prints_what_would_run(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "params.yaml").write_text("n: 5\n")
    (repo / "metrics.txt").unlink()
    snapshot = _tree(repo)

    result = ok(repo, "--dry")

    # DVC's dry run looks the lock's state up in the run-cache and announces
    # a hit before the commands (it never hashes the workspace)
    assert result.stdout == (
        "Stage 'prep' didn't change, skipping\n"
        "Stage 'train' is cached - skipping run, checking out outputs\n"
        "Running stage 'train':\n"
        "> wc -l prep.txt > model.txt && echo train >> count.log\n"
        "\n"
        "Stage 'eval' is cached - skipping run, checking out outputs\n"
        "Running stage 'eval':\n"
        "> cat model.txt > metrics.txt && echo eval >> count.log\n"
        + PUSH
    )
    assert _tree(repo) == snapshot
    assert not (repo / ".dvc" / "tmp" / "dvcexp").exists() or not any(
        (repo / ".dvc" / "tmp" / "dvcexp" / "runs").iterdir()
    )

    forced = ok(repo, "--dry", "-f", "prep")

    assert forced.stdout == (
        "Running stage 'prep':\n"
        "> cp data.txt prep.txt && echo prep >> count.log\n" + PUSH
    )
    assert ok(repo, "--dry", "prep").stdout == (
        "Stage 'prep' didn't change, skipping\n" + UP_TO_DATE
    )
    assert _tree(repo) == snapshot


def test_allow_missing_skips_stages_whose_data_is_only_missing(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "model.txt").unlink()
    (repo / "metrics.txt").unlink()

    result = ok(repo, "--allow-missing")

    assert result.stdout == (
        "Stage 'prep' didn't change, skipping\n"
        "Stage 'train' didn't change, skipping\n"
        "Stage 'eval' didn't change, skipping\n" + UP_TO_DATE
    )
    assert not (repo / "model.txt").exists()
    # a real change still runs; what follows it is judged as it comes
    text = (repo / "dvc.yaml").read_text()
    (repo / "dvc.yaml").write_text(text.replace("cp data.txt prep.txt", "cat data.txt > prep.txt"))
    result = ok(repo, "--allow-missing")
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
    assert count_log(repo)[3:] == ["prep"]
    assert not (repo / "metrics.txt").exists()


def test_pull_without_a_remote_warns_and_goes_on(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path, ran=True)
    (repo / "model.txt").unlink()

    result = ok(repo, "--pull")

    assert result.stderr == (
        "WARNING: Failed to pull run cache: config file error: no remote specified in "
        f"{repo}. Create a default remote with\n"
        "    dvc remote add -d <remote name> <remote url>\n"
    )
    assert result.stdout == (
        "Stage 'prep' didn't change, skipping\n"
        "Pulling data for stage: 'train'\n"
        "Stage 'eval' didn't change, skipping\n" + UP_TO_DATE
    )
    assert (repo / "model.txt").exists()
    assert count_log(repo) == ["prep", "train", "eval"]


def test_jobs_run_independent_stages_in_parallel(tmp_path: Path) -> None:
    stamp = "python3 -c 'import time; print(time.time())'"
    stages = "".join(
        f"  s{i}:\n"
        f"    cmd: {stamp} > s{i}.start && sleep 1 && {stamp} > s{i}.end\n"
        f"    outs: [s{i}.end]\n"
        for i in (1, 2)
    )
    repo = make_dvc_repo(tmp_path / "repo", {"dvc.yaml": "stages:\n" + stages})

    ok(repo, "-j", "2")

    starts = [float((repo / f"s{i}.start").read_text()) for i in (1, 2)]
    ends = [float((repo / f"s{i}.end").read_text()) for i in (1, 2)]
    # the two 1 s commands overlapped, and the stage part took well under 2 s
    assert starts[0] < ends[1] and starts[1] < ends[0]
    assert max(ends) - min(starts) < 1.8
    assert list(lock(repo)["stages"]) in (["s1", "s2"], ["s2", "s1"])


def test_jobs_one_follows_dvcs_order(tmp_path: Path) -> None:
    # four independent stages: DVC runs them in dvc.yaml order, so must we
    stages = "".join(
        f"  {name}:\n    cmd: echo {name} >> count.log && echo > {name}.txt\n"
        f"    outs: [{name}.txt]\n"
        for name in ("d", "c", "b", "a")
    )
    repo = make_dvc_repo(tmp_path / "repo", {"dvc.yaml": "stages:\n" + stages})

    ok(repo)

    assert count_log(repo) == ["d", "c", "b", "a"]
    assert list(lock(repo)["stages"]) == ["d", "c", "b", "a"]


def test_unknown_target_is_one_line_error(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path)

    result = repro(repo, "nosuch")

    assert result.returncode == 255
    assert result.stdout == ""
    # DVC 3.67.1: "ERROR: Stage 'nosuch' not found inside 'dvc.yaml' file" (the
    # wording is the target resolver's, shared with the other commands)
    assert result.stderr.startswith("ERROR: ") and "'nosuch'" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_runs_from_a_subdirectory_with_a_path_target(tmp_path: Path) -> None:
    repo = three_stage_repo(tmp_path)
    (repo / "sub").mkdir()

    result = ok(repo / "sub", os.path.join("..", "dvc.yaml:train"))

    # DVC names stages and files relative to the working directory
    assert result.stdout == (
        "Running stage '../dvc.yaml:prep':\n"
        "> cp data.txt prep.txt && echo prep >> count.log\n"
        "Generating lock file '../dvc.lock'\n"
        "Updating lock file '../dvc.lock'\n"
        "\n"
        "Running stage '../dvc.yaml:train':\n"
        "> wc -l prep.txt > model.txt && echo train >> count.log\n"
        "Updating lock file '../dvc.lock'\n"
        + ADD_HINT.format(files="../dvc.lock ../.gitignore")
        + PUSH
    )
    assert count_log(repo) == ["prep", "train"]
