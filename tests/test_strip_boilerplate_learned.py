"""strip-boilerplate --learn: recurring lines learned in two passes, from a window or from a model."""

from __future__ import annotations

import bz2
import gzip
import json
import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import ANY_CHAR, PROPERTY_SETTINGS
from vocclean.record import Record
from vocclean.steps.strip_boilerplate import LearnBoilerplate, StripBoilerplate
from vocclean.text.boilerplate import BoilerplateMatcher
from vocclean.text.boilerplate_index import COMMON_CHARS
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs
from vocclean.text.learned_boilerplate import LearnedLines, LineCounter, ModelFileError, line_key

UNKNOWN_LINE = "本节目由星河频道为您倾情呈现"  # boilerplate no rule was written for
SHARED_SENTENCE = "两国元首共同出席了新建铁路的通车仪式，并乘坐首趟列车。"
HANZI = [char for char in COMMON_CHARS if "\u4e00" <= char <= "\u9fff"]


def corpus(size: int = 1000, with_line: int = 50, seed: int = 7, last: bool = False) -> list[Record]:
    """``size`` articles of random sentences; ``with_line`` of them (spread out, or the
    last ones) end with UNKNOWN_LINE, and articles 3 and 700 share SHARED_SENTENCE."""
    rng = random.Random(seed)
    records = []
    carriers = set(range(size - with_line, size)) if last else set(rng.sample(range(size), with_line))
    for number in range(size):
        sentences = [
            "".join(rng.choice(HANZI) for _ in range(rng.randint(12, 40))) + "。"
            for _ in range(rng.randint(3, 7))
        ]
        if number in (3, 700):
            sentences.insert(1, SHARED_SENTENCE)
        if number in carriers:
            sentences.append(UNKNOWN_LINE)
        records.append(Record(id=str(number), text="\n".join(sentences)))
    return records


def test_no_rule_knows_the_unknown_line():
    matcher = BoilerplateMatcher(load_packs(builtin_pack_paths()))
    assert matcher.find("\n".join(["正文第一句。", "正文第二句。", UNKNOWN_LINE])) == []


def test_line_in_50_of_1000_documents_is_removed_and_a_sentence_two_share_is_kept():
    records = corpus()
    step = StripBoilerplate(learn=True)
    step.fit(lambda: iter(corpus()))
    out = [step.process(record) for record in records]
    assert sum(UNKNOWN_LINE in record.text for record in out) == 0
    assert SHARED_SENTENCE in out[3].text and SHARED_SENTENCE in out[700].text
    carrier = next(record for record in out if "boilerplate" in record.annotations)
    assert carrier.annotations["boilerplate"] == [
        {"line": UNKNOWN_LINE, "kind": "learned", "rule": "learned:50"}
    ]
    assert step.stats["removed_lines/learned"] == 50
    assert step.stats["learned/documents"] == 1000


def test_without_learning_the_unknown_line_stays():
    step = StripBoilerplate()
    out = [step.process(record) for record in corpus()]
    assert sum(UNKNOWN_LINE in record.text for record in out) == 50


def test_on_stdin_the_first_window_is_learned_and_every_record_comes_out():
    step = StripBoilerplate(learn=True, learn_window=1000)
    assert not step.per_record  # it must see the stream in order until it has learned
    out = list(step(iter(corpus())))
    assert [record.id for record in out] == [str(number) for number in range(1000)]
    assert sum(UNKNOWN_LINE in record.text for record in out) == 0
    assert step.per_record
    assert step.stats["learned/window"] == 1000


def test_a_window_only_learns_from_what_it_saw():
    step = StripBoilerplate(learn=True, learn_window=500)
    out = list(step(iter(corpus(last=True))))
    assert len(out) == 1000
    assert sum(UNKNOWN_LINE in record.text for record in out) == 50


def test_fit_makes_the_step_per_record_again():
    step = StripBoilerplate(learn=True)
    step.fit(lambda: iter(corpus(size=50, with_line=0)))
    assert step.per_record


def test_thresholds_decide_what_is_learned():
    counter = LineCounter()
    for record in corpus(with_line=9):
        counter.add(record.text)
    assert line_key(UNKNOWN_LINE) not in counter.model(min_docs=10).counts
    assert counter.model(min_docs=9, min_share=0.0).counts[line_key(UNKNOWN_LINE)] == 9
    assert line_key(UNKNOWN_LINE) not in counter.model(min_docs=1, min_share=0.02).counts


def test_default_thresholds_are_20_documents_and_one_percent():
    counter = LineCounter()
    for record in corpus(with_line=19):
        counter.add(record.text)
    assert counter.model().counts == {}
    counter = LineCounter()
    for record in corpus(size=3000, with_line=25):
        counter.add(record.text)
    assert counter.model().counts == {}  # 25 < 1% of 3,000
    assert counter.model(min_share=0.0).counts == {line_key(UNKNOWN_LINE): 25}


def test_only_short_lines_are_learned():
    counter = LineCounter(max_chars=10)
    for record in corpus():
        counter.add(record.text)
    assert counter.model().counts == {}


