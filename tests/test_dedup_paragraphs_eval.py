"""dedup-paragraphs against its bars: the labelled xwlb set (precision and recall floors) and
the benchmark script (runs and prints its tables). The set is built by bench/dedup_paragraphs.py."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location(
    "bench_dedup_paragraphs", REPO / "bench" / "dedup_paragraphs.py"
)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # dataclasses look their module up while the class is built
_spec.loader.exec_module(bench)

PRECISION_FLOOR = 0.995
RECALL_FLOOR = 0.99
STORIES = None  # all 19,876 stories, as the bench: about 10 s


@functools.cache
def labelled_set(path: Path) -> list:
    """The bench's labelled set (seed 0), built once per test session."""
    return bench.build_labelled_set(bench.load_stories(path, STORIES, seed=0), seed=0)


@pytest.fixture
def labelled(shared_data):
    return labelled_set(shared_data / "xwlb_cctv_news_zh" / "stories.jsonl.gz")


@pytest.mark.shared_data
def test_labelled_set_has_every_kind_of_injected_repeat(labelled):
    kinds = {kind for doc in labelled for kind in doc.repeats.values()}
    assert set(bench.KINDS) <= kinds
    assert sum(len(doc.repeats) for doc in labelled) > 2 * len(labelled)


@pytest.mark.shared_data
def test_precision_and_recall_floors_on_the_labelled_xwlb_set(labelled):
    score = bench.evaluate(bench.ours(), labelled)
    assert score.precision >= PRECISION_FLOOR, score.false_pos_examples
    assert score.recall >= RECALL_FLOOR


@pytest.mark.shared_data
def test_beats_exact_line_matching_and_data_juicer_rule_on_recall(labelled):
    ours = bench.evaluate(bench.ours(), labelled)
    exact = bench.evaluate(bench.exact_line, labelled)
    data_juicer = bench.evaluate(bench.dj_style, labelled)
    assert ours.recall > max(exact.recall, data_juicer.recall)
    assert ours.precision >= PRECISION_FLOOR and exact.precision >= PRECISION_FLOOR


@pytest.mark.shared_data
def test_near_repeat_recall_by_kind(labelled):
    score = bench.evaluate(bench.ours(), labelled)
    for kind in ("exact", "punctuation", "width"):
        assert score.recall_by_kind[kind] == score.total_by_kind[kind], kind
    assert score.recall_by_kind["word"] / score.total_by_kind["word"] >= 0.98


@pytest.mark.shared_data
def test_bench_script_runs_and_prints_its_tables(shared_data, capsys):
    data = shared_data / "xwlb_cctv_news_zh" / "stories.jsonl.gz"
    assert (
        bench.main(["--data", str(data), "--stories", "40", "--reps", "1", "--index-paragraphs", "5000"]) == 0
    )
    out = capsys.readouterr().out
    assert "| dedup-paragraphs (defaults) |" in out
    assert "| exact-line matching |" in out
    assert "| | dedup-paragraphs --across-docs |" in out
    assert "| ParagraphIndex (numpy arrays + id table) |" in out


def test_bench_memory_part_runs_without_shared_data(capsys):
    assert bench.main(["--skip", "accuracy", "--skip", "throughput", "--index-paragraphs", "5000"]) == 0
    assert "| Python set of the same 64-bit ints |" in capsys.readouterr().out
