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
    assert "Ran experiment(s): lr-low" in proc.stdout
    assert "Ran experiment(s): lr-high" in proc.stdout
    assert "[lr-high]" in proc.stdout and "[lr-low]" in proc.stdout
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)", "refs/exps"],
                          cwd=demo, capture_output=True, text=True).stdout.split()
    assert sorted(r.rsplit("/", 1)[-1] for r in refs) == ["lr-high", "lr-low"]
