"""dedup-paragraphs: repeated paragraphs inside an article (exact, near, blocks) and the step's manners.

Golden cases are data: tests/cases/dedup_paragraphs/in_document.json (label, input,
expected text, removed paragraph numbers and their stats kinds) and keys.json (pairs
whose dedup keys must or must not be equal).
"""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO
from vocclean.record import Record
from vocclean.steps.base import RecordStep
from vocclean.steps.dedup_paragraphs import REJECT_REASON, REJECT_REASON_SHORT, DedupParagraphs
from vocclean.text.normalize_key import (
    fold_text,
    key_hash,
    line_keys,
    make_to_simplified,
    paragraph_key,
    text_key,
)
from vocclean.text.paragraphs import edit_regions, find_repeats, remove_paragraphs, split_paragraphs

CASES = REPO / "tests" / "cases" / "dedup_paragraphs"
IN_DOCUMENT = json.loads((CASES / "in_document.json").read_text(encoding="utf-8"))
KEY_PAIRS = json.loads((CASES / "keys.json").read_text(encoding="utf-8"))


def run(text: str, **options) -> tuple[Record, DedupParagraphs]:
    step = DedupParagraphs(**options)
    return step.process(Record(id="doc", text=text)), step


# --- keys ---


@pytest.mark.parametrize("case", KEY_PAIRS, ids=[c["label"] for c in KEY_PAIRS])
def test_key_folds_width_punctuation_whitespace_and_case_only(case):
    assert (text_key(case["a"]) == text_key(case["b"])) is case["equal"]


def test_key_with_script_fold_equates_traditional_and_simplified():
    to_simplified = make_to_simplified()
    assert text_key("會議強調，要牢記使命", to_simplified) == text_key("会议强调,要牢记使命")


def test_paragraph_key_is_text_key_of_one_line():
    assert paragraph_key("会议强调，ＡＢＣ。") == text_key("会议强调，ＡＢＣ。") == "会议强调abc"


def test_key_hash_is_a_stable_64_bit_number():
    value = key_hash("会议强调要牢记使命")
    assert 0 <= value < 2**64
    assert value == key_hash("会议强调要牢记使命")
    assert value != key_hash("会议强调要牢记使命担当")


def test_fold_text_keeps_punctuation_as_ascii():
    assert fold_text("会议强调，要 牢记（使命）。") == "会议强调,要 牢记(使命)."


@given(
    st.lists(
        st.text(alphabet=st.sampled_from("会议ＡＢ２0a ，。、\u3000\t-\u16a0\r"), max_size=12), max_size=8
    )
)
def test_line_keys_equal_text_key_of_each_line(lines):
    text = "\n".join(lines)
    assert line_keys(text) == [text_key(line) for line in text.split("\n")]


# --- paragraphs and repeats inside one document ---


@pytest.mark.parametrize("case", IN_DOCUMENT, ids=[c["label"] for c in IN_DOCUMENT])
def test_in_document_golden_case(case):
    record, step = run(case["input"])
    removed = record.annotations.get("repeated_paragraphs", [])
    assert record.text == case["expected"]
    assert [entry["paragraph"] for entry in removed] == case["removed"]
    for kind in set(case["kinds"]):
        assert step.stats[f"removed_paragraphs/{kind}"] == case["kinds"].count(kind)


def test_split_paragraphs_numbers_non_blank_lines_and_keeps_their_line_numbers():
    paragraphs = split_paragraphs("甲乙丙\n\n  \n丁戊己\n***\n")
    assert paragraphs.keys == ["甲乙丙", "丁戊己", ""]
    assert list(paragraphs.lines) == [0, 3, 4]


def test_edit_regions_counts_separate_differences():
    assert edit_regions("第三十七号主席令能源法", "第三十七号主席令能源法") == 0
    assert edit_regions("第三十七号主席令能源法", "第三十八号主席令能源法") == 1
    assert edit_regions("第三十七号主席令说能源法已通过", "第三十八号主席令说反洗钱法已通过") == 2


def test_near_repeat_needs_the_similarity_threshold():
    a = "会议强调要深入学习贯彻全国职业教育大会精神努力办出人民满意的职业教育"
    b = a.replace("深入学习", "认真研究")
    assert [r.paragraph for r in find_repeats([a, b], similarity=0.85)] == [1]
    assert find_repeats([a, b], similarity=0.95) == []


def test_near_repeat_is_not_looked_for_below_min_chars():
    a = "日本人士要求高市撤回错误言论"  # 14 key characters
    b = "日本人士要求高市撤回不当言论"
    assert find_repeats([a, b], min_chars=20) == []
    assert [r.kind for r in find_repeats([a, b], min_chars=10)] == ["near"]


