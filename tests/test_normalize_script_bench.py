"""Smoke test of bench/normalize_script.py: it runs on a tiny corpus and prints its table."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import REPO


def test_bench_runs_and_prints_a_markdown_table():
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "normalize_script.py"), "--docs", "30", "--reps", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = "| what | MB/s, CPU time (median) | min–max | vs opencc alone | MB/s, wall clock (median) |"
    assert header in lines
    row = re.compile(r"\| [^-|].* \| [\d.]+ \| [\d.]+–[\d.]+ \| [\d.]+× \| [\d.]+ \|$")
    rows = [line for line in lines if row.match(line)]
    assert [row.split(" | ")[0] for row in rows] == [
        "| opencc t2s alone (baseline)",
        "| normalize-script, defaults (detect + convert + punctuation)",
        "| script detection alone",
        "| punctuation rules alone",
    ]
    assert rows[0].split(" | ")[3] == "1.00×"
