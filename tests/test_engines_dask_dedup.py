"""Distributed dedups on a real 2-worker LocalCluster: the same records, rejects and counters as locally."""

from __future__ import annotations

import gzip
import json
import pickle
import random

import pytest
from click.testing import CliRunner

from vocclean.cli import main
from vocclean.record import Record
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

CLUSTER_TIMEOUT = 300


def article_corpus() -> list[list[Record]]:
    """Three partitions: stories with exact, edited, padded copies, chains of edits, empty texts."""
    rng = random.Random(7)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    texts = []
    for n in range(24):
        story = "".join(rng.choice(hanzi) for _ in range(300))
        texts += [story, story]  # an exact copy
        edited = list(story)
        for _ in range(4):  # a chain of edits: each copy near the previous one, drifting away
            for at in rng.sample(range(300), 25):
                edited[at] = rng.choice(hanzi)
            texts.append("".join(edited))
        if n % 3 == 0:
            texts.append(story + "".join(rng.choice(hanzi) for _ in range(80)))  # trailing junk
    texts += ["", "短", ""]
    stubs = [f"[查看原文](https://tv.cctv.com/2024/09/04/VIDE{n}x{n}.shtml)" for n in range(6)]
    texts += stubs + stubs[:2]  # too short for near matching (min_shingles): exact copies only
    rng.shuffle(texts)
    days = random.Random(8)  # "day" for within_days: spread over two months, some unreadable
    records = [
        Record(
            id=f"a{i}",
            text=text,
            fields={
                "date": rng.choice([3, 1, 2.5, None, "x"]),
                "day": days.choice([f"2024-{days.randint(1, 2):02d}-{days.randint(1, 28):02d}", "?"]),
            },
        )
        for i, text in enumerate(texts)
    ]
    third = len(records) // 3
    return [records[:third], records[third : 2 * third + 5], records[2 * third + 5 :]]


def processed(records):
    return [(r.id, r.text, dict(r.annotations), r.rejection and r.rejection.reason) for r in records]


@pytest.mark.timeout(CLUSTER_TIMEOUT)
@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 16},
        {"batch_size": 16, "threshold": 0.3, "max_candidates": 1},
        {"batch_size": 7, "keep": "longest"},
        {"batch_size": 16, "keep": "field:date", "mark_only": True},
        {"batch_size": 16, "min_shingles": 0},
        {"batch_size": 16, "within_days": 5, "date_field": "day"},
        {"batch_size": 7, "keep": "longest", "within_days": 5, "date_field": "day"},
    ],
    ids=[
        "first",
        "first, capped",
        "longest",
        "field, mark only",
        "short texts compared too",
        "within days",
        "longest within days",
    ],
)
def test_distributed_article_dedup_equals_the_local_step(client, options):
    from vocclean.engines.dask_articles import dedup_articles_distributed

    local_step = DedupArticles(**options)
    local = processed(local_step(iter([r for part in article_corpus() for r in part])))
    futures, stats = dedup_articles_distributed(client, DedupArticles(**options), article_corpus())
    assert [row for part in client.gather(futures) for row in processed(part)] == local
    assert stats == dict(local_step.stats)
    assert local_step.stats["duplicates/exact"] and local_step.stats["duplicates/near"]
    if "within_days" in options:  # the window did separate some pairs, and undated records were counted
        assert local_step.stats["lsh/outside_days"] and local_step.stats["dates/unreadable"]


def repeated_paragraphs() -> list[Record]:
    """Stories that repeat a paragraph inside themselves and share one with each other."""
    shared = "会议强调要牢记使命担当，坚持以人民为中心的发展思想，推动各项工作落实落地。"
    return [
        Record(id=f"p{i}", text=f"第{i}篇报道的开头，内容各不相同，这里写的是第{i}件事。\n{shared}\n{shared}")
        for i in range(4)
    ]