def test_max_edit_regions_zero_turns_near_matching_off():
    a = "会议强调要深入学习贯彻全国职业教育大会精神努力办出人民满意的职业教育"
    assert find_repeats([a, a.replace("深入学习", "认真学习")], max_edit_regions=0) == []


def test_a_later_exact_copy_of_a_near_repeat_points_at_the_kept_paragraph():
    a = "会议强调要深入学习贯彻全国职业教育大会精神努力办出人民满意的职业教育"
    b = a.replace("深入学习", "认真学习")
    repeats = find_repeats([a, b, b])
    assert [(r.paragraph, r.repeats, r.kind) for r in repeats] == [(1, 0, "near"), (2, 0, "exact")]


def test_lines_that_all_start_alike_cost_a_bounded_number_of_comparisons(monkeypatch):
    from rapidfuzz import fuzz

    import vocclean.text.paragraphs as paragraphs_module

    calls = []

    class CountingFuzz:
        @staticmethod
        def ratio(a, b, score_cutoff=None):
            calls.append(1)
            return fuzz.ratio(a, b, score_cutoff=score_cutoff)

    monkeypatch.setattr(paragraphs_module, "fuzz", CountingFuzz)
    keys = [f"2022年10月{n:05d}日行情数据第{n}行收盘价格" for n in range(1000)]
    assert find_repeats(keys) == []
    assert 0 < len(calls) <= 2 * paragraphs_module.MAX_ANCHORED * len(keys)


def test_remove_paragraphs_keeps_everything_else_byte_for_byte():
    text = "  甲乙丙 \n\n丁戊己\t\n\n甲乙丙\n尾"
    assert remove_paragraphs(text, split_paragraphs(text).lines, {2}) == "  甲乙丙 \n\n丁戊己\t\n\n尾"


# --- the seeds ---


def test_seed_004_comes_out_with_one_copy_of_its_article(seeds_dir):
    text = next(seeds_dir.glob("004_*.txt")).read_text(encoding="utf-8")
    lines = text.split("\n")
    record, step = run(text)
    out = record.text.split("\n")
    # body (lines 1-10) and the boilerplate pasted with it (11-12) once, the tail (25-28) once
    assert out == lines[:12] + lines[24:]
    for line in [line for line in lines if line.strip()]:
        assert out.count(line) == 1, line
    assert step.stats["removed_paragraphs/in-doc-exact"] == 12


@pytest.mark.parametrize("seed", ["000", "001", "002", "003"])
def test_other_seeds_lose_no_line(seeds_dir, seed):
    text = next(seeds_dir.glob(f"{seed}_*.txt")).read_text(encoding="utf-8")
    record, step = run(text)
    assert record.text == text
    assert "repeated_paragraphs" not in record.annotations
    assert sum(step.stats.values()) == 0


# --- annotations, stats, rejects, dry run ---


def test_annotation_lists_paragraph_what_it_repeats_similarity_and_truncated_text():
    long_paragraph = "会议强调，" + "要深入学习贯彻全国职业教育大会精神，" * 5
    record, _ = run(f"{long_paragraph}\n另一段不同的内容写在这里。\n{long_paragraph}")
    [entry] = record.annotations["repeated_paragraphs"]
    assert entry["paragraph"] == 2
    assert entry["repeats"] == 0
    assert entry["similarity"] == 1.0
    assert entry["text"].endswith("…") and len(entry["text"]) == 60
    assert long_paragraph.startswith(entry["text"][:-1])


def test_removed_chars_counts_the_removed_lines():
    paragraph = "会议以视频形式召开，主会场设在州教育局。"
    _, step = run(f"{paragraph}\n{paragraph}")
    assert step.stats["removed_chars/dedup-paragraphs"] == len(paragraph)


def test_document_reduced_to_nothing_is_rejected_with_the_reason():
    paragraph = "扫描印象黔西南公众微信二维码，获取更多精彩内容！"
    step = DedupParagraphs(across_docs=True)
    first = step.process(Record(id="a", text=f"正文第一段的内容在这里写得很长很长很长。\n{paragraph}"))
    second = step.process(Record(id="b", text=paragraph))
    assert not first.rejected
    assert second.rejected
    assert second.rejection.step == "dedup-paragraphs"
    assert second.rejection.reason == REJECT_REASON == "all paragraphs were repeats"
    assert second.text == paragraph  # the rejects file shows what came in


