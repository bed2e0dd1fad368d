"""The fuzz targets in every test run, without a fuzzer: seeds, every crash ever found, and mutants.

tests/fuzz/run.py fuzzes for minutes under atheris (coverage-guided); this
replays what matters in seconds, with no atheris needed: each target's seed
corpus, the crash files the fuzzer found (tests/cases/fuzz/TARGET/, kept as
regression tests once fixed), and a few hundred deterministic mutants of the
seeds (bytes flipped, inserted, cut and spliced).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fuzz.targets import TARGETS

SEEDS = REPO / "tests" / "fuzz" / "seeds"
CRASHES = REPO / "tests" / "cases" / "fuzz"
MUTANTS_PER_TARGET = 40


def corpus(folder: Path, target: str) -> list[Path]:
    return sorted(p for p in (folder / target).glob("*") if p.is_file()) if (folder / target).is_dir() else []


def mutants(seeds: list[bytes], count: int, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(count):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 8)):
            kind = rng.randrange(5)
            position = rng.randrange(len(data) + 1)
            if kind == 0 and data:
                data[min(position, len(data) - 1)] ^= 1 << rng.randrange(8)
            elif kind == 1:
                data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            elif kind == 2:
                del data[position : position + rng.randint(1, 64)]
            elif kind == 3:
                other = rng.choice(seeds)
                start = rng.randrange(len(other) + 1)
                data[position:position] = other[start : start + rng.randint(1, 256)]
            else:
                data[position:position] = rng.choice(
                    [b"\xff", b"\n", b"\x00", b"\\ud800", b'"', b"{", b"\r\n"]
                )
        out.append(bytes(data))
    return out


def test_every_target_has_seeds():
    assert all(corpus(SEEDS, name) for name in TARGETS)


@pytest.mark.parametrize("name", TARGETS)
def test_target_holds_on_its_seeds_and_on_every_crash_found_so_far(name):
    for path in corpus(SEEDS, name) + corpus(CRASHES, name):
        TARGETS[name](path.read_bytes())


@pytest.mark.parametrize("name", TARGETS)
def test_target_holds_on_mutants_of_its_seeds(name):
    seeds = [path.read_bytes() for path in corpus(SEEDS, name)]
    for data in mutants(seeds, MUTANTS_PER_TARGET, random.Random(name)):
        TARGETS[name](data)
