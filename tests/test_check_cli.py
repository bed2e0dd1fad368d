"""`vocclean check` as CI runs it: exit codes, where the report goes, what it leaves alone."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from tests.conftest import REPO
from tests.test_check import BASE, OTHER
from tests.test_io_writers import is_null_device, null_device
from vocclean.check import checker
from vocclean.cli import main
from vocclean.io.spool import Spool

REPEATED = "会议强调要牢记使命担当。"


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"id": "doc", "text": f"{OTHER}\n{REPEATED}\n{REPEATED}"}, ensure_ascii=False),
        "{broken",
        json.dumps({"id": "clean", "text": BASE}, ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def vocclean(*args: str):
    return CliRunner().invoke(main, list(args))


def test_an_invalid_record_is_reported_at_its_line_and_fails(corpus):
    result = vocclean("-i", str(corpus), "check")
    assert result.exit_code == 1
    assert f"{corpus}:2: invalid-record: {corpus}:2: invalid JSON" in result.stdout
    assert "FAILED (1 invalid-record finding(s) (--fail-on invalid-record))" in result.stdout


def test_check_passes_with_exit_0_when_every_threshold_holds(corpus):
    result = vocclean("-i", str(corpus), "check", "--fail-on", "none")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith(": passed")


def test_a_missing_input_or_a_bad_option_exits_2(tmp_path, corpus):
    assert vocclean("-i", str(tmp_path / "missing.jsonl"), "check").exit_code == 2
    assert vocclean("-i", str(corpus), "check", "--max-duplicate-rate", "2").exit_code == 2
    assert vocclean("-i", str(corpus), "check", "--fail-on", "tiney").exit_code == 2
    assert vocclean("-i", str(corpus), "--rejects", str(tmp_path / "r.jsonl"), "check").exit_code == 2
    assert vocclean("-i", str(corpus), "--report", str(tmp_path / "r.html"), "check").exit_code == 2


@pytest.mark.parametrize("target", ["reports/", "existing"])
def test_an_output_that_names_a_directory_is_refused_with_exit_2(tmp_path, corpus, target):
    (tmp_path / "existing").mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = vocclean("-i", str(corpus), "-o", f"{tmp_path}/{target}", "check")
    assert result.exit_code == 2
    assert "check writes one report file" in result.stderr and "names a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no file named reports, no temporary


def test_an_empty_input_fails_unless_min_records_is_0(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    result = vocclean("-i", str(empty), "check")
    assert result.exit_code == 1
    assert result.stdout.rstrip().endswith("FAILED (no records read (--min-records 1))")
    assert CliRunner().invoke(main, ["check"], input="").exit_code == 1  # empty stdin
    assert vocclean("-i", str(empty), "check", "--min-records", "0").exit_code == 0


def test_progress_is_shown_when_asked_and_only_then(corpus):
    shown = vocclean("--progress", "-i", str(corpus), "check")
    assert "3 records" in shown.stderr and "MB/s" in shown.stderr
    assert shown.stdout == vocclean("-i", str(corpus), "check").stdout
    assert "MB/s" not in vocclean("-i", str(corpus), "check").stderr  # not a terminal


def test_check_changes_nothing_and_writes_nothing(tmp_path, corpus):
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    vocclean("-i", str(corpus), "check")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_the_report_goes_to_the_global_output_file_and_a_summary_to_stderr(tmp_path, corpus):
    target = tmp_path / "check.xml"
    result = vocclean("-i", str(corpus), "-o", str(target), "check", "--format", "junit")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith("vocclean check: 3 record(s)")
    suite = ET.parse(target).getroot().find("testsuite")
    failed = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert failed == ["invalid-record"]


def test_the_report_to_a_device_or_through_a_symbolic_link_leaves_them_in_place(tmp_path, corpus):
    device = null_device(tmp_path / "null")
    link = tmp_path / "check.json"
    link.symlink_to("reports/check.json")
    (tmp_path / "reports").mkdir()
    assert vocclean("-i", str(corpus), "-o", str(device), "check").exit_code == 1
    assert vocclean("-i", str(corpus), "-o", str(link), "check", "--format", "json").exit_code == 1
    assert is_null_device(device) and os.readlink(link) == "reports/check.json"
    assert json.loads((tmp_path / "reports" / "check.json").read_text(encoding="utf-8"))["records"] == 3
    assert not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["PYTHONUNBUFFERED", "buffered"])
def test_a_report_cut_short_by_head_ends_quietly_with_exit_141(tmp_path, unbuffered):
    """CI must not take ``check | head`` for a pass. The report (1.2 MB: every record is tiny
    and boilerplate) is far longer than a pipe holds, so head leaves before it is written.
    PYTHONUNBUFFERED made the rest of an interrupted write vanish without an error."""
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(f'{{"id": "d{n}", "text": "第{n}条"}}\n' for n in range(5000)), encoding="utf-8")
    vocclean_check = shlex.join([sys.executable, "-m", "vocclean", "-i", str(path), "check"])
    command = f"{vocclean_check} --max-findings 0 --fail-on none | head -1"
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        capture_output=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": unbuffered},
    )
    assert result.stdout.decode().startswith(f"{path}:1: ") and len(result.stdout.splitlines()) == 1
    assert result.stderr == b""
    assert result.returncode == 141


def test_steps_in_the_chain_are_the_only_detectors(corpus):
    result = vocclean("-i", str(corpus), "dedup-paragraphs", "check", "--format", "json")
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["steps"]] == ["read", "decode", "dedup-paragraphs"]
    found = {kind for kind, count in data["kinds"].items() if count["findings"]}
    assert found == {"repeated-paragraph", "invalid-record"}
    assert data["findings"][0]["line"] == 1 and data["findings"][0]["id"] == "doc"


def test_worker_processes_find_the_same(corpus):
    def findings(jobs: str) -> list:
        result = vocclean("-i", str(corpus), "-j", jobs, "check", "--format", "json")
        data = json.loads(result.stdout)
        return [data["kinds"], data["findings"], data["rates"]]

    assert findings("2") == findings("1")


def test_github_annotations_name_the_file_and_line(corpus):
    result = vocclean("-i", str(corpus), "dedup-paragraphs", "check", "--format", "github")
    assert f"::warning file={corpus},line=1,title=vocclean repeated-paragraph::doc:" in result.stdout
    assert f"::error file={corpus},line=2,title=vocclean invalid-record::" in result.stdout


def test_an_article_a_step_would_drop_for_mixed_script_is_a_mixed_script_finding(tmp_path):
    mixed = (
        "這是一個關於職業教育的報道，这是一个关于职业教育的报道，"
        "會議在瀋陽召開，会议在沈阳召开，代表参加了会议。"
    )
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps({"id": "m", "text": mixed}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = vocclean("-i", str(path), "normalize-script", "--mixed", "reject", "check", "--format", "json")
    data = json.loads(result.stdout)
    assert {f["kind"] for f in data["findings"]} == {"mixed-script"}
    assert any("normalize-script: mixed" in f["message"] for f in data["findings"])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_check_of_files_runs_the_steps_before_learning_once_and_finds_the_same(tmp_path, monkeypatch, jobs):
    """Over files, check spools (as clean does) instead of running fix-encoding and
    normalize-script twice; an earlier --annotate run's annotations count in neither way."""
    earlier = {"mojibake": 3, "script": "mixed"}
    lines = [
        json.dumps(
            {"id": f"d{n}", "text": f"{OTHER}第{n}期。\n本报记者 王明\n责任编辑：李华", "vocclean": earlier},
            ensure_ascii=False,
        )
        for n in range(40)
    ]
    lines.insert(7, "{broken")
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spools = []
    close = Spool.close
    monkeypatch.setattr(Spool, "close", lambda self: (spools.append(self), close(self)))

    def report() -> dict:
        data = json.loads(vocclean("-i", str(path), "-j", jobs, "check", "--format", "json").stdout)
        return {key: data[key] for key in ("records", "kinds", "findings", "rates", "bytes_read")}

    spooled = report()
    assert len(spools) == 1
    monkeypatch.setattr(checker, "will_spool", lambda steps: False)
    assert report() == spooled
    assert len(spools) == 1  # the second check read the file twice instead
    kinds = {kind for kind, count in spooled["kinds"].items() if count["findings"]}
    assert {"boilerplate", "invalid-record"} <= kinds
    assert not kinds & {"mojibake", "mixed-script"}  # the input's "vocclean" object is not read
    assert spooled["records"] == 41 and spooled["bytes_read"] == path.stat().st_size


@pytest.mark.parametrize("report_format", ["text", "json", "github", "junit"])
def test_an_id_with_a_lone_surrogate_is_reported_as_its_escape(tmp_path, report_format):
    source = tmp_path / "s.jsonl"
    source.write_text('{"id": "\\udc00", "text": "x"}\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "vocclean", "-i", str(source), "check", "--format", report_format],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = result.stdout.decode("utf-8")  # valid UTF-8
    if report_format == "json":
        assert json.loads(report)["findings"][0]["id"] == "\udc00"  # the escape reads back
    else:
        assert "dc00: only 1 non-blank characters" in report  # the finding names the id by its escape
