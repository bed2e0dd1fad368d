"""Fuzz targets: one function per reader and step, taking the fuzzer's bytes.

Each target turns the bytes into input (a file, or records), runs vocclean on
it and checks what must hold on any input: nothing raises, no record is lost
or invented, no record is rejected as an "internal error". A violation raises,
which the fuzzer reports as a crash. The functions need no fuzzer:
tests/fuzz/test_smoke.py runs them on the seed corpus and on every crash ever
found (tests/cases/fuzz/), and tests/fuzz/run.py runs them under atheris.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from vocclean.io.compression import sniff_compression
from vocclean.io.readers import ByteCounter, ReadOptions, parse_json_record, read_inputs
from vocclean.io.sources import expand_inputs
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.steps.base import Step

MAX_RECORDS = 16
SUFFIXES = [".jsonl", ".jsonl.gz", ".jsonl.zst", ".jsonl.bz2", ".jsonl.xz", ".txt", ""]


def records_from(data: bytes) -> list[Record]:
    """Up to MAX_RECORDS records: pieces of ``data`` split at 0xFF; a piece starting with 0x00 stays bytes.

    Text is decoded with surrogateescape, so invalid UTF-8 becomes lone surrogates, as a JSON
    line with ``\\udc80`` escapes would give.
    """
    records = []
    for number, piece in enumerate(data.split(b"\xff")[:MAX_RECORDS]):
        if piece[:1] == b"\x00":
            records.append(Record(id=f"r{number}.txt", text=None, raw=piece[1:], source=f"r{number}.txt"))
        else:
            text = piece.decode("utf-8", "surrogateescape")
            records.append(Record(id=f"r{number}", text=text, source=f"fuzz:{number}"))
    return records


def check_run(steps: list[Step], records: list[Record]) -> None:
    """Run the steps; raise if a record is lost, invented, or rejected as an internal error."""
    ids_in = sorted(record.id for record in records)
    rejected: list[Record] = []
    live = list(Pipeline(steps).run(records, rejected.append))
    ids_out = sorted(record.id for record in live + rejected)
    if ids_out != ids_in:
        raise AssertionError(f"records lost or invented: {ids_in} in, {ids_out} out")
    for record in rejected:
        if record.rejection.reason.startswith("internal error"):
            raise AssertionError(f"{record.rejection.step}: {record.rejection.reason}")
    for record in live:
        if not isinstance(record.text, str):
            raise AssertionError(f"live record {record.id} has no text")


class StepTarget:
    """A fuzz target over one chain of steps, built on first use (some steps take a while to build)."""

    def __init__(self, build: Callable[[], list[Step]], fresh: bool = False) -> None:
        self.build = build
        self.fresh = fresh  # chains that keep state across runs are built for every input
        self._steps: list[Step] | None = None

    def __call__(self, data: bytes) -> None:
        if self._steps is None or self.fresh:
            self._steps = self.build()
        records = records_from(data)
        check_run(self._steps, records)


@functools.cache
def _scratch() -> Path:
    """This process's folder for the file target's inputs, removed when the process exits (each
    test run left one behind in the temporary folder)."""
    folder = Path(tempfile.mkdtemp(prefix=f"vocclean-fuzz-{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def read_file(data: bytes) -> None:
    """The first byte picks a file name (compression, format); the rest is the file's content."""
    if not data:
        return
    suffix = SUFFIXES[data[0] % len(SUFFIXES)]
    content = data[1:]
    path = _scratch() / f"input{suffix}"
    path.write_bytes(content)
    records = list(read_inputs(expand_inputs([str(path)]), ReadOptions(max_record_bytes=4096), ByteCounter()))
    for record in records:
        if not record.rejected and not isinstance(record.text, str) and record.raw is None:
            raise AssertionError(f"{record.id}: a live record with neither text nor bytes")
    plain_jsonl = suffix == ".jsonl" and sniff_compression(content[:6]) is None
    if plain_jsonl:
        lines = [line for line in content.split(b"\n") if line.strip()]
        if len(records) != len(lines):
            raise AssertionError(f"{len(lines)} non-blank lines gave {len(records)} records")


def parse_line(data: bytes) -> None:
    """One JSONL line, as the reader parses it: a record or a rejection, never an exception."""
    record = parse_json_record(data, "fuzz:1", "fuzz", ReadOptions())
    if record.rejected == isinstance(record.text, str):
        raise AssertionError("a record must be either rejected or carry text")


def _fix_encoding() -> list[Step]:
    from vocclean.steps.fix_encoding import FixEncoding

    return [FixEncoding()]


def _normalize_script() -> list[Step]:
    from vocclean.steps.normalize_script import NormalizeScript

    return [NormalizeScript(mixed="convert")]


def _strip_boilerplate() -> list[Step]:
    from vocclean.steps.strip_boilerplate import StripBoilerplate

    return [StripBoilerplate()]


def _dedup_paragraphs() -> list[Step]:
    from vocclean.steps.dedup_paragraphs import DedupParagraphs

    return [DedupParagraphs(across_docs=True)]


def _dedup_articles() -> list[Step]:
    from vocclean.steps.dedup_articles import DedupArticles

    return [DedupArticles(batch_size=4)]


def _clean() -> list[Step]:
    from vocclean.steps.dedup_articles import DedupArticles
    from vocclean.steps.dedup_paragraphs import DedupParagraphs
    from vocclean.steps.fix_encoding import FixEncoding
    from vocclean.steps.normalize_script import NormalizeScript
    from vocclean.steps.strip_boilerplate import StripBoilerplate

    return [FixEncoding(), NormalizeScript(), StripBoilerplate(), DedupParagraphs(), DedupArticles()]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "read_file": read_file,
    "parse_line": parse_line,
    "fix_encoding": StepTarget(_fix_encoding),
    "normalize_script": StepTarget(_normalize_script),
    "strip_boilerplate": StepTarget(_strip_boilerplate),
    "dedup_paragraphs": StepTarget(_dedup_paragraphs, fresh=True),  # its index lives in the step
    "dedup_articles": StepTarget(_dedup_articles),  # a fresh index on every run
    "clean": StepTarget(_clean),
}
