"""dedup-paragraphs --across-docs distributed on Dask: paragraph hashes shuffled, answers sent back.

The local step keeps one index of paragraph hashes and asks it, document by
document in stream order, "how many earlier documents contained this
paragraph, and which was the first?". Here the same answer is computed
without any index on one machine:

1. **Map** (per partition, on workers): each record is analysed as the step
   does (in-document repeats first; the remaining paragraphs of at least
   ``min_chars`` hashed with the stable ``key_hash``) and gives one row
   (hash, document number, document id) per distinct hash. The document
   number is (partition << 32) | position, so numbers order documents as
   the stream does when the partitions are the inputs in order.
2. **Shuffle** the rows on the hash (Dask DataFrame ``shuffle``). In each
   hash's group, sorted by document number, a row's rank is the number of
   earlier documents with the paragraph, and the group's first row names
   the first document. Only rows ranked at or past
   ``max_docs_with_paragraph`` are kept (the paragraphs to remove; a small
   fraction of the rows).
3. **Back to the partitions**: those rows are indexed on their partition
   (``set_index`` with known divisions) and each partition applies them
   with the step's own ``_apply``, so annotations, rejects and stats are
   what the local step writes.

Same output as the local step, except when the local index is full
(``max_index_paragraphs``): then it stops recording new hashes, and a
distributed run has no such cap. ``--engine dask`` runs it this way in
its distributed plan (``dask_chain``).
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import numpy as np

from vocclean.engines.dask_chain import copy_records
from vocclean.record import Record
from vocclean.steps.dedup_paragraphs import DedupParagraphs

__all__ = ["dedup_paragraphs_distributed", "paragraph_rows", "repeated_rows"]

_COLUMNS = ["hash", "doc", "doc_id"]


def _frame(data: dict[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(data, columns=_COLUMNS)


def paragraph_rows(step: DedupParagraphs, records: list[Record], partition: int) -> Any:
    """(hash as int64, document number, document id) for each distinct hash of each record."""
    hashes: list[int] = []
    docs: list[int] = []
    ids: list[str] = []
    for position, record in enumerate(records):
        analysis = step._analyse(record)
        if analysis is None:
            continue
        doc = (partition << 32) | position
        for value in analysis.hashes:
            hashes.append(value)
            docs.append(doc)
            ids.append(record.id)
    as_int64 = np.array(hashes, dtype=np.uint64).view(np.int64)  # pandas shuffles int64 natively
    return _frame({"hash": as_int64, "doc": np.array(docs, dtype=np.int64), "doc_id": ids})


def repeated_rows(rows: Any, max_docs: int) -> Any:
    """In one shuffled partition (whole hash groups): rows ranked ``max_docs`` or later, with their answer."""
    rows = rows.sort_values(["hash", "doc"], kind="stable")
    groups = rows.groupby("hash", sort=False)
    rows = rows.assign(rank=groups.cumcount(), first_id=groups["doc_id"].transform("first"))
    rows = rows[rows["rank"] >= max_docs]
    return rows.assign(part=rows["doc"] // (1 << 32))[["part", "doc", "hash", "rank", "first_id"]]


def _apply_answers(
    step: DedupParagraphs, records: list[Record], partition: int, answers: Any
) -> tuple[list[Record], dict[str, int]]:
    """Run the step on one partition with the shuffled answers in place of its index."""
    step = copy.copy(step)  # its own counters: tasks may share one unpickled step
    step.stats = Counter()
    by_doc: dict[int, dict[int, tuple[int, str]]] = {}
    for doc, value, rank, first_id in zip(
        answers["doc"].tolist(),
        answers["hash"].to_numpy().view(np.uint64).tolist(),
        answers["rank"].tolist(),
        answers["first_id"].tolist(),
        strict=True,
    ):
        by_doc.setdefault(doc & 0xFFFFFFFF, {})[value] = (rank, first_id)
    out = []
    for position, record in enumerate(copy_records(records)):  # the input stays as it was
        analysis = step._analyse(record)
        if analysis is None:
            out.append(record)
            continue
        mine = by_doc.get(position, {})
        seen = [mine.get(value, (0, None)) for value in analysis.hashes] if analysis.hashes else None
        out.append(step._apply(record, analysis, seen))
    return out, dict(step.stats)


def dedup_paragraphs_distributed(
    client: Any, step: DedupParagraphs, partitions: list[Any]
) -> tuple[list[Any], dict[str, int]]:
    """Run ``step`` (``across_docs``) over ``partitions`` (lists of records, or futures of them) on Dask.

    Returns (one future per partition of its records, processed; the
    counters summed). Only the task graph and the counters reach the client.
    """
    import dask
    import dask.dataframe as dd

    if not step.across_docs:
        raise ValueError("dedup_paragraphs_distributed is for dedup-paragraphs --across-docs")
    count = len(partitions)
    if count == 0:
        return [], {}
    if count >= 1 << 31:
        raise ValueError(f"too many partitions ({count})")
    step_delayed = dask.delayed(step, traverse=False)
    # Keys of their own, not by content: see dask_engine.scatter_payload.
    parts = [p if hasattr(p, "key") else client.scatter([p], hash=False)[0] for p in partitions]
    meta = _frame({"hash": np.zeros(0, np.int64), "doc": np.zeros(0, np.int64), "doc_id": []})
    rows = dd.from_delayed(
        [dask.delayed(paragraph_rows)(step_delayed, part, number) for number, part in enumerate(parts)],
        meta=meta,
        verify_meta=False,
    )
    answer_meta = repeated_rows(
        meta.assign(doc_id=meta["doc_id"].astype(object)), step.max_docs_with_paragraph
    )
    answers = rows.shuffle("hash").map_partitions(
        repeated_rows, step.max_docs_with_paragraph, meta=answer_meta
    )
    # One answer partition per input partition (divisions 0, 1, ..., count - 1, count - 1).
    divisions = [*range(count), count - 1] if count > 1 else [0, 0]
    by_part = answers.set_index("part", divisions=divisions)
    pieces = by_part.to_delayed()
    results = [
        dask.delayed(_apply_answers, nout=2)(step_delayed, part, number, pieces[number])
        for number, part in enumerate(parts)
    ]
    # One compute for records and counters, so that each _apply_answers runs once.
    futures = client.compute([result[0] for result in results] + [result[1] for result in results])
    stats: Counter[str] = Counter()
    for counts in client.gather(futures[count:]):
        stats.update(counts)
    return futures[:count], dict(stats)