def test_a_formula_sentence_is_never_learned_however_often_it_recurs():
    """xwlb stories of one leader's meetings end with 王毅参加会见。 in 7.6% of them: content, not
    furniture. A line ending with 。 is not counted; the same words as a label would be."""
    counter = LineCounter()
    for number, record in enumerate(corpus()):
        closing = "王毅参加会见。" if number % 10 == 0 else "点击下载客户端" if number % 10 == 1 else ""
        counter.add(f"{record.text}\n{closing}")
    assert counter.model().counts == {line_key(UNKNOWN_LINE): 50, "点击下载客户端": 100}


def test_copies_of_one_article_do_not_teach_its_lines():
    counter = LineCounter()
    article = "\n".join(["短句一。", "这是一篇文章里最长的一句话，它让这篇文章可以被认出来。", "短句二。"])
    for _ in range(30):
        counter.add(article)
    for record in corpus(size=100, with_line=0):
        counter.add(record.text)
    assert counter.copies_skipped == 29
    assert line_key("短句一。") not in counter.model(min_docs=2, min_share=0.0).counts


def test_line_key_ignores_case_spaces_and_digits():
    assert line_key(" 1月25日 增13例 ") == line_key("2月6日增15例") != line_key("2月6日增15人")
    assert line_key("Read MORE") == line_key("readmore")


# line_key as first written (one translate table, then runs of 0 folded): the definition the
# faster line_key must keep, since saved models hold its keys.
_DIGITS = "0123456789０１２３４５６７８９"
_TABLE = str.maketrans({**{d: "0" for d in _DIGITS}, **{c: None for c in " \t\r\n\u3000\xa0\u200b\ufeff"}})


def reference_line_key(stripped: str) -> str:
    key = stripped.lower().translate(_TABLE)
    return re.sub("0{2,}", "0", key)


KEY_CHARS = st.one_of(ANY_CHAR, st.sampled_from([*_DIGITS, *" \t\r\n\u3000\xa0\u200b\ufeff", "关", "A"]))


@PROPERTY_SETTINGS
@given(st.text(KEY_CHARS, max_size=60))
def test_line_key_is_the_translate_table_definition(line):
    assert line_key(line) == reference_line_key(line)


def test_learn_boilerplate_passes_records_through_and_writes_a_model(tmp_path):
    path = tmp_path / "model.json"
    learner = LearnBoilerplate(model=path)
    records = corpus()
    out = list(learner(iter(records)))
    assert out == records and all(a.text == b.text for a, b in zip(out, corpus(), strict=True))
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "vocclean-boilerplate-model"
    assert document["documents"] == 1000
    assert document["lines"] == {line_key(UNKNOWN_LINE): 50}
    step = StripBoilerplate(model=path)
    assert step.per_record
    cleaned = [step.process(record) for record in corpus()]
    assert sum(UNKNOWN_LINE in record.text for record in cleaned) == 0


def test_model_round_trip(tmp_path):
    model = LearnedLines({"abc": 12}, documents=100, min_docs=5, min_share=0.02, max_chars=40)
    model.save(tmp_path / "m.json")
    assert LearnedLines.load(tmp_path / "m.json") == model


def test_a_model_saved_through_a_link_or_compressed_reads_back_and_the_link_stays(tmp_path):
    model = LearnedLines({"abc": 12}, documents=100, min_docs=5, min_share=0.02, max_chars=40)
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    model.save(tmp_path / "link.json")
    assert (tmp_path / "link.json").is_symlink() and LearnedLines.load(tmp_path / "real.json") == model
    model.save(tmp_path / "m.json.gz")
    assert (tmp_path / "m.json.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert LearnedLines.load(tmp_path / "m.json.gz") == model


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON boilerplate model"),
        ('{"format": "something else"}', "not a vocclean boilerplate model"),
        ('{"format": "vocclean-boilerplate-model", "version": 99}', "model version 99"),
        ('{"format": "vocclean-boilerplate-model", "version": 1, "lines": 3}', "malformed boilerplate model"),
        (gzip.compress(b'{"format": "vocclean-boilerplate-model"}')[:-12], "corrupt or truncated"),
        (bz2.compress(b'{"format": "vocclean-boilerplate-model"}')[:-8], "corrupt or truncated"),
    ],
    ids=["text", "other-format", "version", "malformed", "truncated-gzip", "truncated-bz2"],
)
def test_a_bad_model_file_is_an_error_naming_it(tmp_path, content, message):
    path = tmp_path / ("model.json" if isinstance(content, str) else "model.json.gz")
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as error:
        LearnedLines.load(path)
    assert str(path) in str(error.value)


def test_disabling_learned_keeps_learned_lines():
    step = StripBoilerplate(learn=True, disable=["learned"])
    step.fit(lambda: iter(corpus()))
    out = [step.process(record) for record in corpus()]
    assert sum(UNKNOWN_LINE in record.text for record in out) == 50


def test_model_and_learning_combine(tmp_path):
    path = tmp_path / "model.json"
    LearnedLines({line_key("旧的样板行"): 40}, documents=1000).save(path)
    step = StripBoilerplate(model=path, learn=True)
    step.fit(lambda: iter(corpus()))
    text = "\n".join(
        ["正文第一句很长很长很长很长。", "正文第二句。", "旧的样板行", "正文第三句。", UNKNOWN_LINE]
    )
    cleaned = step.process(Record(id="x", text=text)).text
    assert "旧的样板行" not in cleaned and UNKNOWN_LINE not in cleaned
