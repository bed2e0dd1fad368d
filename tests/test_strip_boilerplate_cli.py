"""strip-boilerplate and learn-boilerplate on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import REPO
from tests.test_strip_boilerplate_learned import SHARED_SENTENCE, UNKNOWN_LINE, corpus
from vocclean.cli import main
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs

CASES = Path(__file__).parent / "cases" / "strip_boilerplate"
DOCUMENTS = json.loads((CASES / "documents.json").read_text(encoding="utf-8"))


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def invoke(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)


def test_golden_documents_through_the_cli(tmp_path):
    cases = [case for case in DOCUMENTS if not case["options"]]
    source = write_jsonl(
        tmp_path / "in.jsonl", [{"id": str(n), "text": c["input"]} for n, c in enumerate(cases)]
    )
    result = invoke("-i", str(source), "-o", str(tmp_path / "out.jsonl"), "strip-boilerplate")
    assert result.exit_code == 0, result.output
    out = read_jsonl(tmp_path / "out.jsonl")
    assert [record["text"] for record in out] == [case["expected"] for case in cases]


def test_annotate_writes_each_removal_and_rejects_an_emptied_document(tmp_path):
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {
                "id": "a",
                "text": "央视网消息（新闻联播）：长江是母亲河。\n[查看原文](https://tv.cctv.com/x.shtml)",
            },
            {"id": "b", "text": "长按识别二维码关注我们"},
        ],
    )
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    result = invoke(
        "-i", str(source), "-o", str(out), "--rejects", str(rejects), "--annotate", "strip-boilerplate"
    )
    assert result.exit_code == 0, result.output
    [kept] = read_jsonl(out)
    assert kept["text"] == "长江是母亲河。"
    assert kept["vocclean"]["removed_lines"] == 1
    assert [entry["rule"] for entry in kept["vocclean"]["boilerplate"]] == [
        "zh-cctv-lead",
        "zh-markdown-link",
    ]
    [rejected] = read_jsonl(rejects)
    assert rejected["id"] == "b"
    assert "empty after boilerplate removal" in json.dumps(rejected, ensure_ascii=False)


def test_min_chars_rejects_with_the_numbers(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "短文。\n责任编辑：王五"}])
    rejects = tmp_path / "rejects.jsonl"
    result = invoke(
        "-i", str(source), "-o", str(tmp_path / "o.jsonl"), "--rejects", str(rejects),
        "strip-boilerplate", "--min-chars", "10",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "3 characters left after boilerplate removal" in rejects.read_text(encoding="utf-8")


def test_dry_run_prints_removals_on_stderr_and_changes_nothing(tmp_path):
    text = "正文第一段。\n长按识别二维码关注我们"
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": text}])
    result = CliRunner().invoke(main, ["-i", str(source), "strip-boilerplate", "--dry-run"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["text"] == text
    assert "line 2 [qr-follow zh-qr-scan]: 长按识别二维码关注我们" in result.stderr
    assert "\x1b[" not in result.stderr  # not a terminal: no colour


def test_dry_run_is_coloured_on_a_terminal(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "正文。\n长按识别二维码关注我们"}])
    result = CliRunner().invoke(main, ["-i", str(source), "strip-boilerplate", "--dry-run"], color=True)
    assert "\x1b[" in result.stderr and "zh-qr-scan" in result.stderr


def test_list_rules_prints_every_rule_and_marks_disabled_ones():
    result = invoke("strip-boilerplate", "--list-rules", "--disable", "credit")
    assert result.exit_code == 0
    for rule in load_packs(builtin_pack_paths()):
        marker = " (disabled)" if rule.kind == "credit" else ""
        assert f"{rule.name}{marker} " in result.output
    assert result.output.startswith("NAME")


def test_unknown_disable_name_is_a_usage_error():
    result = CliRunner().invoke(main, ["strip-boilerplate", "--disable", "adverts"])
    assert result.exit_code == 2
    assert "unknown rule or kind to disable: adverts" in result.output


def test_bad_user_pack_is_a_usage_error_naming_file_and_rule(tmp_path):
    pack = tmp_path / "site.toml"
    pack.write_text(
        '[[rule]]\nname = "x"\nkind = "credit"\npattern = "(("\ncomment = "c"\nexamples = ["a"]\n'
    )
    result = CliRunner().invoke(main, ["strip-boilerplate", "--rules", str(pack)])
    assert result.exit_code == 2
    assert f"{pack}: rule 'x': bad pattern" in result.output


def test_learn_on_file_input_uses_two_passes(tmp_path):
    records = [{"id": r.id, "text": r.text} for r in corpus()]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    result = invoke("-i", str(source), "-o", str(out), "strip-boilerplate", "--learn")
    assert result.exit_code == 0, result.output
    texts = [record["text"] for record in read_jsonl(out)]
    assert len(texts) == 1000
    assert not any(UNKNOWN_LINE in text for text in texts)
    assert SHARED_SENTENCE in texts[3] and SHARED_SENTENCE in texts[700]


def test_learn_on_stdin_uses_the_first_window():
    records = "".join(json.dumps({"id": r.id, "text": r.text}, ensure_ascii=False) + "\n" for r in corpus())
    done = subprocess.run(
        [sys.executable, "-m", "vocclean", "strip-boilerplate", "--learn", "--learn-window", "1000"],
        input=records.encode(),
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    texts = [json.loads(line)["text"] for line in done.stdout.decode().splitlines()]
    assert len(texts) == 1000
    assert not any(UNKNOWN_LINE in text for text in texts)


def test_learn_boilerplate_writes_a_model_that_strip_boilerplate_applies(tmp_path):
    records = [{"id": r.id, "text": r.text} for r in corpus()]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    model = tmp_path / "model.json"
    passed = tmp_path / "passed.jsonl"
    result = invoke("-i", str(source), "-o", str(passed), "learn-boilerplate", "--model", str(model))
    assert result.exit_code == 0, result.output
    assert read_jsonl(passed) == records  # records pass through unchanged
    assert json.loads(model.read_text(encoding="utf-8"))["documents"] == 1000
    out = tmp_path / "out.jsonl"
    result = invoke("-i", str(source), "-o", str(out), "strip-boilerplate", "--model", str(model))
    assert result.exit_code == 0, result.output
    assert not any(UNKNOWN_LINE in record["text"] for record in read_jsonl(out))


def test_a_missing_model_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["strip-boilerplate", "--model", str(tmp_path / "none.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.parametrize("command", ["strip-boilerplate", "learn-boilerplate"])
def test_help_has_an_example(command):
    result = invoke(command, "--help")
    assert "Example" in result.output and "vocclean -i" in result.output