def run_segment_twice(records):
    from vocclean.engines.dask_chain import LIVE, _Part, _run_segment

    part = _Part(records, [LIVE] * len(records))
    payload = pickle.dumps([DedupParagraphs()])
    return [processed(_run_segment(part, payload, 0, 1)[0].records) for _ in range(2)]


def apply_paragraph_answers_twice(records):
    from vocclean.engines.dask_paragraphs import _apply_answers, paragraph_rows, repeated_rows

    step = DedupParagraphs(across_docs=True)
    answers = repeated_rows(paragraph_rows(step, records, 0), step.max_docs_with_paragraph)
    return [processed(_apply_answers(step, records, 0, answers)[0]) for _ in range(2)]


def mark_article_duplicates_twice(records):
    import pandas as pd

    from vocclean.engines.dask_articles import _mark, _prepare

    step = DedupArticles()
    part = _prepare(step, records, 0)
    decisions = pd.DataFrame({"doc": [2], "keeper": ["p0"], "kind": ["near"], "similarity": [0.9]})
    return [processed(_mark(step, records, part, decisions)[0]) for _ in range(2)]


@pytest.mark.parametrize(
    "run_twice", [run_segment_twice, apply_paragraph_answers_twice, mark_article_duplicates_twice]
)
def test_a_task_run_twice_gives_the_same_records_and_leaves_its_input_alone(run_twice):
    """Dask may run a task again on inputs still in memory (a result released and asked for again)."""
    records = repeated_paragraphs()
    first, second = run_twice(records)
    assert second == first
    assert processed(records) == processed(repeated_paragraphs()) != first


