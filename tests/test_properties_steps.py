"""Properties every step keeps on any input: hostile text, any JSON in any field, empty and huge documents.

For each step, on records read from generated JSONL lines (so the reader's
handling of ids, fields and bad lines is part of the input):

- no exception escapes, and no record is rejected as an "internal error"
  (RecordStep turns a bug into that rejection: it must never happen);
- conservation: every record read comes out once, live or rejected, in input order;
- the annotations a step adds match the change it made to the text;
- idempotence where it holds (see test_properties_idempotence.py).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import (
    PROPERTY_SETTINGS,
    RAW_BYTES,
    article_text,
    json_record,
    jsonl_line,
    jsonl_lines,
)
from vocclean.io.readers import ReadOptions, parse_json_record
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.steps.base import Step
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate

# Steps that keep no state between runs are built once (building some costs a fraction of a
# second); the others are built fresh for every example.
_SHARED: dict[str, Step] = {}


def shared(name: str, factory: Callable[[], Step]) -> Callable[[], Step]:
    def get() -> Step:
        if name not in _SHARED:
            _SHARED[name] = factory()
        return _SHARED[name]

    return get


STEPS: dict[str, Callable[[], Step]] = {
    "fix-encoding": shared("fix-encoding", FixEncoding),
    "normalize-script": shared("normalize-script", NormalizeScript),
    "normalize-script --to traditional --mixed convert": shared(
        "normalize-script-t", lambda: NormalizeScript(to="traditional", mixed="convert")
    ),
    "strip-boilerplate": shared("strip-boilerplate", StripBoilerplate),
    "strip-boilerplate --learn (window)": lambda: StripBoilerplate(
        learn=True, learn_window=3, learn_min_docs=2
    ),
    "dedup-paragraphs": shared("dedup-paragraphs", DedupParagraphs),
    "dedup-paragraphs --across-docs": lambda: DedupParagraphs(across_docs=True),
    # A dedup-articles object starts a fresh index on every run, so one object serves all examples.
    "dedup-articles": shared("dedup-articles", DedupArticles),
    "dedup-articles --keep longest": shared("dedup-articles-longest", lambda: DedupArticles(keep="longest")),
}
PER_ARTICLE = ["fix-encoding", "normalize-script", "strip-boilerplate", "dedup-paragraphs"]


def read_lines(lines: list[bytes]) -> list[Record]:
    """Records as the JSONL reader makes them, bad lines included (already rejected by "read")."""
    options = ReadOptions()
    return [parse_json_record(line, f"in.jsonl:{n}", "in.jsonl", options) for n, line in enumerate(lines, 1)]


def run_step(step: Step, records: list[Record]) -> tuple[list[Record], list[Record]]:
    """Live and rejected records of one run; records already rejected by the reader count as rejected."""
    return run_step_chain([step], records)


def run_step_chain(steps: list[Step], records: list[Record]) -> tuple[list[Record], list[Record]]:
    rejected: list[Record] = []
    live = list(Pipeline(steps).run(records, rejected.append))
    return live, rejected


def snapshot(records: list[Record]) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(r.source, r.text, dict(r.annotations)) for r in records]


def no_internal_errors(rejected: list[Record]) -> None:
    internal = [(r.source, r.rejection.reason) for r in rejected if r.rejection.reason.startswith("internal")]
    assert not internal, internal


# No exception, no internal error, conservation


@pytest.mark.parametrize("name", STEPS)
@PROPERTY_SETTINGS
@given(lines=jsonl_lines())
def test_no_exception_escapes_and_no_record_is_an_internal_error(name, lines):
    _, rejected = run_step(STEPS[name](), read_lines(lines))
    no_internal_errors(rejected)


@pytest.mark.parametrize("name", STEPS)
@PROPERTY_SETTINGS
@given(lines=jsonl_lines())
def test_every_record_comes_out_once_live_or_rejected(name, lines):
    records = read_lines(lines)
    ids_in = sorted(r.id for r in records)
    sources_in = [r.source for r in records]
    live, rejected = run_step(STEPS[name](), records)
    assert sorted(r.id for r in live + rejected) == ids_in
    assert sorted(r.source for r in live + rejected) == sorted(sources_in)
    assert all(r.rejection is not None for r in rejected) and all(r.rejection is None for r in live)


@pytest.mark.parametrize("name", STEPS)
@PROPERTY_SETTINGS
@given(lines=jsonl_lines())
def test_live_records_keep_input_order_and_their_fields(name, lines):
    records = read_lines(lines)
    fields_before = {r.source: dict(r.fields) for r in records}
    live, _ = run_step(STEPS[name](), records)
    order = [r.source for r in records]
    assert [r.source for r in live] == [s for s in order if s in {r.source for r in live}]
    for record in live:
        assert record.fields == fields_before[record.source]  # text changes go to record.text only
        assert isinstance(record.text, str)


@pytest.mark.parametrize("name", STEPS)
@PROPERTY_SETTINGS
@given(lines=jsonl_lines())
def test_a_step_rejects_only_in_its_own_name_with_a_reason(name, lines):
    records = read_lines(lines)
    already = {r.source for r in records if r.rejected}
    step = STEPS[name]()
    _, rejected = run_step(step, records)
    for record in rejected:
        if record.source not in already:
            assert record.rejection.step == step.name and record.rejection.reason


@pytest.mark.parametrize("name", STEPS)
@PROPERTY_SETTINGS
@given(data=st.lists(RAW_BYTES, max_size=6))
def test_arbitrary_bytes_as_plain_text_articles_are_decoded_or_rejected(name, data):
    records = [Record(id=f"{n}.txt", text=None, raw=raw, source=f"{n}.txt") for n, raw in enumerate(data)]
    live, rejected = run_step(STEPS[name](), records)
    no_internal_errors(rejected)
    assert sorted(r.id for r in live + rejected) == sorted(r.id for r in records)
    assert all(isinstance(r.text, str) and r.raw is None for r in live)


@PROPERTY_SETTINGS
@given(data=st.lists(RAW_BYTES, max_size=6))
def test_without_fix_encoding_bytes_are_strict_utf8_or_rejected_saying_so(data):
    records = [Record(id=f"{n}.txt", text=None, raw=raw, source=f"{n}.txt") for n, raw in enumerate(data)]
    live, rejected = run_step_chain([], records)
    for record in live:
        assert record.text == data[int(record.id[:-4])].decode("utf-8").removeprefix("\ufeff")
    for record in rejected:
        assert "add the fix-encoding step" in record.rejection.reason
        with pytest.raises(UnicodeDecodeError):
            data[int(record.id[:-4])].decode("utf-8")


@pytest.mark.parametrize("name", STEPS)
@PROPERTY_SETTINGS
@given(texts=st.lists(st.sampled_from(["", " ", "\n", "\n\n\n", "\u3000", "\t\r\n", "\ufeff"]), max_size=4))
def test_empty_and_blank_documents_pass_or_are_rejected_with_a_reason(name, texts):
    records = [Record(id=str(n), text=text, source=str(n)) for n, text in enumerate(texts)]
    live, rejected = run_step(STEPS[name](), records)
    no_internal_errors(rejected)
    assert len(live) + len(rejected) == len(records)


@pytest.mark.parametrize("name", STEPS)
def test_a_huge_document_passes_every_step(name):
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    lines = ("".join(random.Random(n).choices(hanzi, k=30)) + "。" for n in range(40_000))
    huge = "\n".join(lines)  # 40,000 unrelated lines, ~3.7 MB in UTF-8
    records = [Record(id="huge", text=huge, source="huge"), Record(id="small", text="正文。", source="small")]
    live, rejected = run_step(STEPS[name](), records)
    no_internal_errors(rejected)
    assert {r.id for r in live} == {"huge", "small"}
    assert len(next(r for r in live if r.id == "huge").text) > len(huge) // 2


# Annotations match the change made


def fresh_records(texts: list[str]) -> list[Record]:
    return [Record(id=str(n), text=text, source=str(n)) for n, text in enumerate(texts)]


LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")
TEXTS = st.lists(st.one_of(article_text(), st.text(max_size=40)), min_size=1, max_size=6)


@PROPERTY_SETTINGS
@given(texts=TEXTS)
def test_fix_encoding_annotates_every_change_it_makes(texts):
    records = fresh_records(texts)
    live, _ = run_step(STEPS["fix-encoding"](), records)
    for record in live:
        before = LINE_BREAKS.sub("\n", texts[int(record.id)])  # documented: line endings are not counted
        notes = record.annotations
        if record.text != before:
            assert "mojibake" in notes or "junk_removed" in notes, (before, record.text)
        if "mojibake" not in notes:
            assert len(before) - len(record.text) == notes.get("junk_removed", 0)
        if "mojibake" not in notes and "junk_removed" not in notes:
            assert record.text == before


@PROPERTY_SETTINGS
@given(texts=TEXTS)
def test_normalize_script_annotates_conversion_and_punctuation_changes(texts):
    live, _ = run_step(STEPS["normalize-script"](), fresh_records(texts))
    for record in live:
        notes = record.annotations
        assert notes["script"] in {"simplified", "traditional", "mixed", "neither"}
        changed = record.text != texts[int(record.id)]
        assert changed == ("converted" in notes or "punctuation_rules" in notes)
        assert all(count > 0 for count in notes.get("punctuation_rules", {}).values())


@PROPERTY_SETTINGS
@given(texts=TEXTS)
def test_strip_boilerplate_annotates_exactly_the_lines_it_removes(texts):
    live, rejected = run_step(STEPS["strip-boilerplate"](), fresh_records(texts))
    for record in live:
        before = texts[int(record.id)]
        notes = record.annotations
        assert (record.text != before) == ("boilerplate" in notes)
        if "boilerplate" in notes:
            whole_lines = [entry for entry in notes["boilerplate"] if not entry.get("prefix")]
            assert notes["removed_lines"] == len(whole_lines)
            assert len(record.text.splitlines()) <= len(before.splitlines())
    for record in rejected:
        assert "boilerplate" in record.annotations and not "".join(record.text.split())


@PROPERTY_SETTINGS
@given(texts=TEXTS)
def test_dedup_paragraphs_only_removes_lines_and_annotates_each_one(texts):
    live, rejected = run_step(STEPS["dedup-paragraphs"](), fresh_records(texts))
    for record in live + rejected:
        before = texts[int(record.id)]
        notes = record.annotations
        assert (record.text != before) == ("repeated_paragraphs" in notes) or record.rejected
        if "repeated_paragraphs" in notes and not record.rejected:
            kept, original = record.text.split("\n"), before.split("\n")
            remaining = iter(original)
            assert all(line in remaining for line in kept), "kept lines are not a subsequence"
            removed_nonblank = sum(1 for line in original if line.strip()) - sum(
                1 for line in kept if line.strip()
            )
            assert removed_nonblank == len(notes["repeated_paragraphs"])


@pytest.mark.parametrize("name", ["dedup-articles", "dedup-articles --keep longest"])
@PROPERTY_SETTINGS
@given(
    texts=st.lists(
        st.sampled_from(["", "短", *[f"第{i}条：" + "国务院常务会议研究部署稳就业。" * 3 for i in range(3)]])
        | article_text(),
        max_size=10,
    )
)
def test_dedup_articles_never_changes_text_and_points_each_duplicate_at_a_kept_record(name, texts):
    live, rejected = run_step(STEPS[name](), fresh_records(texts))
    kept = {r.id for r in live}
    for record in live:
        assert record.text == texts[int(record.id)]
        assert record.annotations["cluster"] == record.id and "duplicate_of" not in record.annotations
    for record in rejected:
        assert record.text == texts[int(record.id)]
        assert record.annotations["duplicate_of"] in kept
        assert record.rejection.reason == f"duplicate of {record.annotations['duplicate_of']}"
    exact_groups: dict[str, list[str]] = {}
    for record in live + rejected:
        exact_groups.setdefault(record.text, []).append(record.id)
    for text, group in exact_groups.items():
        if text.strip():  # exact copies: at most one kept (none when all are near copies of another)
            assert sum(1 for i in group if i in kept) <= 1, (text, group)


# Records carrying any JSON in any field, including a "vocclean" key from an earlier run


@pytest.mark.parametrize("name", PER_ARTICLE)
@PROPERTY_SETTINGS
@given(record=json_record())
def test_any_json_in_any_field_comes_back_unchanged(name, record):
    (read,) = read_lines([jsonl_line(record)])
    if read.rejected:
        return
    live, rejected = run_step(STEPS[name](), [read])
    no_internal_errors(rejected)
    for out in live:
        assert {k: v for k, v in out.fields.items() if k != "text"} == {
            k: v for k, v in record.items() if k != "text"
        }
