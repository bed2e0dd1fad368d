"""--report on a real run of every step: each number checked against the output and rejects files.

The corpus is the seeds plus one file per kind of damage (tests/test_check_seeds.py), cleaned
with --annotate so that what every step did is in the written and rejected records.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_check_seeds import dirty_corpus
from tests.test_properties_clean import CLEAN as CHAIN
from tests.test_report import figures
from vocclean.cli import main


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module", params=["1", "2"], ids=["serial", "two-workers"])
def cleaned(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"run-j{request.param}")
    corpus = root / "corpus"
    corpus.mkdir()
    dirty_corpus(corpus)
    out, rejects = root / "out.jsonl", root / "rejects.jsonl"
    args = ["-i", str(corpus), "-o", str(out), "--rejects", str(rejects), "--annotate", "-j", request.param]
    reports = ["--report", str(root / "report.json"), "--report", str(root / "report.html")]
    result = CliRunner().invoke(main, [*args, *reports, *CHAIN])  # one run, both reports
    assert result.exit_code == 1, result.output  # the corpus has bad input on purpose
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    html = (root / "report.html").read_text(encoding="utf-8")
    return report, html, read_jsonl(out), read_jsonl(rejects)


def annotations(records: list[dict], key: str) -> list:
    return [r["vocclean"][key] for r in records if key in r.get("vocclean", {})]


def test_every_record_read_is_written_or_rejected_at_every_step(cleaned):
    report, _, written, rejects = cleaned
    assert all(check["holds"] for check in report["invariants"]), report["invariants"]
    totals = report["totals"]
    assert (totals["written"], totals["rejected"]) == (len(written), len(rejects))
    assert totals["records_in"] == len(written) + len(rejects) == 18
    assert totals["bad_input"] == sum(r["vocclean"]["rejected_by"] == "read" for r in rejects) == 2
    by_step = Counter(r["vocclean"]["rejected_by"] for r in rejects)
    assert {s["name"]: s["rejected"] for s in report["steps"] if s["rejected"]} == by_step


def test_lines_and_prefixes_removed_by_kind_and_rule_match_the_annotations(cleaned):
    report, _, written, rejects = cleaned
    entries = [e for entries in annotations(written + rejects, "boilerplate") for e in entries]
    lines = [e for e in entries if not e.get("prefix")]
    prefixes = [e for e in entries if e.get("prefix")]
    assert report["lines_removed_by_kind"] == dict(Counter(e["kind"] for e in lines))
    assert report["lines_removed_by_rule"] == dict(Counter(e["rule"] for e in lines))
    assert report["prefixes_stripped_by_kind"] == dict(Counter(e["kind"] for e in prefixes))
    assert sum(report["lines_removed_by_kind"].values()) > 10


def test_encodings_mojibake_and_scripts_match_the_annotations(cleaned):
    report, _, written, rejects = cleaned
    records = written + rejects
    assert report["encodings"] == dict(Counter(annotations(records, "encoding")))
    assert report["encodings"]["gb18030"] == 1
    mojibake = [fix["kind"] for fixes in annotations(records, "mojibake") for fix in fixes]
    assert report["mojibake"] == dict(Counter(mojibake)) and mojibake
    assert report["scripts"] == dict(Counter(annotations(records, "script")))


def test_duplicates_and_cluster_sizes_match_the_rejected_copies(cleaned):
    report, _, _, rejects = cleaned
    copies = [r["vocclean"] for r in rejects if r["vocclean"]["rejected_by"] == "dedup-articles"]
    assert report["duplicates"] == dict(Counter(c["duplicate_kind"] for c in copies))
    per_cluster = Counter(c["duplicate_of"] for c in copies)
    assert report["cluster_sizes"] == dict(Counter(str(n + 1) for n in per_cluster.values()))


def test_repeated_paragraphs_match_the_annotations(cleaned):
    report, _, written, rejects = cleaned
    removed = [p for entries in annotations(written + rejects, "repeated_paragraphs") for p in entries]
    assert sum(report["paragraphs_removed_by_kind"].values()) == len(removed) > 0


def test_the_html_report_draws_the_same_numbers(cleaned):
    report, html, _, _ = cleaned
    charts = figures(html)
    assert charts["Lines removed by kind"] == report["lines_removed_by_kind"]
    assert charts["Encodings seen"] == report["encodings"]
    assert charts["Duplicate clusters by size (number of clusters)"] == report["cluster_sizes"]
    flow = charts["Records per step"]
    assert sum(v for k, v in flow.items() if k.endswith(" rejected")) == report["totals"]["rejected"]


def test_characters_removed_match_the_lines_removed_where_annotations_hold_them_whole(cleaned):
    report, _, written, rejects = cleaned
    entries = [e for entries in annotations(written + rejects, "boilerplate") for e in entries]
    whole = {e["kind"] for e in entries} - {e["kind"] for e in entries if e["line"].endswith("…")}
    assert whole, "no kind whose removed lines are all short enough to recount"
    for kind in whole:
        chars = sum(len(e["line"]) for e in entries if e["kind"] == kind)
        assert report["chars_removed_by_kind"][kind] == chars, kind


def test_fix_encoding_counters_match_its_annotations(cleaned):
    report, _, written, rejects = cleaned
    counters = next(s["counters"] for s in report["steps"] if s["name"] == "fix-encoding")
    records = written + rejects
    assert counters["junk_removed"]["chars"] == sum(annotations(records, "junk_removed"))
    assert counters["unrecoverable"]["docs"] == len(annotations(records, "unrecoverable"))


def test_rejection_reasons_add_up_per_step(cleaned):
    report, _, _, rejects = cleaned
    by_step = Counter()
    for reason in report["rejections"]:
        by_step[reason["step"]] += reason["records"]
    assert by_step == Counter(r["vocclean"]["rejected_by"] for r in rejects)
