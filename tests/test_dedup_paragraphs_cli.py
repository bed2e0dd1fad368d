"""`vocclean dedup-paragraphs` as a user runs it: options, --annotate, --dry-run, rejects."""

from __future__ import annotations

import json

from click.testing import CliRunner

from vocclean.cli import main
from vocclean.cli.dedup_paragraphs import dedup_paragraphs_command
from vocclean.steps.dedup_paragraphs import DedupParagraphs

BODY = "会议以视频形式召开，主会场设在州教育局，各县教育局设分会场。"
OTHER = "抓好职业教育是服务高质量发展的需要，迫切需要大力发展现代职业教育。"
TAIL = "扫描印象黔西南公众微信二维码，获取更多精彩内容！"


def write_jsonl(path, *records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_command_builds_the_step_with_its_options():
    step = dedup_paragraphs_command.main(
        ["--similarity", "0.9", "--min-chars", "12", "--max-docs-with-paragraph", "4", "--dry-run"],
        standalone_mode=False,
    )
    assert isinstance(step, DedupParagraphs)
    assert (step.similarity, step.min_chars, step.max_docs_with_paragraph) == (0.9, 12, 4)
    assert step.across_docs and step.dry_run and not step.per_record


def test_defaults_are_the_step_defaults():
    step = dedup_paragraphs_command.main([], standalone_mode=False)
    default = DedupParagraphs()
    for option in ("similarity", "min_chars", "min_exact_chars", "max_edit_regions", "across_docs"):
        assert getattr(step, option) == getattr(default, option), option


def test_annotate_writes_what_was_removed(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", {"id": "a", "text": f"{BODY}\n{OTHER}\n{BODY}"})
    result = CliRunner().invoke(main, ["-i", str(source), "--annotate", "dedup-paragraphs"])
    assert result.exit_code == 0, result.output
    [record] = read_jsonl(result.stdout)
    assert record["text"] == f"{BODY}\n{OTHER}"
    [entry] = record["vocclean"]["repeated_paragraphs"]
    assert (entry["paragraph"], entry["repeats"], entry["similarity"]) == (2, 0, 1.0)


def test_dry_run_prints_removals_on_stderr_and_changes_nothing(tmp_path):
    text = f"{BODY}\n{OTHER}\n{BODY}"
    source = write_jsonl(tmp_path / "in.jsonl", {"id": "a", "text": text})
    result = CliRunner().invoke(main, ["-i", str(source), "--annotate", "dedup-paragraphs", "--dry-run"])
    assert result.exit_code == 0, result.output
    [record] = read_jsonl(result.stdout)
    assert record["text"] == text
    assert "repeated_paragraphs" not in record.get("vocclean", {})
    assert "would remove a paragraph 2 (repeats 0" in result.stderr


def test_across_docs_sends_emptied_documents_to_rejects(tmp_path):
    source = write_jsonl(
        tmp_path / "in.jsonl",
        {"id": "a", "text": f"{BODY}\n{TAIL}"},
        {"id": "b", "text": f"{OTHER}\n{TAIL}"},
        {"id": "c", "text": TAIL},
    )
    rejects = tmp_path / "rejects.jsonl"
    result = CliRunner().invoke(
        main, ["-i", str(source), "--rejects", str(rejects), "dedup-paragraphs", "--across-docs"]
    )
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in read_jsonl(result.stdout)] == [f"{BODY}\n{TAIL}", OTHER]
    [rejected] = read_jsonl(rejects.read_text(encoding="utf-8"))
    assert rejected["id"] == "c"
    assert "all paragraphs were repeats" in json.dumps(rejected, ensure_ascii=False)


def test_out_of_range_similarity_is_a_usage_error():
    result = CliRunner().invoke(main, ["dedup-paragraphs", "--similarity", "1.5"])
    assert result.exit_code == 2
