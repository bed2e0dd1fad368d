"""dedup-articles on real data: the labelled xwlb set, the repeated tw_news URLs, the benchmarks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, SHARED_DATA

sys.path.insert(0, str(REPO / "bench"))

import dedup_articles_labelled as labelled


@pytest.fixture(scope="module")
def labelled_set() -> list[dict]:
    """About 3,000 records: 1,500 originals (fewer after removing source near-copies) and their copies."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: this test needs the shared evaluation data")
    stories = labelled.load_stories(SHARED_DATA / "xwlb_cctv_news_zh" / "stories.jsonl.gz")
    return labelled.build_labelled_set(stories, 1500)


@pytest.fixture(scope="module")
def labelled_score(labelled_set) -> dict:
    return labelled.score(labelled_set, labelled.run_dedup(labelled_set))


@pytest.mark.shared_data
def test_labelled_set_has_every_kind_of_edit_and_distinct_same_topic_stories(labelled_set):
    edits = {part for r in labelled_set for part in r["edit"].split("+")}
    assert edits == {"original", *labelled.EDITS}
    series = [r for r in labelled_set if r["edit"] == "original" and r["text"].startswith(labelled.SERIES)]
    assert len(series) >= 500


@pytest.mark.shared_data
def test_labelled_pairs_precision_and_recall_meet_the_floors(labelled_score):
    result = labelled_score
    assert result["true_pairs"] > 1500
    assert result["precision"] >= 0.99
    assert result["recall"] >= 0.95


@pytest.mark.shared_data
def test_traditional_copies_are_found_as_often(labelled_score):
    result = labelled_score
    assert result["traditional_pairs"] > 300
    assert result["traditional_recall"] >= 0.95


@pytest.mark.shared_data
def test_every_url_crawled_twice_in_tw_news_is_found_as_duplicates(shared_data):
    rows = labelled.tw_news_records()
    repeated, together, _ = labelled.repeated_urls_found(rows, labelled.run_dedup(rows))
    assert repeated == 148
    assert together == 148


def run_bench(script: str, *args: str) -> str:
    """Run a benchmark script as a user would; its standard output."""
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args], capture_output=True, cwd=REPO, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@pytest.mark.shared_data
def test_throughput_benchmark_runs_and_prints_its_table(shared_data):
    out = run_bench("dedup_articles.py", "--stories", "300", "--reps", "1", "--baseline-stories", "100",
                    "--baseline-reps", "1")  # fmt: skip
    assert "| dedup-articles step, end to end |" in out and "| datasketch MinHash + MinHashLSH |" in out


@pytest.mark.shared_data
def test_memory_benchmark_runs_and_prints_its_table(shared_data):
    assert "| peak RSS of the process |" in run_bench("dedup_articles.py", "--memory-docs", "3000")


@pytest.mark.shared_data
def test_labelled_benchmark_prints_its_tables(shared_data):
    out = run_bench("dedup_articles_labelled.py", "--originals", "200")
    assert "| precision | recall |" in out and "| tw_news rows |" in out
