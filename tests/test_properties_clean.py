"""`clean` (every step) on generated corpora: conservation by id, determinism across runs and across -j.

In-process properties use the pipeline as the command line builds it; the
last tests run the real command line on generated JSONL files and compare
bytes, so that reading, worker processes and writing are part of the claim.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from tests.strategies import (
    PROPERTY_SETTINGS,
    article_text,
    json_record,
    jsonl_line,
    jsonl_lines,
)
from vocclean.engines.local import ParallelPipeline
from vocclean.io.readers import ReadOptions, parse_json_record
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.steps.base import Step
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate

# Corpora with near and exact copies of articles, so that dedup-articles has work to do.
STORY = "国务院常务会议研究部署稳就业保民生工作，要求各地加大职业技能培训力度。"
CORPUS_LINES = st.lists(
    st.one_of(
        jsonl_lines(max_records=4).map(lambda lines: b"".join(lines)),
        st.builds(
            lambda n, extra: jsonl_line({"text": f"{STORY * 2}{extra}", "n": n}),
            st.integers(0, 3),
            st.sampled_from(["", "（完）", "\n扫码关注我们", "\n责任编辑：张三"]),
        ),
    ),
    max_size=8,
).map(lambda chunks: [line for chunk in chunks for line in chunk.splitlines(keepends=True)])


def clean_steps(learn: bool) -> list[Step]:
    """What `vocclean clean` builds (learn is on for file inputs)."""
    return [
        FixEncoding(),
        NormalizeScript(),
        StripBoilerplate(learn=learn, learn_min_docs=2),
        DedupParagraphs(),
        DedupArticles(),
    ]


def read_lines(lines: list[bytes]) -> list[Record]:
    options = ReadOptions()
    return [parse_json_record(line, f"in:{n}", "in", options) for n, line in enumerate(lines, 1)]


def run(pipeline: Pipeline, lines: list[bytes]) -> tuple[list[Any], list[Any]]:
    """Live records and rejects as comparable tuples; learning replays the same lines."""
    rejected: list[Record] = []
    live = list(
        pipeline.run(read_lines(lines), rejected.append, records_factory=lambda: iter(read_lines(lines)))
    )
    return (
        [(r.source, r.id, r.text, r.annotations) for r in live],
        [(r.source, r.id, r.rejection.step, r.rejection.reason, r.annotations) for r in rejected],
    )


def fewer(examples: int) -> settings:
    """Each example builds the whole chain (a fraction of a second): fewer examples than elsewhere."""
    return settings(PROPERTY_SETTINGS, max_examples=min(PROPERTY_SETTINGS.max_examples, examples))


@fewer(25)
@given(lines=CORPUS_LINES, learn=st.booleans())
def test_clean_conserves_every_record_by_id(lines, learn):
    ids_in = sorted(r.id for r in read_lines(lines))
    live, rejected = run(Pipeline(clean_steps(learn)), lines)
    assert sorted([r[1] for r in live] + [r[1] for r in rejected]) == ids_in
    assert not [r for r in rejected if r[3].startswith("internal error")]


@fewer(10)
@given(lines=CORPUS_LINES)
def test_clean_gives_the_same_output_on_every_run(lines):
    assert run(Pipeline(clean_steps(True)), lines) == run(Pipeline(clean_steps(True)), lines)


@fewer(8)
@given(lines=CORPUS_LINES)
def test_clean_gives_the_same_output_with_one_and_two_workers(lines):
    serial = run(Pipeline(clean_steps(True)), lines)
    # Chunks of 2 records: even small corpora reach the worker processes (3 chunks or more).
    parallel = run(ParallelPipeline(clean_steps(True), jobs=2, chunk_records=2), lines)
    assert parallel == serial


# The real command line


# `clean` spelled out as its steps with their defaults (learning on: the inputs are files).
CLEAN = [
    "fix-encoding",
    "normalize-script",
    "strip-boilerplate",
    "--learn",
    "dedup-paragraphs",
    "dedup-articles",
]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vocclean", *args], capture_output=True, cwd=REPO, timeout=300
    )


def write_corpus(directory: Path, records: list[dict[str, Any]], files: int = 3) -> list[str]:
    """Records with unique ids spread over ``files`` JSONL files; the ids, in order."""
    directory.mkdir(parents=True, exist_ok=True)
    ids = []
    handles = [open(directory / f"part{n}.jsonl", "wb") for n in range(files)]
    try:
        for number, record in enumerate(records):
            record = {**record, "id": f"r{number}"}
            ids.append(record["id"])
            handles[number % files].write(jsonl_line(record))
    finally:
        for handle in handles:
            handle.close()
    return ids


CLI_RECORDS = st.lists(
    json_record(text=st.one_of(article_text(), st.just(STORY * 3), st.just(STORY * 3 + "（完）"))),
    min_size=1,
    max_size=30,
)


@fewer(2)
@given(records=CLI_RECORDS)
def test_the_command_line_conserves_ids_and_gives_the_same_bytes_with_one_and_two_workers(
    tmp_path_factory, records
):
    tmp = tmp_path_factory.mktemp("clean")
    ids = write_corpus(tmp / "in", records)
    outputs = {}
    for jobs in ("1", "2"):
        out, rejects = tmp / f"out{jobs}.jsonl", tmp / f"rejects{jobs}.jsonl"
        result = cli(
            "-i",
            str(tmp / "in"),
            "-o",
            str(out),
            "--rejects",
            str(rejects),
            "--annotate",
            "-j",
            jobs,
            "--chunk-records",
            "2",
            *CLEAN,
        )
        assert result.returncode in (0, 1), result.stderr
        assert b"Traceback" not in result.stderr
        outputs[jobs] = (out.read_bytes(), rejects.read_bytes())
    assert outputs["1"] == outputs["2"]
    written = [json.loads(line)["id"] for line in outputs["1"][0].splitlines()]
    rejected = [json.loads(line)["id"] for line in outputs["1"][1].splitlines()]
    assert sorted(written + rejected) == sorted(ids)
    assert all(
        not json.loads(line)["vocclean"]["reason"].startswith("internal")
        for line in outputs["1"][1].splitlines()
    )
