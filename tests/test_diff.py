"""`vocclean diff`: one record before and after a chain, removals and changes marked."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.conftest import REPO
from tests.fake_steps import fake_chain
from tests.test_check import BASE, OTHER, QR_LINE
from tests.test_report import write_corpus
from vocclean.cli import main
from vocclean.cli.diff import render_trace
from vocclean.errors import VoccleanError
from vocclean.report.record_diff import diff_lines
from vocclean.report.record_trace import trace_record
from vocclean.runner import RunOptions

CASES = [json.loads(line) for line in (REPO / "tests/cases/diff/lines.jsonl").read_text().splitlines()]
REPEATED = "会议强调要牢记使命担当。"


@pytest.mark.parametrize("case", CASES, ids=[case["label"] for case in CASES])
def test_lines_are_aligned_and_classified(case):
    lines = diff_lines(case["before"], case["after"])
    assert [[line.op, line.before, line.after] for line in lines] == case["lines"]
    if "spans" in case:
        changed = [line for line in lines if line.op == "changed"]
        assert [[[s.op, s.text] for s in line.spans] for line in changed] == case["spans"]


@pytest.fixture
def corpus(tmp_path):
    return str(write_corpus(tmp_path / "corpus.jsonl"))


def test_a_trace_shows_removed_lines_with_their_rule_and_changes_inside_lines(corpus):
    trace = trace_record(fake_chain(), RunOptions(inputs=(corpus,)), "boiler")
    text = render_trace(trace)
    assert text.startswith(f"boiler ({corpus}:1) through fix-encoding, normalize-script, strip-boilerplate")
    assert f"- {QR_LINE}   [qr-follow · zh-qr-scan]" in text.splitlines()
    assert f"  {BASE}" in text.splitlines()
    assert "2 line(s) removed, 0 changed, 0 added, 1 unchanged" in text
    assert '  boilerplate: [{"line": "' in text


def test_a_trace_marks_characters_changed_inside_a_line(corpus):
    text = render_trace(trace_record(fake_chain(), RunOptions(inputs=(corpus,)), "commas"))
    assert "~ 今天天气很好[-,-]{+，+}我们去公园散步[-,-]{+，+}" in text


def test_a_record_dropped_as_a_duplicate_of_an_earlier_one_says_so(corpus):
    text = render_trace(trace_record(fake_chain(), RunOptions(inputs=(corpus,)), "copy"))
    assert (
        'rejected by dedup-articles: duplicate of boiler {"duplicate_of": "boiler", "similarity": 1.0}'
        in text
    )
    assert f"- {BASE}" in text


def test_a_record_can_be_named_by_its_file_and_line(corpus):
    trace = trace_record(fake_chain(), RunOptions(inputs=(corpus,)), f"{corpus}:2")
    assert trace.record.id == "twice" and trace.before == f"{OTHER}\n{OTHER}"


def test_an_unknown_id_is_an_error_naming_the_input(corpus):
    with pytest.raises(VoccleanError, match=f"no record with id 'nope' in {corpus}"):
        trace_record(fake_chain(), RunOptions(inputs=(corpus,)), "nope")


def test_colour_strikes_removed_lines_through(corpus):
    text = render_trace(trace_record(fake_chain(), RunOptions(inputs=(corpus,)), "boiler"), color=True)
    assert "\x1b[9m" in text and "\x1b[31m" in text


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def doc(tmp_path):
    path = tmp_path / "doc.jsonl"
    records = [
        {"id": "doc", "text": f"{OTHER}\n{REPEATED}\n{REPEATED}"},
        {"id": "clean", "text": OTHER},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_diff_options_come_first_and_the_steps_after(doc):
    result = CliRunner().invoke(main, ["diff", "-i", doc, "--id", "doc", "dedup-paragraphs"])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == f"doc ({doc}:1) through decode, dedup-paragraphs"
    assert f"- {REPEATED}   [repeated paragraphs]" in result.stdout.splitlines()
    assert "1 line(s) removed, 0 changed, 0 added, 2 unchanged" in result.stdout


def test_diff_also_reads_the_global_input(doc):
    chained = CliRunner().invoke(main, ["-i", doc, "diff", "--id", "doc", "dedup-paragraphs"])
    direct = CliRunner().invoke(main, ["diff", "-i", doc, "--id", "doc", "dedup-paragraphs"])
    assert chained.stdout == direct.stdout and chained.exit_code == 1


def test_diff_exits_0_when_the_chain_leaves_the_record_unchanged(doc):
    result = CliRunner().invoke(main, ["diff", "-i", doc, "--id", "clean", "dedup-paragraphs"])
    assert result.exit_code == 0
    assert "0 line(s) removed, 0 changed, 0 added, 1 unchanged" in result.stdout


def test_diff_of_a_missing_record_exits_2(doc):
    result = CliRunner().invoke(main, ["diff", "-i", doc, "--id", "missing", "dedup-paragraphs"])
    assert result.exit_code == 2
    assert f"vocclean: no record with id 'missing' in {doc}" in result.output


def test_diff_and_check_cannot_share_a_chain(doc):
    result = CliRunner().invoke(main, ["-i", doc, "diff", "--id", "doc", "check"])
    assert result.exit_code == 2 and "diff and check cannot be used in the same chain" in result.output
