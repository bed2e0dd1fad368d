"""Punctuation and width rules of normalize-script (vocclean.text.punctuation).

The table in tests/cases/normalize_script/punctuation.jsonl is the
specification: one case per line, label + input + expected; a case whose
expected equals its input is a thing that must not change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocclean.text.punctuation import RULE_NAMES, RULES, PunctuationRules, normalize_punctuation

CASES_FILE = Path(__file__).parent / "cases" / "normalize_script" / "punctuation.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
RULES_ALL = PunctuationRules()


@pytest.mark.parametrize("case", CASES, ids=[case["label"] for case in CASES])
def test_punctuation_case(case):
    assert RULES_ALL.normalize(case["input"])[0] == case["expected"]


def test_table_has_sixty_cases_half_of_them_unchanged():
    unchanged = [case for case in CASES if case["input"] == case["expected"]]
    assert len(CASES) >= 60
    assert len(unchanged) * 2 >= len(CASES)
    assert len({case["label"] for case in CASES}) == len(CASES), "labels must be unique"


@pytest.mark.parametrize("case", CASES, ids=[case["label"] for case in CASES])
def test_rules_are_idempotent(case):
    once = RULES_ALL.normalize(case["input"])[0]
    assert RULES_ALL.normalize(once) == (once, {})


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_every_rule_fires_in_the_table_and_can_be_skipped(rule):
    firing = [case for case in CASES if rule in RULES_ALL.normalize(case["input"])[1]]
    assert firing, f"no case in the table exercises {rule}"
    without = PunctuationRules(skip={rule})
    for case in firing:
        text, fired = without.normalize(case["input"])
        assert rule not in fired
        assert text != case["expected"], case["label"]


def test_fired_rules_are_counted_per_edit():
    text, fired = RULES_ALL.normalize("会议指出,要(尽快)落实,不拖延.")
    assert text == "会议指出，要（尽快）落实，不拖延。"
    assert fired == {"zh-punctuation": 2, "zh-parentheses": 2, "zh-period": 1}


def test_nothing_to_do_reports_no_rules():
    text = "会议指出，要落实。The meeting ended at 10:30."
    assert RULES_ALL.normalize(text) == (text, {})


def test_unknown_rule_name_is_rejected_with_the_list_of_rules():
    with pytest.raises(ValueError, match="zh-punctuation"):
        PunctuationRules(skip={"no-such-rule"})


def test_rule_names_are_unique_and_described():
    assert len(set(RULE_NAMES)) == len(RULES)
    assert all(rule.description for rule in RULES)


def test_context_is_decided_per_line_not_per_document():
    text = (
        "会议指出,要落实.\n"
        "The meeting, held in Beijing (China), ended at 10:30. It was short!\n"
        "代表们表示:将全力以赴!"
    )
    assert normalize_punctuation(text) == (
        "会议指出，要落实。\n"
        "The meeting, held in Beijing (China), ended at 10:30. It was short!\n"
        "代表们表示：将全力以赴！"
    )


def test_english_sentence_inside_a_chinese_paragraph_keeps_english_marks():
    text = "会议指出,要落实。The meeting, which lasted two hours, ended。代表们表示,将全力以赴。"
    assert normalize_punctuation(text) == (
        "会议指出，要落实。The meeting, which lasted two hours, ended. 代表们表示，将全力以赴。"
    )


def test_chinese_quotes_are_never_touched():
    text = "他说:“我们一定要落实.”又说:‘好!’「台灣」"
    out = normalize_punctuation(text)
    for quote in "“”‘’「」":
        assert out.count(quote) == text.count(quote)
    assert out == "他说：“我们一定要落实。”又说：‘好！’「台灣」"


def test_skipping_one_rule_keeps_the_others():
    text = "会议指出,要落实.Ｔｈｅ meeting.The end"
    out, fired = PunctuationRules(skip={"zh-period"}).normalize(text)
    assert out == "会议指出，要落实.The meeting. The end"
    assert set(fired) == {"fullwidth-alnum", "zh-punctuation", "latin-sentence-space"}


# Random mixtures of hanzi, Latin words, digits, marks and spaces.
_PIECES = st.sampled_from(
    [
        "会议",
        "指出",
        "落实",
        "The",
        "meeting",
        "ended",
        "high",
        "quality",
        "2024",
        "3.5",
        "10:30",
        "U.S.",
        "http://a.cn/x?y=1",
        "a@b.com",
        *list(",:;!?().，。：；“”‘’ -\n\u3000"),
        *list("（）．－：％"),
        "Ｃ",
        "２",
        "He met Biden",
        "上写道",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_random_mixtures_keep_quotes_urls_and_numbers_and_settle(text):
    out = normalize_punctuation(text)
    assert normalize_punctuation(out) == out
    for quote in "“”‘’\"'":
        assert out.count(quote) == text.count(quote)
    for token in ("http://a.cn/x?y=1", "a@b.com", "10:30", "3.5"):
        assert out.count(token) >= text.count(token)
    hanzi = re.compile("[\u4e00-\u9fff]")
    assert hanzi.findall(out) == hanzi.findall(text)


def test_a_run_of_full_width_marks_after_latin_text_settles_in_one_pass():
    # Found by the property test above: judged one by one, each mark turned Latin only once the
    # one before it was converted, one more per pass, so a run longer than the passes never settled.
    out = normalize_punctuation("U.S.。。。。。。，")
    assert out == "U.S.. . . . . . ,"
    assert normalize_punctuation(out) == out
    assert normalize_punctuation("他说。。。，好") == "他说。。。，好"


def test_a_run_of_full_width_marks_is_judged_by_what_follows_the_whole_run():
    # Found by the property test: each mark of the run saw the next one as Chinese context, so the
    # text cycled between three forms (U.S.，，： -> U.S.，，: -> U.S.，, ： -> U.S.，，：).
    out = normalize_punctuation("U.S.，，：")
    assert out == "U.S., , :"
    assert normalize_punctuation(out) == out
    assert normalize_punctuation("He stresses，，要") == "He stresses，，要"
