"""Hypothesis strategies for property tests: hostile text, bytes and JSON as real dumps carry them.

Random Unicode alone rarely reaches the interesting code (mojibake repair,
boilerplate rules, repeated paragraphs), so articles are built from pieces:
real sentences, boilerplate lines, mojibake of Chinese, Traditional script,
full-width forms, invisible junk, repeats of earlier paragraphs, and arbitrary
Unicode (lone surrogates included: JSON can carry them as ``\\ud800``).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Every property test: no deadline (a shared 2-core machine is noisy), a bounded number of
# examples, and derandomized in the suite so that CI sees the same examples on every run.
# VOCCLEAN_EXPLORE=N explores N random examples per test instead (e.g. before a release).
_EXPLORE = int(os.environ.get("VOCCLEAN_EXPLORE", "0"))
PROPERTY_SETTINGS = settings(
    max_examples=_EXPLORE or 40,
    deadline=None,
    derandomize=not _EXPLORE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Any code point, with lone surrogates (a JSON line can carry "\ud800") and Latin-1 (what mojibake
# is made of) drawn far more often than their share of Unicode would give.
ANY_CHAR = st.one_of(
    st.characters(codec=None, categories=None),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.characters(min_codepoint=0x80, max_codepoint=0xFF),
)
ANY_TEXT = st.text(ANY_CHAR, max_size=80)

SENTENCES = [
    "新华社北京6月12日电，国务院总理李克强主持召开国务院常务会议。",
    "会议指出，要加快推进职业技能培训，稳定和扩大就业。",
    "台北市政府今天宣布，防疫措施將延長至下週一。",
    "記者王小明／台北報導",
    "The meeting was held in Beijing on Monday.",
    "Prices rose 3.14% in May, the U.S. Labor Department said at 10:30.",
    "他说：“我们要把这件事做好！”",
    "２０２２年ＡＢＣ公司营收增长（同比）",
    "经济 , 发展 : 稳定 ; 增长 ! (完)",
    "长按识别二维码，关注我们",
    "扫码关注我们",
    "【免责声明】本文仅代表作者个人观点，与本站无关。",
    "责任编辑：张三",
    "- END -",
    "推荐阅读",
    "点击阅读原文",
    "請繼續往下閱讀...",
    "Related articles",
    "锟斤拷锟斤拷",
    "图片来源于网络，如有侵权请联系删除。",
]

JUNK_CHARS = [
    "\udcfe",
    "\ud800",
    "\u200b",
    "\ufeff",
    "\u00a0",
    "\u3000",
    "\u200e",
    "\x00",
    "\x07",
    "\ufffd",
    "\r",
    "\t",
]


def _mojibake(text: str, wrong: str) -> str:
    try:
        return text.encode("utf-8").decode(wrong, errors="replace")
    except LookupError:
        return text


def _gbk_as_latin1(text: str) -> str:
    return text.encode("gbk", errors="replace").decode("latin-1")


@st.composite
def paragraph(draw: Any) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 3:
        return draw(st.sampled_from(SENTENCES))
    if kind == 4:
        return draw(ANY_TEXT)
    if kind == 5:
        return _mojibake(
            draw(st.sampled_from(SENTENCES)), draw(st.sampled_from(["gbk", "latin-1", "cp1252"]))
        )
    if kind == 6:
        return _gbk_as_latin1(draw(st.sampled_from(SENTENCES[:4])))
    if kind == 7:
        # a sentence with junk characters sprinkled in
        sentence = draw(st.sampled_from(SENTENCES))
        cuts = sorted(draw(st.lists(st.integers(0, len(sentence)), max_size=4)))
        pieces, start = [], 0
        for cut in cuts:
            pieces += [sentence[start:cut], draw(st.sampled_from(JUNK_CHARS))]
            start = cut
        return "".join([*pieces, sentence[start:]])
    if kind == 8:
        return draw(st.sampled_from(["", " ", "\u3000", "   ", "\t"]))
    return "".join(draw(st.lists(st.sampled_from(SENTENCES), min_size=2, max_size=5)))


@st.composite
def article_text(draw: Any, max_paragraphs: int = 12) -> str:
    """A text of paragraphs (some repeated, some near-repeated) joined by newlines."""
    paragraphs: list[str] = []
    for _ in range(draw(st.integers(0, max_paragraphs))):
        if paragraphs and draw(st.integers(0, 5)) == 0:
            earlier = draw(st.sampled_from(paragraphs))
            if draw(st.booleans()) and earlier:
                position = draw(st.integers(0, len(earlier) - 1))
                earlier = (
                    earlier[:position] + draw(st.sampled_from("的了是在。，a1")) + earlier[position + 1 :]
                )
            paragraphs.append(earlier)
        else:
            paragraphs.append(draw(paragraph()))
    separator = draw(st.sampled_from(["\n", "\n\n", "\r\n", "\n \n"]))
    return separator.join(paragraphs)


TEXT = st.one_of(article_text(), ANY_TEXT, st.just(""))

# JSON values as json.loads gives them (the lenient reader accepts NaN and lone surrogates).
JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    ANY_TEXT,
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=12,
)


@st.composite
def json_record(draw: Any, text: st.SearchStrategy[str] = TEXT) -> dict[str, Any]:
    """A JSONL object: maybe an id (any JSON value), a text, arbitrary other fields, maybe a vocclean key."""
    record: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(["url", "title", "date", "n", "meta", "", "文"]), unique=True)):
        record[name] = draw(JSON_VALUE)
    if draw(st.booleans()):
        record["id"] = draw(JSON_VALUE)
    record["text"] = draw(text)
    if draw(st.integers(0, 7)) == 0:
        record["vocclean"] = draw(JSON_VALUE)
    return record


def jsonl_line(record: dict[str, Any]) -> bytes:
    """One JSONL line, non-ASCII as UTF-8 except lone surrogates (escaped, as real dumps do)."""
    try:
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        return json.dumps(record, ensure_ascii=True).encode("ascii") + b"\n"


@st.composite
def jsonl_lines(draw: Any, max_records: int = 12) -> list[bytes]:
    """Lines of a JSONL file: mostly records, some broken or hostile lines among them."""
    lines = []
    for _ in range(draw(st.integers(0, max_records))):
        kind = draw(st.integers(0, 11))
        if kind <= 8:
            lines.append(jsonl_line(draw(json_record())))
        elif kind == 9:
            lines.append(draw(st.binary(max_size=60)).replace(b"\n", b" ") + b"\n")
        elif kind == 10:
            lines.append(jsonl_line(draw(JSON_VALUE)))
        else:
            lines.append(jsonl_line({"text": draw(JSON_VALUE)}))
    return lines


def encoded_text(text: str, codec: str) -> bytes:
    return text.encode(codec, errors="replace")


RAW_BYTES = st.one_of(
    st.binary(max_size=300),
    st.builds(
        encoded_text,
        article_text(),
        st.sampled_from(["utf-8", "gb18030", "gbk", "big5", "utf-16", "utf-16-le", "utf-8-sig", "latin-1"]),
    ),
)
