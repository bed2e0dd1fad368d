"""dedup-articles distributed on Dask (``--keep first``): band keys shuffled, pairs verified on workers.

Documents are numbered (partition << 32) | position, which orders them as
the stream does when the partitions are the inputs in order.

1. **Map** (per partition, on workers): ``DedupArticles.prepare`` in
   batches (shingles, exact keys, MinHash, band keys, the same arrays as
   locally); each partition keeps its documents' distinct shingle sets
   (whole text and opening) for verification.
2. **Exact keys** shuffled (Dask DataFrame): per key, the smallest document
   is the canonical copy; the others are exact duplicates (edges to it).
3. **Band keys** of the other documents shuffled on (band, key): in each
   group, sorted by document, each document paired with the earliest
   ``PER_KEY`` ones before it (as the local index takes the earliest per
   key); pairs deduplicated, flagged when an opening band matched.
4. **Verify on workers**: pairs are set on the partition of the later
   document, whose task loads the shingle sets of the earlier partitions it
   needs and keeps the pairs whose exact Jaccard reaches ``threshold`` (or,
   opening bands, whose openings reach ``lead_threshold``), as locally.
5. **Connected components** over exact and verified edges: min-label
   propagation, one DataFrame merge and groupby-min per round until no
   label changes (rounds: about the diameter of the largest cluster); only
   the number of changed labels reaches the client each round.
6. **Keep first**: the smallest document of each component is kept; each
   partition marks its other documents as the local step does (duplicate
   of the keeper's id, similarity to it, exact or near).

Where it can differ from the local step: the local finder streams, so a
document joins the earliest cluster it verifies against and clusters are
never merged later, its candidates are capped per known cluster
(``PER_CLUSTER``) and per document (``max_candidates``), and pairs far
below the threshold by their MinHash estimate are not verified. Components
merge every verified pair's clusters and verify every pair. The two agree
whenever no document links two clusters that stay apart locally and no cap
is reached: clusters of copies of one story, the common case (tested).
Stats: only ``duplicates/*`` and ``cluster_size/*`` (no ``lsh/*``).
Limit: a verifying task loads the shingle sets of every earlier partition
that holds one of its pairs' documents.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import numpy as np

from vocclean.duplicate_finder import PER_KEY
from vocclean.record import Record
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.text.minhash import jaccard

__all__ = ["dedup_articles_distributed"]

_S32 = 32
_MASK = (1 << _S32) - 1


def _frame(**columns: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


def _prepare_partition(step: DedupArticles, records: list[Record], partition: int) -> dict[str, Any]:
    """Exact-key rows, band rows and the distinct shingle sets of one partition."""
    sets: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}
    exact_doc, exact_key, band_doc, band_no, band_key = [], [], [], [], []
    for start in range(0, len(records), step.batch_size):
        batch = records[start : start + step.batch_size]
        prepared = step.prepare([r.text or "" for r in batch])
        docs = (partition << _S32) | np.arange(start, start + len(batch), dtype=np.int64)
        with_text = np.flatnonzero(prepared.keys != 0)
        exact_doc.append(docs[with_text])
        exact_key.append(prepared.keys[with_text].astype(np.uint64).view(np.int64))
        columns = prepared.band_keys.shape[1]
        band_doc.append(np.repeat(docs[with_text], columns))
        band_no.append(np.tile(np.arange(columns, dtype=np.int64), len(with_text)))
        band_key.append(prepared.band_keys[with_text].reshape(-1).astype(np.uint64).view(np.int64))
        for i in with_text.tolist():
            full = np.unique(prepared.doc_hashes(i))
            lead = np.unique(prepared.lead[prepared.lead_offsets[i] : prepared.lead_offsets[i + 1]])
            sets[int(docs[i])] = (full, lead)
    empty = np.zeros(0, np.int64)
    return {
        "exact": _frame(doc=np.concatenate([empty, *exact_doc]), key=np.concatenate([empty, *exact_key])),
        "bands": _frame(
            doc=np.concatenate([empty, *band_doc]),
            band=np.concatenate([empty, *band_no]),
            key=np.concatenate([empty, *band_key]),
        ),
        "sets": sets,
        "ids": [r.id for r in records],
    }


def _exact_edges(rows: Any) -> Any:
    """Whole key groups: (doc, canonical) for every document that is not the first with its key."""
    rows = rows.sort_values(["key", "doc"], kind="stable")
    first = rows.groupby("key", sort=False)["doc"].transform("first")
    later = rows["doc"] != first
    return _frame(a=rows["doc"][later].to_numpy(), b=first[later].to_numpy())


def _band_pairs(rows: Any, lead_from: int) -> Any:
    """Whole (band, key) groups: each document with the earliest PER_KEY documents before it."""
    rows = rows.sort_values(["band", "key", "doc"], kind="stable")
    later, earlier, lead = [], [], []
    for (band, _), group in rows.groupby(["band", "key"], sort=False):
        docs = group["doc"].to_numpy()
        if len(docs) < 2:
            continue
        for j in range(1, len(docs)):
            take = docs[: min(j, PER_KEY)]
            later.append(np.full(len(take), docs[j]))
            earlier.append(take)
            lead.append(np.full(len(take), band >= lead_from))
    if not later:
        return _frame(a=np.zeros(0, np.int64), b=np.zeros(0, np.int64), lead=np.zeros(0, bool))
    return _frame(a=np.concatenate(later), b=np.concatenate(earlier), lead=np.concatenate(lead))


def _verify(step: DedupArticles, pairs: Any, *partitions: dict[str, Any]) -> Any:
    """The pairs (later a, earlier b) that are near duplicates, as the local finder verifies them."""
    sets: dict[int, Any] = {}
    for part in partitions:
        sets.update(part["sets"])
    p = step.params
    keep = []
    for a, b, lead in zip(pairs["a"].tolist(), pairs["b"].tolist(), pairs["lead"].tolist(), strict=True):
        mine, theirs = sets[a], sets[b]
        ok = jaccard(mine[0], theirs[0]) >= p.threshold
        if not ok and lead:
            ok = jaccard(mine[1], theirs[1]) >= p.lead_threshold
        keep.append(ok)
    kept = pairs[np.array(keep, dtype=bool)] if len(pairs) else pairs
    return kept[["a", "b"]].reset_index(drop=True)


def _per_partition(frame: Any, column: str, count: int) -> list[Any]:
    """The rows of ``frame`` split by the partition of ``column`` (one delayed frame per partition)."""
    divisions = [*range(count), count - 1] if count > 1 else [0, 0]
    keyed = frame.assign(part=frame[column] // (1 << _S32))
    return keyed.set_index("part", divisions=divisions).to_delayed()


def _components(client: Any, edges: Any) -> Any:
    """Min-label propagation over undirected edges (a, b): (doc, label) for every document on an edge."""
    import dask.dataframe as dd

    both = dd.concat([edges[["a", "b"]], edges[["b", "a"]].rename(columns={"b": "a", "a": "b"})])
    start = both.groupby("a")["b"].min().reset_index()
    labels = start.assign(label=start[["a", "b"]].min(axis=1))[["a", "label"]].rename(columns={"a": "doc"})
    labels = labels.persist()
    while True:
        near = both.merge(labels.rename(columns={"doc": "b", "label": "theirs"}), on="b")
        best = near.groupby("a")["theirs"].min().reset_index().rename(columns={"a": "doc"})
        joined = labels.merge(best, on="doc", how="left")
        new = joined[["label", "theirs"]].min(axis=1).astype("int64")
        changed = int(client.compute((new != joined["label"]).sum(), sync=True))
        labels = joined[["doc"]].assign(label=new).persist()
        if not changed:
            return labels


def _mark(
    step: DedupArticles,
    records: list[Record],
    partition: int,
    keepers: Any,
    exact: Any,
    ids: dict[int, str],
    *partitions: dict[str, Any],
) -> tuple[list[Record], dict[str, int]]:
    """Mark one partition's duplicates as the local step does (keeper's id, similarity, kind)."""
    step = copy.copy(step)
    step.stats = Counter()
    sets: dict[int, Any] = {}
    for part in partitions:
        sets.update(part["sets"])
    keeper_of = dict(zip(keepers["doc"].tolist(), keepers["label"].tolist(), strict=True))
    canonical = dict(zip(exact["a"].tolist(), exact["b"].tolist(), strict=True))
    for position, record in enumerate(records):
        doc = (partition << _S32) | position
        keeper = keeper_of.get(doc, doc)
        if keeper == doc:
            record.annotate(cluster=record.id)
            continue
        keeper_id = ids[keeper]
        if canonical.get(doc, doc) == canonical.get(keeper, keeper):
            kind, similarity = "exact", 1.0
        else:
            mine = sets[canonical.get(doc, doc)][0]
            similarity = jaccard(mine, sets[canonical.get(keeper, keeper)][0])
            # The local finder stores similarities as float32 before rounding.
            kind, similarity = "near", round(float(np.float32(similarity)), 4)
        step.stats[f"duplicates/{kind}"] += 1
        record.annotate(duplicate_of=keeper_id, similarity=similarity, duplicate_kind=kind, cluster=keeper_id)
        if not step.mark_only:
            record.reject(
                step.name, f"duplicate of {keeper_id}", duplicate_of=keeper_id, similarity=similarity
            )
    return records, dict(step.stats)


def _ids_of(prepared: dict[str, Any], docs: list[int]) -> dict[int, str]:
    return {doc: prepared["ids"][doc & _MASK] for doc in docs}


def dedup_articles_distributed(
    client: Any, step: DedupArticles, partitions: list[Any]
) -> tuple[list[list[Record]], dict[str, int]]:
    """Run ``step`` (``keep="first"``) over ``partitions`` on Dask: (records per partition, stats).

    ``partitions``: lists of records, or Dask delayed objects / futures of them
    (then no record passes through the client until the results).
    """
    import dask
    import dask.dataframe as dd

    if step.policy != "first":
        raise ValueError("the distributed dedup-articles keeps the first copy only (--keep first)")
    count = len(partitions)
    if not count:
        return [], {}
    step_d = dask.delayed(step, traverse=False)
    parts = [p if hasattr(p, "key") else dask.delayed(p, traverse=False) for p in partitions]
    prepared = [dask.delayed(_prepare_partition)(step_d, part, n) for n, part in enumerate(parts)]
    prepared = client.persist(prepared)
    lead_from = step.params.lsh()[0]
    exact_meta = _frame(doc=np.zeros(0, np.int64), key=np.zeros(0, np.int64))
    band_meta = _frame(doc=np.zeros(0, np.int64), band=np.zeros(0, np.int64), key=np.zeros(0, np.int64))
    exact_rows = dd.from_delayed([dask.delayed(lambda d: d["exact"])(p) for p in prepared], meta=exact_meta)
    band_rows = dd.from_delayed([dask.delayed(lambda d: d["bands"])(p) for p in prepared], meta=band_meta)
    pair_meta = _frame(a=np.zeros(0, np.int64), b=np.zeros(0, np.int64))
    exact = exact_rows.shuffle("key").map_partitions(_exact_edges, meta=pair_meta).persist()
    # Exact duplicates are not paired by bands (locally they never enter the band index).
    dups = exact[["a"]].rename(columns={"a": "doc"}).assign(dup=1)
    fresh = band_rows.merge(dups, on="doc", how="left")
    fresh = fresh[fresh["dup"].isna()][["doc", "band", "key"]]
    lead_meta = pair_meta.assign(lead=np.zeros(0, bool))
    pairs = (
        fresh.shuffle(["band", "key"])
        .map_partitions(_band_pairs, lead_from, meta=lead_meta)
        .groupby(["a", "b"])["lead"]
        .max()
        .reset_index()
    )
    pieces = _per_partition(pairs, "a", count)
    verified = dd.from_delayed(
        [dask.delayed(_verify)(step_d, pieces[n], *prepared[: n + 1]) for n in range(count)],
        meta=pair_meta,
        verify_meta=False,
    )
    edges = dd.concat([exact, verified])
    labels = _components(client, edges)
    label_pieces = _per_partition(labels, "doc", count)
    exact_pieces = _per_partition(exact, "a", count)
    label_values = client.compute(labels["label"], sync=True).tolist()  # one per document in a cluster
    keepers_by_part: dict[int, list[int]] = {}
    for doc in set(label_values):
        keepers_by_part.setdefault(doc >> _S32, []).append(doc)
    id_tables = [dask.delayed(_ids_of)(prepared[n], docs) for n, docs in keepers_by_part.items()]
    keeper_ids = {doc: id for table in client.compute(id_tables, sync=True) for doc, id in table.items()}
    results = [
        dask.delayed(_mark, nout=2)(
            step_d, parts[n], n, label_pieces[n], exact_pieces[n], keeper_ids, *prepared[: n + 1]
        )
        for n in range(count)
    ]
    computed = client.compute(results, sync=True)
    stats: Counter[str] = Counter()
    sizes = Counter(label_values)
    for _, counts in computed:
        stats.update(counts)
    for size in sizes.values():
        stats[f"cluster_size/{size}"] += 1
    return [records for records, _ in computed], dict(stats)