def xwlb_corpus(shared_data, directory, stories: int = 1500, files: int = 3):
    """The first xwlb stories in ``files`` JSONL files, some pasted again later (exact and edited copies)."""
    with gzip.open(shared_data / "xwlb_cctv_news_zh" / "stories.jsonl.gz", "rt", encoding="utf-8") as stream:
        rows = [json.loads(line) for _, line in zip(range(stories), stream, strict=False)]
    rng = random.Random(3)
    for n, row in enumerate(rng.sample(rows, stories // 10)):
        text = row["text"] if n % 2 else row["text"].replace("。", "，", 2)
        rows.append({"id": f"copy-{n}", "date": row["date"], "text": text})
    directory.mkdir()
    size = -(-len(rows) // files)
    for part in range(files):
        lines = [json.dumps(r, ensure_ascii=False) for r in rows[part * size : (part + 1) * size]]
        (directory / f"part{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def run_both(tmp_path, corpus, chain: list[str]) -> dict[str, tuple[bytes, bytes]]:
    runs = {}
    for engine in ("local", "dask"):
        out, rejects = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}-rejects.jsonl"
        result = CliRunner().invoke(
            main,
            [
                "-i",
                str(corpus),
                "-o",
                str(out),
                "--rejects",
                str(rejects),
                "--annotate",
                "--engine",
                engine,
                "-j",
                "1" if engine == "local" else "2",
                *chain,
            ],
            catch_exceptions=False,
        )
        assert result.exit_code in (0, 1), result.output
        runs[engine] = (out.read_bytes(), rejects.read_bytes())
    return runs


XWLB_CHAINS = {
    "dedup-articles": ["dedup-articles", "--batch-size", "300"],
    "dedup-articles --keep field:date": ["dedup-articles", "--keep", "field:date", "--threshold", "0.4"],
    "dedup-paragraphs --across-docs": ["dedup-paragraphs", "--across-docs"],
    "clean": ["clean"],
}


@pytest.mark.shared_data
@pytest.mark.timeout(CLUSTER_TIMEOUT)
@pytest.mark.parametrize("name", XWLB_CHAINS)
def test_dask_equals_the_local_engine_on_xwlb(tmp_path, shared_data, on_cluster, name):
    corpus = xwlb_corpus(shared_data, tmp_path / "in")
    runs = run_both(tmp_path, corpus, XWLB_CHAINS[name])
    assert runs["dask"] == runs["local"]
    assert runs["local"][1].count(b"\n") > 20  # there were duplicates to reject


def synthetic_corpus(directory):
    """Four files of stories sharing paragraphs, with copies, bad lines and texts that end up empty."""
    rng = random.Random(11)
    shared = [
        f"第{i}段：会议强调要牢记使命担当，坚持以人民为中心的发展思想，推动第{i}项工作。" for i in range(8)
    ]
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    texts: list[str] = []
    directory.mkdir()
    for part in range(4):
        lines = []
        for n in range(70):
            i = part * 70 + n
            body = ["".join(rng.choice(hanzi) for _ in range(90)) + "。", shared[rng.randrange(8)]]
            if i % 5 == 0:
                body = [shared[i % 8]]  # only a shared paragraph: rejected by dedup-paragraphs later on
            if i % 7 == 0 and texts:
                body = [texts[rng.randrange(len(texts))]]  # a copy of an earlier story
            texts.append("\n".join(body))
            lines.append(json.dumps({"id": f"s{i}", "text": texts[-1]}, ensure_ascii=False))
            if i % 17 == 0:
                lines.append("{not json")
        (directory / f"part{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


SYNTHETIC_CHAINS = {
    # Both dedups with small batches, per-article steps before, between and after them.
    "nested": [
        "fix-encoding",
        "dedup-paragraphs",
        "--across-docs",
        "normalize-script",
        "dedup-articles",
        "--batch-size",
        "16",
        "strip-boilerplate",
    ],
    "articles first": ["dedup-articles", "--batch-size", "9", "dedup-paragraphs", "--across-docs"],
    "longest": ["dedup-paragraphs", "--across-docs", "dedup-articles", "--keep", "longest"],
    "clean": ["clean"],
}


@pytest.mark.timeout(CLUSTER_TIMEOUT)
@pytest.mark.parametrize("name", SYNTHETIC_CHAINS)
def test_dask_equals_the_local_engine_on_synthetic_chains(tmp_path, on_cluster, name):
    corpus = synthetic_corpus(tmp_path / "in")
    runs = run_both(tmp_path, corpus, SYNTHETIC_CHAINS[name])
    assert runs["dask"] == runs["local"]
    assert runs["local"][1].count(b"\n") > 20 and runs["local"][0].count(b"\n") > 100


@pytest.mark.timeout(CLUSTER_TIMEOUT)
def test_dask_writes_one_output_per_input_with_dedup_like_the_local_engine(tmp_path, on_cluster):
    corpus = synthetic_corpus(tmp_path / "in")
    runs = {}
    for engine in ("local", "dask"):
        out = tmp_path / engine
        result = CliRunner().invoke(
            main, ["-i", str(corpus), "-o", f"{out}/", "--engine", engine, "-j", "1", "dedup-articles"]
        )
        assert result.exit_code in (0, 1), result.output
        runs[engine] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert runs["dask"] == runs["local"]
    assert len(runs["local"]) == 4


@pytest.mark.timeout(CLUSTER_TIMEOUT)
@pytest.mark.parametrize(
    "texts", [["第一篇报道的内容，讲的是一件事情，和别的都不一样。"], ["甲" * 40, "乙" * 40, ""]]
)
def test_distributed_article_dedup_of_stories_with_no_pair_at_all(client, texts):
    """No candidate pair nor exact twin anywhere: the graph has no node (the seeds folder is so)."""
    from vocclean.engines.dask_articles import dedup_articles_distributed

    records = [Record(id=f"n{i}", text=text) for i, text in enumerate(texts)]
    futures, _ = dedup_articles_distributed(client, DedupArticles(), [records[:1], records[1:]])
    out = [row for part in client.gather(futures) for row in processed(part)]
    assert out == processed(DedupArticles()(iter([Record(id=r.id, text=r.text) for r in records])))
    assert all(row[3] is None for row in out)  # nothing rejected
