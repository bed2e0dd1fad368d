"""Idempotence: cleaning cleaned text changes nothing.

Property-tested: normalize-script, strip-boilerplate, dedup-paragraphs,
dedup-articles and the whole clean chain change nothing on a second run;
fix-encoding leaves clean text (sentences, ASCII, CJK punctuation, the hanzi
of real articles) untouched, a run of rare hanzi ("丌丶丶亭") included, and on
any text a third run changes nothing after two.

Inputs on which one run once was not enough are kept as regressions
(tests/cases/properties/once_is_enough.jsonl): a C1 control that held back
a mojibake repair, and a dateline paragraph pasted several times.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES, REPO
from tests.strategies import (
    ANY_TEXT,
    PROPERTY_SETTINGS,
    SENTENCES,
    TEXT,
    article_text,
)
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.steps.base import Step
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate

ONCE_IS_ENOUGH = [
    json.loads(line)
    for line in (REPO / "tests/cases/properties/once_is_enough.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
]

SEEDS = FIXTURES / "seeds"
_BUILT: dict[str, list[Step]] = {}


def clean_steps() -> list[Step]:
    """The clean chain as `vocclean clean` builds it for stdin (no learning)."""
    return [FixEncoding(), NormalizeScript(), StripBoilerplate(), DedupParagraphs(), DedupArticles()]


CHAINS: dict[str, Callable[[], list[Step]]] = {
    "fix-encoding": lambda: [FixEncoding()],
    "normalize-script": lambda: [NormalizeScript()],
    "normalize-script --to traditional": lambda: [NormalizeScript(to="traditional", mixed="convert")],
    "strip-boilerplate": lambda: [StripBoilerplate()],
    "dedup-paragraphs": lambda: [DedupParagraphs()],
    "clean": clean_steps,
}


def chain(name: str) -> list[Step]:
    """Built once: every chain here is per-article or starts a fresh index per run."""
    if name not in _BUILT:
        _BUILT[name] = CHAINS[name]()
    return _BUILT[name]


def clean_record(name: str, text: str) -> Record | None:
    """The record after one run of the chain, or None when it was rejected."""
    out = list(Pipeline(chain(name)).run([Record(id="a", text=text)], on_reject=lambda record: None))
    return out[0] if out else None


def clean_text(name: str, text: str) -> str | None:
    """The text after one run of the chain, or None when the record was rejected."""
    record = clean_record(name, text)
    return record.text if record is not None else None


def twice(name: str, text: str) -> tuple[str | None, str | None]:
    once = clean_text(name, text)
    return once, (clean_text(name, once) if once is not None else None)


@pytest.mark.parametrize(
    "name", ["normalize-script", "normalize-script --to traditional", "strip-boilerplate"]
)
@PROPERTY_SETTINGS
@given(text=TEXT)
def test_a_second_run_of_the_step_changes_nothing(name, text):
    once, again = twice(name, text)
    if once is not None:
        assert again == once


@PROPERTY_SETTINGS
@given(text=TEXT)
def test_dedup_paragraphs_leaves_nothing_to_remove_on_a_second_run(text):
    once, again = twice("dedup-paragraphs", text)
    if once is not None:
        assert again == once


@PROPERTY_SETTINGS
@given(
    texts=st.lists(
        st.sampled_from([f"第{i}条：" + "国务院常务会议研究部署稳就业。" * 3 for i in range(4)]) | TEXT,
        max_size=12,
    )
)
def test_dedup_articles_finds_no_duplicate_in_its_own_output(texts):
    step = chain("clean")[-1]
    first = list(
        Pipeline([step]).run([Record(id=str(n), text=t) for n, t in enumerate(texts)], lambda r: None)
    )
    rejected: list[Record] = []
    again = list(Pipeline([step]).run([Record(id=r.id, text=r.text) for r in first], rejected.append))
    assert not rejected and [r.id for r in again] == [r.id for r in first]


# Hanzi as they occur in articles: those of the seed articles (random code points from the
# whole CJK block give runs of rare characters, see the known false positive below).
SEED_HANZI = sorted(
    set(re.findall("[\u4e00-\u9fff]", "".join(p.read_text(encoding="utf-8") for p in SEEDS.iterdir())))
)
CLEAN_TEXT = st.lists(
    st.sampled_from([s for s in SENTENCES if "锟" not in s])
    | st.text(
        st.sampled_from(SEED_HANZI)
        | st.characters(min_codepoint=0x20, max_codepoint=0x7E)
        | st.sampled_from("，。！？：；“”《》（）、\n"),
        max_size=50,
    ),
    max_size=8,
).map("\n".join)


@PROPERTY_SETTINGS
@given(text=CLEAN_TEXT)
def test_fix_encoding_leaves_clean_text_untouched(text):
    assert clean_text("fix-encoding", text) == text


@pytest.mark.parametrize("name", ["fix-encoding", "clean"])
@PROPERTY_SETTINGS
@given(text=st.one_of(article_text(), ANY_TEXT))
def test_a_third_run_changes_nothing_after_two(name, text):
    _, again = twice(name, text)
    if again is not None:
        assert clean_text(name, again) == again


def run_once(name: str, text: str) -> Record:
    """The record after one run of the chain, rejected or not."""
    rejected: list[Record] = []
    out = list(Pipeline(chain(name)).run([Record(id="a", text=text)], on_reject=rejected.append))
    return (out or rejected)[0]


@PROPERTY_SETTINGS
@given(text=article_text())
def test_clean_of_clean_output_changes_nothing(text):
    """Two exceptions, documented (README, Idempotence), both from the order of clean's steps:

    - a document's script is decided before its boilerplate goes: a Traditional article whose
      Simplified boilerplate made it mixed (kept as it is) or mostly Simplified is left unconverted;
      the next run, without the boilerplate, converts it;
    - strip-boilerplate's head and tail rules read a document's first and last lines before
      dedup-paragraphs removes its repeats: a line that the removal brought into the head (a dateline
      after ten copies of one paragraph) is stripped by the next run.

    Real articles come back byte-identical (test_clean_of_clean_real_articles_changes_nothing).
    """
    once = run_once("clean", text)
    if once.rejected:
        return
    again = run_once("clean", once.text)
    if not again.rejected and again.text == once.text:
        return
    script_decided_late = "boilerplate" in once.annotations and once.annotations[
        "script"
    ] != again.annotations.get("script")
    head_moved = "repeated_paragraphs" in once.annotations and "boilerplate" in again.annotations
    assert script_decided_late or head_moved


@pytest.mark.shared_data
def test_clean_of_clean_real_articles_changes_nothing(shared_data):
    """2,000 xwlb stories and every tw_news article with a body, in one corpus (learning included)."""
    with gzip.open(shared_data / "xwlb_cctv_news_zh" / "stories.jsonl.gz", "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in itertools.islice(f, 2000)]
    for path in sorted((shared_data / "tw_news_covid_zh_hant").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            texts += [row["CONTENT"] for row in csv.DictReader(f) if row["CONTENT"]]

    def clean(texts: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """clean as the command runs it over files: learning reads the corpus once before the run."""
        steps = [
            FixEncoding(),
            NormalizeScript(),
            StripBoilerplate(learn=True),
            DedupParagraphs(),
            DedupArticles(),
        ]

        def records() -> Iterator[Record]:
            return (Record(id=i, text=t) for i, t in texts)

        out = Pipeline(steps).run(records(), on_reject=lambda record: None, records_factory=records)
        return [(record.id, record.text) for record in out]

    once = clean([(str(n), text) for n, text in enumerate(texts)])
    assert len(once) > 2000
    assert clean(once) == once


@pytest.mark.parametrize("case", ONCE_IS_ENOUGH, ids=[c["label"] for c in ONCE_IS_ENOUGH])
def test_inputs_that_once_needed_two_runs(case):
    once, again = twice(case["chain"], case["text"])
    assert once != case["text"] and again == once


def test_a_run_of_rare_hanzi_is_left_alone():
    """Once a false Big5/GBK swap: its "repair" 蒄瓶瓶獸 is Traditional, which GBK text is not."""
    assert clean_text("fix-encoding", "丌丶丶亭") == "丌丶丶亭"
