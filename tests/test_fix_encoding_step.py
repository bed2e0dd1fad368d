"""fix-encoding as a step and a command: annotations, stats, rejects, options, pickling, the bench."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES, REPO
from vocclean.cli.fix_encoding import fix_encoding_command
from vocclean.record import Record
from vocclean.steps.fix_encoding import FixEncoding

SAMPLES = FIXTURES / "fix_encoding"


def _raw(name: str) -> Record:
    return Record(id=name, text=None, raw=(SAMPLES / name).read_bytes())


def _records(name: str) -> list[Record]:
    lines = (SAMPLES / name).read_text(encoding="utf-8").split("\n")
    return [Record(id=r["id"], text=r["text"]) for r in map(json.loads, filter(None, lines))]


def test_raw_bytes_are_decoded_and_raw_is_cleared():
    step = FixEncoding()
    record = step.process(_raw("xwlb_20220924-02.gb18030.txt"))
    assert record.text == (SAMPLES / "xwlb_20220924-02.utf8.txt").read_text(encoding="utf-8")
    assert record.raw is None
    assert record.annotations == {"encoding": "gb18030"}
    assert step.stats["encoding/gb18030"] == 1


def test_forced_encoding_annotates_replaced_bytes():
    record = FixEncoding(encoding="big5").process(
        Record(id="x", text=None, raw="中國".encode("big5") + b"\xff")
    )
    assert record.text == "中國\ufffd"
    assert record.annotations["encoding"] == "big5hkscs"
    assert record.annotations["replaced_bytes"] == 1


@pytest.mark.parametrize("encoding", [None, "gbk", "utf-8", "latin-1"])
def test_a_png_is_rejected_with_a_reason(encoding):
    """A forced --encoding still rejects a file whose signature says it is not text."""
    record = FixEncoding(encoding=encoding).process(_raw("not_text.png"))
    assert record.rejected
    assert record.rejection.step == "fix-encoding"
    assert record.rejection.reason == "binary data, not text (PNG image signature)"


def test_each_kind_of_damage_is_annotated_and_counted():
    step = FixEncoding()
    out = {r.id: step.process(r) for r in _records("mojibake.jsonl")}
    assert out["clean"].annotations == {}
    # The fixture's last character lost its last byte (the text ends just after it): guessed.
    assert [m["kind"] for m in out["utf8-as-gbk"].annotations["mojibake"]] == ["utf8-as-gbk", "guessed-char"]
    assert out["utf8-as-gbk"].text == out["clean"].text
    assert out["gbk-as-latin1"].annotations["mojibake"][0]["kind"] == "gbk-as-latin1"
    assert out["utf8-as-cp1252"].text == "新闻 中文 报道"
    assert out["junk"].annotations == {"junk_removed": 2}
    assert out["unrecoverable"].annotations["unrecoverable"] == {"chars": 13, "ratio": round(13 / 19, 4)}
    assert step.stats["mojibake/utf8-as-gbk"] == 1
    assert step.stats["mojibake/ftfy"] == 1
    assert step.stats["unrecoverable/docs"] == 1
    assert step.stats["junk_removed/chars"] == 2


def test_a_control_character_inside_a_mojibake_run_does_not_block_its_repair():
    mojibake = "中华人民共和国".encode("gb18030").decode("latin-1")
    record = FixEncoding().process(Record(id="x", text=mojibake[:1] + "\x1f" + mojibake[1:]))
    assert record.text == "中华人民共和国"
    assert record.annotations["junk_removed"] == 1


def test_drop_unrecoverable_rejects_above_the_ratio_only():
    step = FixEncoding(drop_unrecoverable=0.5)
    out = {r.id: step.process(r) for r in _records("mojibake.jsonl")}
    assert [rid for rid, r in out.items() if r.rejected] == ["unrecoverable"]
    assert out["unrecoverable"].rejection.details == {"chars": 13, "ratio": round(13 / 19, 4)}
    assert (
        "13 of 19 characters, 68.4% (above --drop-unrecoverable 0.5)" in out["unrecoverable"].rejection.reason
    )
    # At a threshold the rounded ratio equals, the counts say why it is above.
    close = FixEncoding(drop_unrecoverable=0.6842).process(_records("mojibake.jsonl")[4])
    assert close.rejected and "13 of 19 characters" in close.rejection.reason


def test_step_survives_pickling():
    step = pickle.loads(pickle.dumps(FixEncoding(encoding="gbk", drop_unrecoverable=0.1)))
    assert (step.encoding, step.drop_unrecoverable) == ("gb18030", 0.1)


def test_no_guess_lost_bytes_leaves_replacement_characters():
    mojibake = "8月1日出版的第15期杂志".encode().decode("gb18030", errors="replace")
    guessed = FixEncoding().process(Record(id="x", text=mojibake))
    kept = FixEncoding(guess_lost_bytes=False).process(Record(id="x", text=mojibake))
    assert guessed.text == "8月1日出版的第15期杂志"
    assert kept.text == "8\ufffd1日出版的\ufffd15期杂\ufffd"
    assert kept.annotations["unrecoverable"]["chars"] == 3
    result = CliRunner().invoke(fix_encoding_command, ["--no-guess-lost-bytes"], standalone_mode=False)
    assert result.return_value.guess_lost_bytes is False


def test_command_builds_the_step_from_its_options():
    result = CliRunner().invoke(
        fix_encoding_command, ["--encoding", "GBK", "--drop-unrecoverable", "0.05"], standalone_mode=False
    )
    assert result.exception is None
    assert (result.return_value.encoding, result.return_value.drop_unrecoverable) == ("gb18030", 0.05)


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--encoding", "nope"], "unknown encoding 'nope'"), (["--drop-unrecoverable", "2"], "0.0<=x<=1.0")],
)
def test_command_rejects_bad_options(args, message):
    result = CliRunner().invoke(fix_encoding_command, args)
    assert result.exit_code == 2
    assert message in result.output


def test_help_has_an_example():
    result = CliRunner().invoke(fix_encoding_command, ["--help"])
    assert "vocclean -i dump/ -o fixed.jsonl --annotate fix-encoding" in result.output


def test_bench_runs_and_prints_its_tables():
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "fix_encoding.py"),
            "--docs",
            "40",
            "--reps",
            "1",
            "--lines",
            "30",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "| vocclean FixEncoding |" in result.stdout
    assert "| ftfy.fix_text (defaults) |" in result.stdout
    assert "| GBK read as latin-1 |" in result.stdout
