"""dedup-paragraphs --across-docs: the cross-document paragraph index and its memory bound."""

from __future__ import annotations

import random
import tracemalloc

from vocclean.record import Record
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.text.paragraph_index import ParagraphIndex

BOILERPLATE = "扫描印象黔西南公众微信二维码，获取更多精彩内容！"


def article(number: int) -> str:
    return f"第{number}篇文章的正文，内容各不相同，编号{number}，足够长以便进入索引。"


def naive_answers(documents):
    """What observe must answer: (earlier documents with the hash, first of them)."""
    seen: dict[int, list] = {}
    answers = []
    for hashes, doc_id in documents:
        row = []
        for value in hashes:
            if value in seen:
                row.append((seen[value][0], seen[value][1]))
                seen[value][0] += 1
            else:
                row.append((0, None))
                seen[value] = [1, doc_id]
        answers.append(row)
    return answers


def random_documents(count: int, pool: int, seed: int = 1):
    rng = random.Random(seed)
    hashes = [rng.getrandbits(64) for _ in range(pool)]
    return [
        (list(dict.fromkeys(rng.choice(hashes) for _ in range(rng.randint(1, 6)))), f"doc{n}")
        for n in range(count)
    ]


# --- the index ---


def test_index_answers_like_a_dict_whatever_the_batching():
    documents = random_documents(500, 300)
    expected = naive_answers(documents)
    for batch in (1, 7, 64, 500):
        index = ParagraphIndex()
        got = []
        for start in range(0, len(documents), batch):
            got += index.observe_documents(documents[start : start + batch])
        assert got == expected, batch


def test_index_merges_levels_logarithmically():
    index = ParagraphIndex()
    for start in range(0, 20_000, 10):
        index.observe_documents([(list(range(start, start + 10)), f"d{start}")])
    assert len(index) == 20_000
    assert len(index._levels) <= 8


def test_index_stops_growing_at_max_paragraphs_but_keeps_counting():
    index = ParagraphIndex(max_paragraphs=3)
    index.observe([1, 2], "a")
    index.observe([3, 4, 5], "b")
    assert len(index) == 3 and index.full
    assert index.skipped == 2
    assert index.observe([1, 4], "c") == [(1, "a"), (0, None)]
    assert index.observe([1], "d") == [(2, "a")]


def test_index_memory_for_a_million_paragraphs_is_16_bytes_each_plus_ids():
    rng = random.Random(0)
    count, per_doc = 1_000_000, 10
    hashes = [rng.getrandbits(64) for _ in range(count)]
    documents = [
        (hashes[start : start + per_doc], f"doc-{start // per_doc:06d}") for start in range(0, count, per_doc)
    ]
    tracemalloc.start()
    index = ParagraphIndex()
    for start in range(0, len(documents), 256):
        index.observe_documents(documents[start : start + 256])
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(index) == count
    ids = sum(len(doc_id) for _, doc_id in documents) + 8 * (len(documents) + 1)
    assert index.nbytes == 16 * count + ids  # the stated layout, exactly
    assert retained < 20_000_000  # 16 MB of arrays + 1.8 MB of ids + array slack
    assert peak < 48_000_000  # plus a transient copy while the largest levels merge


# --- the step across documents ---


def test_paragraph_seen_in_an_earlier_document_is_removed_and_points_at_it():
    step = DedupParagraphs(across_docs=True)
    first = step.process(Record(id="a", text=f"{article(1)}\n{BOILERPLATE}"))
    second = step.process(Record(id="b", text=f"{article(2)}\n{BOILERPLATE.replace('，', ',')}"))
    assert first.text == f"{article(1)}\n{BOILERPLATE}"
    assert second.text == article(2)
    [entry] = second.annotations["repeated_paragraphs"]
    assert entry["paragraph"] == 1 and entry["repeats"] == "doc:a" and entry["similarity"] == 1.0
    assert step.stats["removed_paragraphs/across-docs"] == 1


def test_paragraphs_shorter_than_min_chars_are_not_compared_across_documents():
    step = DedupParagraphs(across_docs=True, min_chars=20)
    short = "责任编辑：王小明"
    step.process(Record(id="a", text=f"{article(1)}\n{short}"))
    assert step.process(Record(id="b", text=f"{article(2)}\n{short}")).text == f"{article(2)}\n{short}"


def test_without_across_docs_documents_do_not_see_each_other():
    step = DedupParagraphs()
    step.process(Record(id="a", text=f"{article(1)}\n{BOILERPLATE}"))
    assert step.process(Record(id="b", text=f"{article(2)}\n{BOILERPLATE}")).text.endswith(BOILERPLATE)


def test_max_docs_with_paragraph_keeps_it_in_the_first_n_documents():
    step = DedupParagraphs(max_docs_with_paragraph=3)
    records = [Record(id=str(n), text=f"{article(n)}\n{BOILERPLATE}") for n in range(6)]
    out = list(step(records))
    assert [r.text.endswith(BOILERPLATE) for r in out] == [True, True, True, False, False, False]
    assert out[5].annotations["repeated_paragraphs"][0]["repeats"] == "doc:0"


def test_batched_stream_and_one_record_at_a_time_agree():
    rng = random.Random(3)
    texts = [
        "\n".join(rng.choice([article(rng.randrange(40)), BOILERPLATE, article(1000 + n)]) for _ in range(3))
        for n in range(700)
    ]
    streamed = list(DedupParagraphs(across_docs=True)(Record(id=str(n), text=t) for n, t in enumerate(texts)))
    single = DedupParagraphs(across_docs=True)
    one_by_one = [single.process(Record(id=str(n), text=t)) for n, t in enumerate(texts)]
    assert [(r.text, r.rejected, r.annotations) for r in streamed] == [
        (r.text, r.rejected, r.annotations) for r in one_by_one
    ]


def test_two_step_objects_share_no_index():
    a, b = DedupParagraphs(across_docs=True), DedupParagraphs(across_docs=True)
    a.process(Record(id="x", text=f"{article(1)}\n{BOILERPLATE}"))
    assert b.process(Record(id="y", text=f"{article(2)}\n{BOILERPLATE}")).text.endswith(BOILERPLATE)


def test_in_document_repeat_is_counted_once_across_documents():
    step = DedupParagraphs(across_docs=True)
    record = step.process(Record(id="a", text=f"{BOILERPLATE}\n{article(1)}\n{BOILERPLATE}"))
    assert step.stats["removed_paragraphs/in-doc-exact"] == 1
    assert step.stats["removed_paragraphs/across-docs"] == 0
    assert record.text == f"{BOILERPLATE}\n{article(1)}"
