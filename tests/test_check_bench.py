"""bench/check.py runs and prints its table (a tiny corpus, one run: a smoke test, not a measurement)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_check_benchmark_prints_its_table():
    result = subprocess.run(
        [sys.executable, "bench/check.py", "--stories", "20", "--reps", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "| run | seconds | MB/s | records/s | time / clean |" in lines
    rows = [line for line in lines if line.startswith(("| read", "| clean", "| check"))]
    assert len(rows) == 3
    assert rows[1].endswith("| 1.00 |")  # clean against itself
