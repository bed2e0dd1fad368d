"""strip-boilerplate's pre-filters change the speed, never the result."""

from __future__ import annotations

import pickle
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import rule_examples
from vocclean.text.boilerplate import BoilerplateMatcher
from vocclean.text.boilerplate_index import LiteralIndex, trigger_pattern, trigger_window
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs, parse_pack
from vocclean.text.regex_starts import first_chars, is_anchored

RULES = load_packs(builtin_pack_paths())
FAST = BoilerplateMatcher(RULES)
REFERENCE = BoilerplateMatcher(RULES, prefilter=False)


EXAMPLES = rule_examples()
BODY = [
    "国务院常务会议今天召开，研究部署进一步稳定经济运行的措施。",
    "高雄市長陳其邁今公布旗津加強版防疫措施，今起14天內大型活動暫停。",
    "The city held a meeting on vocational education on Monday.",
    "会议强调，要加强编辑部建设，提高来源核实和版权管理水平。",
    "",
    "   ",
]
PIECES = st.sampled_from(EXAMPLES + BODY)
LINES = st.one_of(
    PIECES,
    st.text(alphabet=st.sampled_from("".join(EXAMPLES)[:400] + " \t"), max_size=30),
    st.builds(lambda a, b: a + b, PIECES, PIECES),
    st.builds(lambda a, b: a + b, st.sampled_from(["", "  ", "【", "（", "▶ "]), PIECES),
)
DOCUMENTS = st.lists(LINES, min_size=1, max_size=14).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_prefiltered_matcher_equals_the_every_rule_reference(text):
    assert FAST.find(text) == REFERENCE.find(text)


def test_prefiltered_matcher_equals_the_reference_on_the_seeds(seeds_dir):
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert FAST.find(text) == REFERENCE.find(text), path.name


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(EXAMPLES + BODY), min_size=1, max_size=6), st.sampled_from(RULES))
def test_first_chars_never_excludes_a_line_the_rule_matches(lines, rule):
    chars = first_chars(rule.pattern, rule.regex.flags)
    if chars is None:
        return
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if rule.action == "prefix":
            hit = rule.regex.match(line) is not None
        elif rule.action == "cut" or rule.strong:
            hit = rule.regex.fullmatch(line) is not None
        elif is_anchored(rule.pattern):
            hit = rule.regex.search(line) is not None
        else:
            continue
        if hit:
            assert line[0] in chars, (rule.name, line)


@given(st.text(alphabet="abAB(|)[]^x", max_size=12))
def test_first_chars_of_small_patterns_is_sound(text):
    for pattern, flags in [
        (r"^[(（]?(?:ab|B)x", 0),
        (r"(?i:ab)|x", 0),
        (r"a?b*x", 0),
        (r"ab", re.IGNORECASE),
        (r"\s*\[?a", 0),
    ]:
        chars = first_chars(pattern, flags)
        match = re.match(pattern, text, flags)
        if chars is not None and match is not None and match.end() > 0:
            assert text[0] in chars


def test_first_chars_gives_up_on_what_it_cannot_bound():
    assert first_chars(r".x") is None
    assert first_chars(r"[^x]y") is None
    assert first_chars(r"x?") is None  # can match empty
    assert first_chars(r"(?=a)a") is None
    assert first_chars(r"[一-龥]讯") is None  # a range too wide to list
    assert first_chars(r"^(?:作者|文)\s*[:：]") == frozenset("作文")


def test_is_anchored():
    assert is_anchored(r"^(?:a|b)c")
    assert is_anchored(r"^[|]x")
    assert not is_anchored(r"^a|b")
    assert not is_anchored(r"a^")


WORDS = st.lists(st.text(alphabet="abcAB]([一", min_size=1, max_size=6), min_size=1, max_size=6)


@given(WORDS, st.data(), st.text("abcAB]([一"))
def test_trigger_pattern_matches_where_a_window_is(words, data, text):
    windows = [trigger_window(w.lower(), data.draw(st.integers(0, len(w) - 1))) for w in words]
    regex = re.compile(trigger_pattern(windows))
    low = text.lower()
    expected = {
        p
        for p in range(len(text))
        for before, trigger, after in windows
        if low.startswith(before + trigger + after, p - len(before)) and p >= len(before)
    }
    assert {match.start() for match in regex.finditer(text)} == expected


INDEXED = [r for r in RULES if r.indexed]
LITERALS = sorted({literal for rule in INDEXED for literal in rule.literals})
LITERAL_TEXT = st.lists(
    st.one_of(
        st.sampled_from(LITERALS),
        st.sampled_from(LITERALS).map(str.upper),
        st.text(alphabet="ab \n】(", max_size=3),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(LITERAL_TEXT)
def test_literal_index_finds_every_line_with_a_literal(text):
    found = LiteralIndex(INDEXED).rules_by_line(text)
    for number, line in enumerate(text.split("\n")):
        expected = {r.name for r in INDEXED if any(literal in line.lower() for literal in r.literals)}
        assert {r.name for r in found.get(number, ())} >= expected


def _rule(name: str, pattern: str, example: str, **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "kind": "navigation",
        "pattern": pattern,
        "examples": [example],
        "comment": "test",
    } | extra


# Rules that cannot join an alternation (a backreference, a named group, a global flag), one that
# may match anywhere in the line, and overlapping ones whose pack order decides.
AWKWARD = parse_pack(
    {
        "rule": [
            _rule("echo", r"^(ab)x\1", "abxab", where="tail"),
            _rule("named", r"^(?P<w>ab)y", "aby", where="tail"),
            _rule("flagged", r"(?i)^AB+z", "abbz", where="tail"),
            _rule("inside", r"x+q", "axxq", where="tail", max_chars=12),
            _rule("whole-short", r"ab[a-z]{0,3}", "abcd", where="anywhere", max_chars=6),
            _rule("whole-long", r"ab[a-z]*", "abcdefghij", where="anywhere"),
        ]
    },
    "test-pack",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="abxyzqAB\\1 ", max_size=14), min_size=1, max_size=6).map("\n".join))
def test_alternations_equal_the_rules_one_by_one(text):
    fast = BoilerplateMatcher(AWKWARD)
    assert fast.find(text) == BoilerplateMatcher(AWKWARD, prefilter=False).find(text)
    assert fast.find(text) == fast.find(text)  # the second time from remembered answers


def test_plans_are_built_on_first_use_and_shared_by_matchers_with_the_same_rules():
    rules = parse_pack(
        {
            "rule": [
                _rule("whole-x", r"x[a-z]*", "xyz", where="anywhere"),
                _rule("whole-y", r"y+", "yy", where="anywhere"),
            ]
        },
        "test-pack",
    )
    first, second = BoilerplateMatcher(rules), BoilerplateMatcher(rules)
    plans = first._whole._plans
    assert plans is second._whole._plans
    assert "x" not in plans  # nothing compiled before a line starts with x
    assert [r.rule for r in first.find("xyz\nbody\nyy")] == ["whole-x", "whole-y"]
    assert "x" in plans
    assert second.find("xyz") == first.find("xyz")
    assert second._whole._memo and not BoilerplateMatcher(rules)._whole._memo  # answers are per matcher


def test_a_matcher_pickles_with_its_plans():
    FAST.find("扫码关注我们\n正文。\n（完）")
    copy = pickle.loads(pickle.dumps(FAST))
    for text in EXAMPLES[:200]:
        assert copy.find(text) == REFERENCE.find(text)
