"""strip-boilerplate on the shared real data: the issue's bars, and the labelled-set floors."""

from __future__ import annotations

import shutil
import sys

import pytest

from tests.conftest import REPO, run_bench
from vocclean.record import Record
from vocclean.steps.strip_boilerplate import StripBoilerplate
from vocclean.text.boilerplate import BoilerplateMatcher
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs
from vocclean.text.learned_boilerplate import LineCounter

sys.path.insert(0, str(REPO / "bench"))
import strip_boilerplate_evalset as evalset

pytestmark = pytest.mark.shared_data


def cleaned_body_lines(documents: list[evalset.Document]) -> tuple[list[str], list[tuple[str, str]]]:
    """Run the step on each document; return the outputs and every (document, body line) pair."""
    step = StripBoilerplate()
    outputs, body = [], []
    for document in documents:
        record = step.process(Record(id=document.source, text=document.text))
        outputs.append(record.text)
        for line in document.lines:
            if line.label == evalset.BODY and line.text.strip():
                body.append((record.text, line.text.strip()[len(line.prefix.strip()) :].strip()))
    return outputs, body


def test_tw_news_reading_prompts_and_app_promotions_go_and_body_lines_stay(shared_data):
    documents = evalset.tw_documents(shared_data)
    outputs, body = cleaned_body_lines(documents)
    assert len(documents) > 500
    promotions = ["請繼續往下閱讀", "點我下載APP", "現在用APP看新聞", "按我看活動辦法"]
    promotions.append("「武漢肺炎專區」請點此")
    for gone in promotions:
        assert not any(gone in text for text in outputs), gone
    assert not any(text.lstrip().startswith("〔記者") for text in outputs)
    missing = [line for text, line in body if line not in text]
    assert missing == []


def test_xwlb_cctv_lead_in_goes_and_body_lines_stay(shared_data):
    import random

    documents = evalset.xwlb_documents(shared_data, 2000, random.Random(11))
    outputs, body = cleaned_body_lines(documents)
    assert not any("央视网消息" in text.split("\n")[0] for text in outputs if text)
    assert not any("[查看原文](" in text for text in outputs)
    missing = [line for text, line in body if line not in text]
    assert missing == []


def test_learning_the_first_1000_xwlb_stories_learns_only_their_page_template(shared_data):
    import gzip
    import json

    counter = LineCounter()
    with gzip.open(shared_data / "xwlb_cctv_news_zh" / "stories.jsonl.gz", "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number == 1000:
                break
            counter.add(json.loads(line)["text"])
    assert set(counter.model().counts) == {"央视网消息（新闻联播）：", "---", "(更新时间戳:0)"}


@pytest.fixture(scope="module")
def labelled(request):
    shared = REPO.parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip(f"{shared} is absent: this test needs the shared evaluation data")
    return evalset.build(shared, stories=600, seed=20240601)


def test_labelled_set_floors_with_learning_as_clean_runs_it(labelled):
    counter = LineCounter()
    for document in labelled:
        counter.add(document.text)
    learned = counter.model()
    matcher = BoilerplateMatcher(load_packs(builtin_pack_paths()))
    score = evalset.score(labelled, lambda text: matcher.find(text, learned))
    assert score.precision >= 0.98
    assert score.recall >= 0.95


def test_labelled_set_floors_for_the_rules_alone(labelled):
    matcher = BoilerplateMatcher(load_packs(builtin_pack_paths()))
    score = evalset.score(labelled, matcher.find)
    assert score.precision >= 0.98
    for pool in ("real", "seen", "variants"):
        recall, lines = score.recall_of(pool)
        assert lines > 100 and recall >= 0.95, pool
    assert score.prefixes_wrong == 0
    assert score.prefixes_exact >= 0.95 * score.prefixes_expected


def test_the_benchmark_prints_its_tables(shared_data):
    out = run_bench(
        "bench/strip_boilerplate.py", "--stories", "40", "--throughput-stories", "40", "--reps", "1"
    )
    assert "| configuration | precision | recall |" in out
    assert "| corpus | MB | run | MB/s wall | MB/s CPU | x reference (CPU) |" in out
    assert out.count("| matcher (find + remove) |") == 3


def test_the_instruction_count_benchmark_prints_its_tables(shared_data, tmp_path):
    """The benchmark on 20 stories: under callgrind where valgrind is installed (plausible counts),
    and, with --phases, under a stand-in that runs the same commands and reports a made-up count."""
    command = ["bench/strip_boilerplate_instructions.py", "--stories", "20", "--corpus", "xwlb stories"]
    if shutil.which("valgrind"):
        out = run_bench(*command, timeout=600)
        row = next(line for line in out.splitlines() if line.startswith("| xwlb stories | 20 |"))
        rules_alone, learned = (int(cell.strip().replace(",", "")) for cell in row.split("|")[4:6])
        assert 10_000 < rules_alone < 10_000_000 and 10_000 < learned < 10_000_000
    stand_in = tmp_path / "valgrind"
    stand_in.write_text(
        '#!/bin/sh\nwhile [ "${1#--}" != "$1" ]; do shift; done\n"$@" || exit $?\n'
        'echo "==1== Collected : 1000000" >&2\n'
    )
    stand_in.chmod(0o755)
    out = run_bench(*command, "--phases", "--valgrind", str(stand_in), timeout=600)
    assert "| xwlb stories | 20 | " in out
    for label in ("split and strip the lines", "+ the literal scan", "+ annotations and stats (the step)"):
        assert f"| {label} | 0 |" in out


def test_the_hyperscan_benchmark_prints_its_table(shared_data):
    """bench/strip_boilerplate_hyperscan.py on 40 stories (hyperscan is in bench/requirements.txt)."""
    out = run_bench(
        "bench/strip_boilerplate_hyperscan.py", "--stories", "40", "--throughput-stories", "40", "--reps", "1"
    )
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| labelled set")]
    by_run = {cells[1].strip(): cells for cells in rows}
    assert set(by_run) == {
        "matcher: find",
        "matcher: literal scan",
        "Hyperscan, the literals",
        "Hyperscan, every pattern (pre-filter)",
    }
    assert by_run["matcher: find"][5].strip() == "1.00"
    # The labelled set has boilerplate of every kind: both scans report some of it.
    for run in ("Hyperscan, the literals", "Hyperscan, every pattern (pre-filter)"):
        assert float(by_run[run][4]) > 0.1 and float(by_run[run][2]) > 0
