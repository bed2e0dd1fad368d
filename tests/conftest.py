"""Shared test fixtures: the repository's fixtures and ../shared/data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
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
