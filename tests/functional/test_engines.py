"""Both engines give the same results: in-process for ``-j 1``, Snakemake otherwise."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import GIT_ENV, PROJECT, git, run_cli


def _example(path: Path) -> Path:
    shutil.copytree(PROJECT / "workflow_examples" / "ml-basic", path)
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "baseline", cwd=path)
    return path


def test_serial_and_snakemake_engines_agree(tmp_path: Path) -> None:
    serial = _example(tmp_path / "serial")
    snake = _example(tmp_path / "snake")
    (serial / "dvc.lock").unlink()
    (snake / "dvc.lock").unlink()
    first = run_cli("repro", cwd=serial)
    second = run_cli("repro", cwd=snake, env={"DVCEXP_ENGINE": "snakemake"})
    assert first.returncode == second.returncode == 0, (first.stderr, second.stderr)
    assert first.stdout == second.stdout
    assert (serial / "dvc.lock").read_bytes() == (snake / "dvc.lock").read_bytes()
    parallel = run_cli("repro", "-f", "-j", "2", cwd=snake)
    assert parallel.returncode == 0, parallel.stderr
    assert (serial / "dvc.lock").read_bytes() == (snake / "dvc.lock").read_bytes()


def test_one_job_slot_never_imports_snakemake(tmp_path: Path) -> None:
    repo = _example(tmp_path / "ml")
    (repo / "dvc.lock").unlink()
    code = ("import sys; from dvcexp_plugin.cli import main; rc = main(['repro']);"
            "sys.stderr.write('SNAKEMAKE=%s RC=%s' % ('snakemake' in sys.modules, rc))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                          text=True, env={**os.environ, **GIT_ENV})
    assert proc.stderr.strip().endswith("SNAKEMAKE=False RC=0"), proc.stderr
    assert "Running stage 'evaluate':" in proc.stdout


def test_parallel_jobs_finishing_out_of_order_leave_dvcs_lock_order(tmp_path: Path) -> None:
    """-j 3: later stages finish first, yet dvc.lock lists them as `dvc repro` would."""
    from tests.conftest import make_dvc_repo

    stages = "".join(
        f"  s{i}:\n    cmd: sleep {0.1 * (6 - i):.1f} && echo {i} > o{i}.txt\n"
        f"    outs: [o{i}.txt]\n" for i in range(6)
    )
    texts = {}
    for jobs in ("1", "3"):
        repo = make_dvc_repo(tmp_path / f"j{jobs}", {"dvc.yaml": "stages:\n" + stages})
        result = run_cli("repro", "-j", jobs, cwd=repo)
        assert result.returncode == 0, result.stderr
        texts[jobs] = (repo / "dvc.lock").read_text()
    assert texts["3"] == texts["1"]
    assert [line.strip() for line in texts["3"].splitlines() if line.startswith("  s")] == [
        f"s{i}:" for i in range(6)]