def test_a_copy_left_with_only_its_short_lines_is_rejected_across_documents():
    """A second crawl loses every comparable paragraph to the first; its title and list labels
    (too short to compare) must not come out as an article."""
    body = [
        "预约平台相关对象及期程说明如下，请各位民众依照时程上网登记预约接种。",
        "今日新增本土个案为四例男性九例女性，年龄介于十岁至七十岁之间。",
    ]
    article = "\n".join(["本土新增十三例", body[0], "一、施打时程：", body[1]])
    step = DedupParagraphs(across_docs=True)
    first = step.process(Record(id="a", text=article))
    second = step.process(Record(id="b", text=article.replace("十三", "13")))
    assert not first.rejected and second.rejected
    assert second.rejection.reason == REJECT_REASON_SHORT
    assert second.text == article.replace("十三", "13")  # the rejects file shows what came in
    third = step.process(Record(id="c", text=f"{body[0]}\n另一篇文章自己的一段正文，写得足够长，可以比较。"))
    assert not third.rejected and third.text == "另一篇文章自己的一段正文，写得足够长，可以比较。"
    inside = DedupParagraphs().process(Record(id="d", text=f"短标题\n{body[0]}\n{body[0]}"))
    assert inside.text == f"短标题\n{body[0]}"  # in one document the first copy stays: never this


def test_dry_run_changes_nothing_and_reports_on_stderr(capsys):
    paragraph = "会议以视频形式召开，主会场设在州教育局。"
    text = f"{paragraph}\n另一段不同的内容写在这里。\n{paragraph}"
    record, step = run(text, dry_run=True)
    assert record.text == text
    assert record.annotations == {}
    assert not record.rejected
    err = capsys.readouterr().err
    assert "would remove doc paragraph 2" in err and "repeats 0" in err
    assert step.stats["would_remove_paragraphs/in-doc-exact"] == 1
    assert step.stats["removed_paragraphs/in-doc-exact"] == 0


def test_records_without_text_pass_through():
    record = Record(id="raw", text=None, raw=b"bytes")
    assert DedupParagraphs().process(record) is record
    assert DedupParagraphs().process(Record(id="empty", text="")).text == ""


def test_step_yields_every_record_it_receives():
    paragraph = "扫描印象黔西南公众微信二维码，获取更多精彩内容！"
    records = [Record(id=str(n), text=paragraph) for n in range(600)]
    out = list(DedupParagraphs(across_docs=True)(records))
    assert out == records
    assert sum(r.rejected for r in out) == 599


# --- design: per-article step unless across documents; picklable ---


def test_in_document_mode_is_a_per_record_step_and_across_docs_is_not():
    assert isinstance(DedupParagraphs(), RecordStep)
    assert DedupParagraphs().per_record is True
    assert DedupParagraphs(across_docs=True).per_record is False
    assert DedupParagraphs(max_docs_with_paragraph=3).per_record is False


def test_step_pickles_and_rebuilds_its_converter():
    step = DedupParagraphs(fold_script=True)
    clone = pickle.loads(pickle.dumps(step))
    text = "會議強調，要深入學習貫徹全國職業教育大會精神。\n会议强调，要深入学习贯彻全国职业教育大会精神。"
    assert clone.process(Record(id="t", text=text)).text == text.split("\n")[0]


def test_invalid_options_are_refused():
    with pytest.raises(ValueError):
        DedupParagraphs(similarity=0)
    with pytest.raises(ValueError):
        DedupParagraphs(max_docs_with_paragraph=0)


# --- properties ---

_LINES = st.sampled_from(
    [
        "会议强调，要深入学习贯彻全国职业教育大会精神，努力办出人民满意的职业教育。",
        "会议强调,要深入学习贯彻全国职业教育大会精神,努力办出人民满意的职业教育.",
        "会议强调，要认真学习贯彻全国职业教育大会精神，努力办出人民满意的职业教育。",
        "抓好职业教育是服务高质量发展的需要。",
        "2022年9月23日",
        "问：",
        "***",
        "",
        "  ",
        "The meeting was held in the form of video conference.",
    ]
)


@given(st.lists(_LINES, max_size=12), st.booleans())
def test_output_is_the_input_minus_whole_lines_and_a_second_run_changes_nothing(lines, final_break):
    text = "\n".join(lines) + ("\n" if final_break else "")
    record, _ = run(text)
    out = record.text
    # every kept line is an input line, in input order
    remaining = iter(text.split("\n"))
    assert all(any(line == candidate for candidate in remaining) for line in out.split("\n"))

    # each removed paragraph is annotated, and only those are gone
    def paragraphs(t):
        return [line for line in t.split("\n") if line.strip()]

    removed = record.annotations.get("repeated_paragraphs", [])
    assert len(paragraphs(text)) - len(paragraphs(out)) == len(removed)
    assert all(entry["repeats"] < entry["paragraph"] for entry in removed)
    again, _ = run(out)
    assert again.text == out
