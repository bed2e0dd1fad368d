"""Shared test fixtures: the repository's fixtures and ../shared/data when present."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import settings

# Every property test sees the same examples on every run, so that CI never fails at random on an
# example no earlier run drew (tests/strategies.py: VOCCLEAN_EXPLORE=N explores random ones instead).
settings.register_profile("vocclean", derandomize=not os.environ.get("VOCCLEAN_EXPLORE"))
settings.load_profile("vocclean")

REPO = Path(__file__).resolve().parent.parent

# Start-up tables (vocclean.table_cache) go to a directory of this test session, not the user's
# ~/.cache; commands the tests run inherit it.
_TABLE_CACHE = tempfile.mkdtemp(prefix="vocclean-tables-")
os.environ["VOCCLEAN_CACHE_DIR"] = _TABLE_CACHE


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_TABLE_CACHE, ignore_errors=True)


def run_bench(*args: str, timeout: float = 300) -> str:
    """Run ``python ARGS`` in the repository (a benchmark script); its standard output, after
    asserting that it succeeded."""
    result = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


FIXTURES = REPO / "fixtures"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: CI has it, a fresh clone elsewhere may not."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: this test needs the shared evaluation data")
    return SHARED_DATA


@pytest.fixture
def seeds_dir() -> Path:
    return FIXTURES / "seeds"


@pytest.fixture(scope="module")
def client():
    """A real 2-worker Dask LocalCluster (processes, one thread each) for a test module."""
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def on_cluster(client, monkeypatch):
    """--engine dask uses the module's cluster instead of starting one per command."""
    from vocclean.engines import dask_engine

    monkeypatch.setattr(dask_engine, "connect", lambda options, scratch=None: client)
    monkeypatch.setattr(dask_engine, "close", lambda client: None)
    return client


def rule_examples() -> list[str]:
    """Every example and counter-example line of the built-in rule packs."""
    from vocclean.text.boilerplate_rules import builtin_pack_paths

    lines = []
    for path in builtin_pack_paths():
        for entry in tomllib.loads(path.read_text(encoding="utf-8"))["rule"]:
            lines += entry["examples"] + entry.get("counter_examples", [])
    return lines
