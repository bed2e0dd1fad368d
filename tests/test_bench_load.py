"""bench/load.py runs and prints its table (the 1M-record figure in the README comes from it)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_load_bench_runs_cleans_a_small_corpus_and_prints_the_table():
    result = subprocess.run(
        [sys.executable, "bench/load.py", "--records", "300", "-j", "1"],
        capture_output=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    header = next(line for line in lines if line.startswith("| records"))
    row = lines[lines.index(header) + 2].split(" | ")
    assert "peak RSS, all processes" in header
    assert row[0] == "| 300" and row[7] == "yes"  # conserved: written + rejected = records
