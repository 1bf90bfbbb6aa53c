"""The README's first command works: the demo runs experiments and shows the table."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import GIT_ENV, PROJECT


def test_demo_script_runs_experiments_and_shows_them(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    env = {**os.environ, **GIT_ENV, "DEMO": str(demo), "COLUMNS": "200",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", str(PROJECT / "workflow_examples" / "demo.sh")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Queued experiment 'lr-3' for future execution." in proc.stdout
    assert "Ran experiment(s): lr-1, lr-2, lr-3" in proc.stdout
    assert "[lr-1]" in proc.stdout and "[lr-3]" in proc.stdout
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"],
                          cwd=demo, capture_output=True, text=True).stdout.split()
    names = sorted(r.rsplit("/", 1)[-1] for r in refs if "/celery/" not in r)
    assert names == ["lr-1", "lr-2", "lr-3"]
