"""`vocclean check`: the detectors, thresholds and output formats (on stand-in steps)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO
from tests.fake_steps import FakeStripBoilerplate, fake_chain
from vocclean.check import KINDS, Thresholds, check_records, parse_kinds
from vocclean.check.checker import format_rate
from vocclean.check.formats import render
from vocclean.record import Record
from vocclean.steps.base import RecordStep

CASES = [json.loads(line) for line in (REPO / "tests/cases/check/findings.jsonl").read_text().splitlines()]
BASE = CASES[0]["text"]
QR_LINE = "扫描二维码关注我们，获取更多精彩内容"
OTHER = (
    "本届运动会共设田径、游泳、体操等二十个大项，"
    "来自全国各地的三千余名运动员将在未来十天里展开角逐，争夺各项冠军。"
)
# Kinds that come from the corpus as a whole or from the reader, tested on their own below.
NOT_PER_RECORD = {"invalid-record", "duplicate-exact", "duplicate-near", "step-error", "rejected"}


def record_of(case: dict, number: int = 7) -> Record:
    if "raw_gb18030" in case:
        raw = case["raw_gb18030"].encode("gb18030")
        return Record(id=f"case{number}.txt", text=None, raw=raw, source=f"corpus/case{number}.txt")
    if "raw_hex" in case:
        raw = bytes.fromhex(case["raw_hex"])
        return Record(id=f"case{number}.txt", text=None, raw=raw, source=f"corpus/case{number}.txt")
    return Record(id=f"case{number}", text=case["text"], source=f"corpus.jsonl:{number}")


def records(*texts: str) -> list[Record]:
    return [Record(id=f"r{n}", text=text, source=f"c.jsonl:{n}") for n, text in enumerate(texts, 1)]


@pytest.mark.parametrize("case", CASES, ids=[case["label"] for case in CASES])
def test_each_kind_of_finding_is_found_in_its_record(case):
    record = record_of(case)
    result = check_records([record], fake_chain())
    assert {f.kind for f in result.findings} == set(case["kinds"])
    for finding in result.findings:
        assert finding.record_id == record.id
        assert finding.file in ("corpus.jsonl", "corpus/case7.txt")
    assert result.records == 1


def test_the_cases_cover_every_kind_found_in_one_record():
    covered = {kind for case in CASES for kind in case["kinds"]}
    assert covered == set(KINDS) - NOT_PER_RECORD


def test_exact_and_near_copies_are_duplicates_of_the_first():
    near = BASE.replace("沈阳", "大连")
    result = check_records(records(BASE, BASE, near), fake_chain())
    found = [(f.kind, f.record_id) for f in result.findings]
    assert found == [("duplicate-exact", "r2"), ("duplicate-near", "r3")]
    assert "copy of r1" in result.findings[0].message
    assert result.rates["duplicate"] == pytest.approx(2 / 3)


def test_a_step_that_fails_on_a_record_is_a_step_error_and_fails_the_check():
    class Broken(RecordStep):
        name = "broken"

        def process(self, record: Record) -> Record:
            raise RuntimeError("boom")

    result = check_records(records(BASE), [Broken()])
    assert [f.kind for f in result.findings] == ["step-error"]
    assert "boom" in result.findings[0].message
    assert not result.passed


def test_lines_of_plain_text_files_are_found_in_the_file():
    text = f"{BASE}\n\n{QR_LINE}\n{BASE}"
    record = Record(id="a.txt", text=None, raw=text.encode(), source="corpus/a.txt")
    result = check_records([record], fake_chain())
    lines = {f.kind: f.line for f in result.findings}
    assert lines == {"boilerplate": 3, "repeated-paragraph": 4}
    assert result.findings[0].where.startswith("corpus/a.txt:")
    # the file name says which article it is: the text report does not repeat the id
    assert "corpus/a.txt:3: boilerplate: boilerplate (qr-follow" in render(result, "text")


def test_lines_of_a_converted_plain_text_file_are_found_and_quoted_as_the_file_has_them():
    """The steps quote a Traditional file's lines in Simplified, with full-width commas: the
    collector finds them in the text as the steps saw it, then gives the file's line at that
    number, and quotes it."""
    article, qr_line = BASE.replace("国", "國"), "扫描二维码,关注這國帐号"
    text = f"{article}\n\n{qr_line}\n{article}"
    record = Record(id="t.txt", text=None, raw=text.encode(), source="corpus/t.txt")
    result = check_records([record], fake_chain())
    found = {f.kind: (f.line, f.message) for f in result.findings if f.line is not None}
    assert found == {
        "boilerplate": (3, f"boilerplate (qr-follow, rule zh-qr-scan): '{qr_line}'"),
        "repeated-paragraph": (4, f"repeated paragraph: '{article}'"),
    }
    assert "other-script" in {f.kind for f in result.findings}  # the steps did convert it


def test_a_converted_jsonl_record_is_quoted_as_the_steps_made_it():
    (record,) = records(f"{BASE.replace('国', '國')}\n扫描二维码,关注這國帐号")
    (finding,) = [f for f in check_records([record], fake_chain()).findings if f.kind == "boilerplate"]
    assert (finding.line, finding.message) == (
        1,
        "boilerplate (qr-follow, rule zh-qr-scan): '扫描二维码，关注这国帐号'",
    )


def test_jsonl_findings_point_at_the_record_line():
    result = check_records(records(OTHER, f"{BASE}\n{QR_LINE}"), fake_chain())
    assert [(f.file, f.line) for f in result.findings] == [("c.jsonl", 2)]


def test_annotations_from_an_earlier_run_are_not_findings():
    (record,) = records(BASE)
    record.annotations = {"boilerplate": [{"line": QR_LINE, "kind": "qr-follow"}], "script": "mixed"}
    result = check_records([record], fake_chain())
    assert result.findings == [] and result.passed


def test_a_rate_at_its_maximum_passes_and_above_it_fails():
    dirty = f"{BASE}\n{QR_LINE}"
    at_max = check_records(records(dirty, *[BASE + str(n) for n in range(19)]), [FakeStripBoilerplate()])
    assert at_max.rates["boilerplate"] == pytest.approx(0.05) and at_max.passed
    above = check_records(
        records(dirty, dirty, *[BASE + str(n) for n in range(18)]), [FakeStripBoilerplate()]
    )
    assert above.failures == ["boilerplate rate 0.100 > 0.05"]


@pytest.mark.parametrize(
    ("rate", "limit", "shown"),
    [
        (0.6, 0.05, "0.600"),
        (4 / 3000, 0.001, "0.0013"),  # not "0.001 > 0.001"
        (0.0010004, 0.001, "0.0010004"),
        (0.01041, 0.0104, "0.01041"),  # 3 decimals round it to 0.010, below its maximum
        (0.04951, 0.0496, "0.0495"),  # a passing rate that 3 decimals would show above its maximum
        (0.001, 0.001, "0.001"),
    ],
)
def test_a_rate_is_shown_with_the_decimals_that_put_it_on_its_side_of_the_maximum(rate, limit, shown):
    assert format_rate(rate, limit) == shown


def test_a_rate_just_above_its_maximum_never_reads_as_equal_to_it():
    dirty = f"{BASE}\n{QR_LINE}"
    texts = [f"{dirty}{n}" if n < 4 else f"{BASE}{n}" for n in range(3000)]
    thresholds = Thresholds(max_rates={"duplicate": 0.01, "mojibake": 0.001, "boilerplate": 0.001})
    result = check_records(records(*texts), [FakeStripBoilerplate()], thresholds)
    assert result.failures == ["boilerplate rate 0.0013 > 0.001"]
    assert "boilerplate rate   0.0013  max 0.001    FAIL" in render(result, "text")
    assert 'message="boilerplate rate 0.0013 &gt; 0.001"' in render(result, "junit")


def test_no_records_fail_the_check_unless_min_records_is_0():
    result = check_records([], fake_chain())
    assert result.failures == ["no records read (--min-records 1)"]
    assert "records                 0      min 1    FAIL" in render(result, "text")
    suite = ET.fromstring(render(result, "junit")).find("testsuite")
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["min-records"]
    assert check_records([], fake_chain(), Thresholds(min_records=0)).passed
    fewer = check_records(records(BASE), fake_chain(), Thresholds(min_records=2))
    assert fewer.failures == ["only 1 record(s) read (--min-records 2)"]


def test_fail_on_makes_one_finding_of_a_kind_fail():
    texts = ("短",)
    assert check_records(records(*texts), fake_chain()).passed
    strict = Thresholds(fail_on=parse_kinds("tiny"))
    result = check_records(records(*texts), fake_chain(), strict)
    assert result.failures == ["1 tiny finding(s) (--fail-on tiny)"]


def test_fail_on_accepts_all_none_and_lists_and_refuses_unknown_kinds():
    assert parse_kinds("all") == frozenset(KINDS)
    assert parse_kinds("none") == frozenset()
    assert parse_kinds(["tiny", "empty"]) == {"tiny", "empty"}
    with pytest.raises(ValueError, match="unknown kind 'tiney'"):
        parse_kinds("tiny,tiney")


def test_max_findings_limits_the_list_not_the_counts():
    dirty = f"{BASE}\n{QR_LINE}"
    result = check_records(
        records(dirty, dirty + "。", dirty + "！"), [FakeStripBoilerplate()], max_findings=1
    )
    assert len(result.findings) == 1
    assert result.kinds["boilerplate"].findings == 3 and result.omitted == {"boilerplate": 2}
    assert "and 2 more boilerplate finding(s)" in render(result, "text")


def test_counts_are_per_record_and_per_finding():
    two_lines = f"{BASE}\n{QR_LINE}\n免责声明：仅供参考"
    result = check_records(records(two_lines, BASE), [FakeStripBoilerplate()])
    assert (result.kinds["boilerplate"].records, result.kinds["boilerplate"].findings) == (1, 2)
    assert result.rates["boilerplate"] == 0.5


def dirty_result():
    return check_records(records(f"{BASE}\n{QR_LINE}", "短", OTHER), fake_chain())


def test_json_format_holds_the_same_numbers_as_the_result():
    result = dirty_result()
    data = json.loads(render(result, "json"))
    assert data["passed"] is False and data["records"] == 3
    assert data["kinds"]["boilerplate"] == {"records": 1, "findings": 1}
    assert [f["kind"] for f in data["findings"]] == ["boilerplate", "tiny"]
    assert data["failures"] == result.failures
    assert data["steps"][0]["records_in"] == 3


def test_junit_format_has_a_failing_case_per_failing_threshold_and_kind():
    root = ET.fromstring(render(dirty_result(), "junit"))
    suite = root.find("testsuite")
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {"max-boilerplate-rate", "boilerplate"}
    assert (
        suite.get("failures") == "2" and int(suite.get("tests")) == len(KINDS) + 4
    )  # + min-records, 3 rates
    tiny = next(case for case in suite.iter("testcase") if case.get("name") == "tiny")
    assert "c.jsonl:2: r2" in tiny.find("system-out").text


def test_junit_format_survives_control_characters_in_findings():
    record = Record(id="bad\x01id", text=f"{BASE}\n扫描二维码\x02关注", source="c.jsonl:1")
    xml = render(check_records([record], [FakeStripBoilerplate()]), "junit")
    assert ET.fromstring(xml) is not None and "\\x02" in xml


# ESC [2J clears a terminal; \x9b is the one-character (C1) form of ESC [.
HOSTILE_ID = "id\x1b[2J\x9b31m\x7f"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # every control character but the newline


@pytest.mark.parametrize("report_format", ["text", "json", "junit", "github"])
def test_no_format_writes_a_control_character_from_an_id_or_a_quote(report_format):
    record = Record(id=HOSTILE_ID, text=f"{BASE}\n扫描二维码\x01关注", source="c\x1b.jsonl:1")
    report = render(check_records([record], [FakeStripBoilerplate()]), report_format)
    assert CONTROL.search(report) is None
    if report_format == "json":
        finding = json.loads(report)["findings"][0]
        assert (finding["id"], finding["file"]) == (HOSTILE_ID, "c\x1b.jsonl")
    else:
        assert "id\\x1b[2J\\x9b31m\\x7f" in report and "扫描二维码\\x01关注" in report


def test_github_format_annotates_each_finding_with_file_and_line():
    lines = render(dirty_result(), "github").splitlines()
    assert lines[0].startswith("::error file=c.jsonl,line=1,title=vocclean boilerplate::r1: boilerplate")
    assert lines[1].startswith("::warning file=c.jsonl,line=2,title=vocclean tiny::r2:")
    assert lines[2] == "::error title=vocclean check::boilerplate rate 0.333 > 0.05"
    assert lines[-1].startswith("::notice title=vocclean check::vocclean check: 3 record(s)")


def test_github_format_escapes_what_would_break_a_workflow_command():
    record = Record(id="x", text=f"{BASE}\n{QR_LINE} 100%", source="a,b:c.jsonl:1")
    line = render(check_records([record], [FakeStripBoilerplate()]), "github").splitlines()[0]
    assert line.startswith("::error file=a%2Cb%3Ac.jsonl,line=1,")
    assert "100%25" in line


def test_text_format_lists_findings_then_a_table_then_the_verdict():
    text = render(dirty_result(), "text")
    assert text.startswith("c.jsonl:1: boilerplate: r1: boilerplate (qr-follow, rule zh-qr-scan)")
    assert "boilerplate rate    0.333   max 0.05    FAIL" in text
    assert text.rstrip().endswith("FAILED (boilerplate rate 0.333 > 0.05)")


def test_a_check_without_steps_says_which_to_give_instead_of_passing_unchecked():
    with pytest.raises(ValueError, match="check needs the steps to run as detectors"):
        check_records([], [])
