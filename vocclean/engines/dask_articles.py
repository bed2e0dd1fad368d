"""dedup-articles distributed on Dask, with exactly the local step's decisions.

The local finder decides document by document in stream order, so its
answer for a document depends on the documents before it. But only on
those linked to it: a decision reads the candidates of the document (from
the band index), their clusters, and the exact-key twin. So the stream is
cut along the *candidate graph* (candidate pairs and exact twins as edges)
and each connected component is replayed on its own, in stream order, on
a worker; documents on no edge are kept alone. Documents are numbered as
the local step numbers them (their place among the step's input records,
partitions being consecutive stretches of the stream), so batches
(``batch_size``) fall where they fall locally.

1. **Map** (per partition, on workers): ``DedupArticles.prepare`` (the
   same arrays as locally); the partition keeps its documents' distinct
   shingle sets, openings and signatures (``_Partition``).
2. **Exact keys** shuffled on the key (Dask DataFrame): the first document
   with a key is its canonical copy, the others its exact twins; the twins
   go back to their partitions (``set_index`` on the partition number).
3. **Band keys** of the other documents shuffled on (band, key): in each
   group a document gets the candidates the local index would give it:
   per sorted run of the index as it stood before the document's batch
   (the runs depend only on how many new documents each batch had, so
   the client lays them out from per-batch counts), the earliest
   ``PER_KEY`` documents with the key, plus the ``PER_KEY`` before it in
   its own batch. Pairs are deduplicated per document (shuffle on it).
4. **Connected components** of the candidate graph, on workers: a
   union-find (scipy) per partition of edges, a tree reduction of the
   forests (only documents on an edge, with their component's smallest
   document), and each partition looks its documents up in the result.
5. **Replay** per component, grouped into buckets of components, on
   workers: the local finder's decisions (candidates per known cluster,
   MinHash estimate, exact verification, ``max_candidates``, joining or
   merging clusters), then the keep policy (``first``, ``longest``,
   ``field:NAME``) and, per duplicate, its keeper, kind and similarity.
6. **Mark** (per partition): each record is annotated or rejected with
   the step's own wording.

Equal to the local step: records, annotations, rejections and counters
(tested on a 2-worker LocalCluster). Not done here: ``--clusters FILE``
(the engine runs the step on the client for it). Only the forest of
documents on an edge (two int64 per document) meets in one worker.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from vocclean.dates import UNDATED
from vocclean.duplicate_finder import PER_CLUSTER, PER_KEY
from vocclean.engines.dask_chain import copy_records
from vocclean.record import Record
from vocclean.steps.dedup_articles import DedupArticles, _field_rank_key
from vocclean.text.minhash import jaccard

__all__ = ["dedup_articles_distributed"]


@dataclass
class _Partition:
    """One partition's prepared documents, numbered from ``offset`` (kept on a worker)."""

    offset: int
    ids: list[str]
    values: list[Any]  # what the keep policy compares (length or field value)
    keys: np.ndarray  # exact keys (0: no text)
    band_keys: np.ndarray
    sig: np.ndarray
    full: list[np.ndarray]  # distinct shingle hashes
    lead: list[np.ndarray]  # distinct opening shingle hashes
    long: np.ndarray  # at least min_shingles shingles: near matching applies
    days: list[int] | None  # day numbers, with within_days only
    canonical: np.ndarray | None = None  # first document with the same exact key
    counters: Counter[str] = field(default_factory=Counter)

    def fresh(self) -> np.ndarray:
        assert self.canonical is not None
        docs = self.offset + np.arange(len(self.keys), dtype=np.int64)
        return (self.keys != 0) & (self.canonical == docs)

    def near(self) -> np.ndarray:
        """The fresh documents that go into the band index (``DuplicateFinder.add_prepared``)."""
        return self.fresh() & self.long


def _frame(**columns: Any) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


def _int64(values: np.ndarray) -> np.ndarray:
    return np.asarray(values).astype(np.uint64).view(np.int64)


def _prepare(step: DedupArticles, records: list[Record], offset: int) -> _Partition:
    keys, bands, sigs, full, lead, long = [], [], [], [], [], []
    for start in range(0, len(records), step.batch_size):
        batch = step.prepare([r.text or "" for r in records[start : start + step.batch_size]])
        keys.append(batch.keys)
        long.append(np.diff(batch.offsets) >= step.params.min_shingles)
        bands.append(batch.band_keys)
        sigs.append(batch.sig)
        for i in range(len(batch)):
            full.append(np.unique(batch.doc_hashes(i)))
            lead.append(np.unique(batch.lead[batch.lead_offsets[i] : batch.lead_offsets[i + 1]]))
    width = step.params.lsh()[0] + (step.params.lead_bands if step.params.lead_threshold > 0 else 0)
    if step.policy == "longest":
        values: list[Any] = [len(r.text or "") for r in records]
    elif step.policy == "field":
        values = [r.fields.get(step.keep_field) for r in records]
    else:
        values = [None] * len(records)
    part = _Partition(
        offset,
        [r.id for r in records],
        values,
        np.concatenate([np.zeros(0, np.uint64), *keys]),
        np.concatenate([np.zeros((0, width), np.uint32), *bands]),
        np.concatenate([np.zeros((0, step.params.num_perm), np.uint16), *sigs]),
        full,
        lead,
        np.concatenate([np.zeros(0, bool), *long]),
        step.days(records),
    )
    if records:
        part.counters["skipped/no_text"] = int(np.count_nonzero(part.keys == 0))
    if part.days is not None and UNDATED in part.days:
        part.counters["dates/unreadable"] = part.days.count(UNDATED)
    return part


def _part_of(docs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.searchsorted(offsets, docs, side="right") - 1


# -- 2. exact keys -----------------------------------------------------------------------------


def _exact_rows(part: _Partition) -> Any:
    with_text = np.flatnonzero(part.keys != 0)
    return _frame(doc=part.offset + with_text.astype(np.int64), key=_int64(part.keys[with_text]))


def _exact_twins(rows: Any, offsets: np.ndarray) -> Any:
    """Whole key groups: (document, its canonical copy) for every document but the first with its key."""
    rows = rows.sort_values(["key", "doc"], kind="stable")
    first = rows.groupby("key", sort=False)["doc"].transform("first")
    later = (rows["doc"] != first).to_numpy()
    docs = rows["doc"].to_numpy()[later]
    return _frame(part=_part_of(docs, offsets), doc=docs, canonical=first.to_numpy()[later])


def _with_canonical(part: _Partition, twins: Any) -> _Partition:
    part = copy.copy(part)
    part.canonical = part.offset + np.arange(len(part.keys), dtype=np.int64)
    part.canonical[twins["doc"].to_numpy() - part.offset] = twins["canonical"].to_numpy()
    return part


def _indexed_per_batch(part: _Partition, size: int) -> dict[int, int]:
    docs = part.offset + np.flatnonzero(part.near())
    batches, counts = np.unique(docs // size, return_counts=True)
    return dict(zip(batches.tolist(), counts.tolist(), strict=True))


def run_layout(fresh_per_batch: dict[int, int], merge_ratio: int) -> dict[int, list[int]]:
    """For each batch with new documents: the first batch of each sorted run of the index before it.

    The same merging as ``dedup_index.SortedRuns.add``: a batch's entries
    become a run, merged into the previous run while that one is less than
    ``merge_ratio`` times larger. A run ends where the next one starts; the
    last one ends at the batch itself.
    """
    runs: list[list[int]] = []  # [first batch, entries]
    layout: dict[int, list[int]] = {}
    for batch in sorted(fresh_per_batch):
        layout[batch] = [start for start, _ in runs]
        runs.append([batch, fresh_per_batch[batch]])
        while len(runs) > 1 and runs[-2][1] < merge_ratio * runs[-1][1]:
            newer = runs.pop()
            runs[-1][1] += newer[1]
    return layout


# -- 3. band keys --------------------------------------------------------------------------------


def _band_rows(part: _Partition) -> Any:
    fresh = np.flatnonzero(part.near())
    width = part.band_keys.shape[1]
    docs = np.repeat(part.offset + fresh.astype(np.int64), width)
    bands = np.tile(np.arange(width, dtype=np.int64), len(fresh))
    keys = part.band_keys[fresh].reshape(-1).astype(np.int64)
    return _frame(doc=docs, band_key=(bands << 32) | keys)


def _band_pairs(rows: Any, layout: dict[int, list[int]], batch_size: int, full_bands: int) -> Any:
    """Whole (band, key) groups: each document with the candidates the local index gives it."""
    rows = rows[rows["band_key"].duplicated(keep=False)].sort_values(["band_key", "doc"], kind="stable")
    later: list[int] = []
    earlier: list[int] = []
    lead: list[bool] = []
    band_keys = rows["band_key"].to_numpy()
    all_docs = rows["doc"].to_numpy()
    starts = np.flatnonzero(np.r_[True, band_keys[1:] != band_keys[:-1]]) if len(rows) else np.zeros(0, int)
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(rows)][: len(starts)], strict=True):
        docs = all_docs[start:end]
        by_lead = int(band_keys[start]) >> 32 >= full_bands
        batches = docs // batch_size
        for i in range(1, len(docs)):
            batch = int(batches[i])
            found = [
                int(d)
                for d, b in zip(docs[max(0, i - PER_KEY) : i], batches[max(0, i - PER_KEY) : i], strict=True)
                if b == batch
            ]
            bounds = [s * batch_size for s in layout.get(batch, [])] + [batch * batch_size]
            for low, high in pairwise(bounds):
                a, b = np.searchsorted(docs, [low, high])
                found.extend(docs[a : min(b, a + PER_KEY)].tolist())
            later.extend([int(docs[i])] * len(found))
            earlier.extend(found)
            lead.extend([by_lead] * len(found))
    return _frame(
        a=np.array(later, dtype=np.int64),
        b=np.array(earlier, dtype=np.int64),
        lead=np.array(lead, dtype=bool),
    )


def _distinct_pairs(pairs: Any, offsets: np.ndarray) -> Any:
    """Whole groups of a later document: each pair once, flagged when an opening band gave it."""
    pairs = pairs.groupby(["a", "b"], sort=True)["lead"].max().reset_index()
    return pairs.assign(part=_part_of(pairs["a"].to_numpy(), offsets))


# -- 4. connected components -----------------------------------------------------------------------


def _forest(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, label): every node on an edge and the smallest node of its component."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    size = len(nodes)
    if not size:
        return nodes.astype(np.int64), nodes.astype(np.int64)
    graph = coo_matrix((np.ones(len(a), np.int8), (inverse[: len(a)], inverse[len(a) :])), shape=(size, size))
    count, component = connected_components(graph, directed=False)
    smallest = np.full(count, size, dtype=np.int64)
    np.minimum.at(smallest, component, np.arange(size))  # nodes are sorted: the first is the smallest
    return nodes.astype(np.int64), nodes[smallest[component]].astype(np.int64)


def _edge_forest(pairs: Any, twins: Any) -> tuple[np.ndarray, np.ndarray]:
    a = np.concatenate([pairs["a"].to_numpy(), twins["doc"].to_numpy()]).astype(np.int64)
    b = np.concatenate([pairs["b"].to_numpy(), twins["canonical"].to_numpy()]).astype(np.int64)
    return _forest(a, b)


def _merge_forests(*forests: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return _forest(np.concatenate([f[0] for f in forests]), np.concatenate([f[1] for f in forests]))


def _reduce(items: list[Any], merge: Any, fan_in: int = 8) -> Any:
    """A tree reduction of delayed values."""
    import dask

    while len(items) > 1:
        items = [dask.delayed(merge)(*items[i : i + fan_in]) for i in range(0, len(items), fan_in)]
    return items[0]


# -- 5. replay per component ---------------------------------------------------------------------


@dataclass(slots=True)
class _Doc:
    """What the replay needs of one document on an edge."""

    id: str
    value: Any
    canonical: int
    fresh: bool
    full: np.ndarray | None = None
    lead: np.ndarray | None = None
    sig: np.ndarray | None = None
    day: int = UNDATED
    candidates: list[tuple[int, bool]] = field(default_factory=list)  # (earlier document, by an opening band)


def _to_buckets(
    part: _Partition, pairs: Any, forest: tuple[np.ndarray, np.ndarray], buckets: int
) -> list[dict]:
    """This partition's documents on an edge, each into the bucket of its component."""
    nodes, labels = forest
    docs = part.offset + np.arange(len(part.keys), dtype=np.int64)
    at = np.searchsorted(nodes, docs)
    if len(nodes):
        on_edge = np.flatnonzero((at < len(nodes)) & (nodes[np.minimum(at, len(nodes) - 1)] == docs))
    else:  # no candidate pair nor exact twin anywhere: every document stays alone
        on_edge = np.zeros(0, dtype=np.int64)
    by_doc: dict[int, list[tuple[int, bool]]] = {}
    for a, b, lead in zip(pairs["a"].tolist(), pairs["b"].tolist(), pairs["lead"].tolist(), strict=True):
        by_doc.setdefault(a, []).append((b, bool(lead)))
    fresh = part.fresh()
    assert part.canonical is not None
    out: list[dict[int, tuple[int, _Doc]]] = [{} for _ in range(buckets)]
    for i in on_edge.tolist():
        doc = int(docs[i])
        entry = _Doc(part.ids[i], part.values[i], int(part.canonical[i]), bool(fresh[i]))
        if entry.fresh:
            entry.full, entry.lead, entry.sig = part.full[i], part.lead[i], part.sig[i]
            entry.day = UNDATED if part.days is None else part.days[i]
            entry.candidates = sorted(by_doc.get(doc, []))
        label = int(labels[at[i]])
        out[label % buckets][doc] = entry
    return out


class _Replay:
    """The local finder's decisions, replayed over the documents of whole components."""

    def __init__(self, step: DedupArticles, docs: dict[int, _Doc]) -> None:
        self.step, self.docs = step, docs
        self.params = step.params
        self.merge = step.policy != "first"
        self.parent: dict[int, int] = {}
        self.similarity: dict[int, np.float32] = {}
        self.stats: Counter[str] = Counter()

    def find(self, doc: int) -> int:
        root = doc
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(doc, doc) != root:  # path compression
            self.parent[doc], doc = root, self.parent[doc]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def run(self) -> None:
        size = self.step.batch_size
        order = sorted(self.docs)
        start = 0
        while start < len(order):
            batch = order[start] // size
            end = start
            while end < len(order) and order[end] // size == batch:
                end += 1
            self._batch(order[start:end])
            start = end

    def _batch(self, docs: list[int]) -> None:
        candidates = {doc: self._candidates(doc, docs[0]) for doc in docs if self.docs[doc].candidates}
        for doc in docs:
            entry = self.docs[doc]
            if not entry.fresh:
                self._join_exact(doc, entry.canonical)
            elif candidates.get(doc):
                self._join_near(doc, *candidates[doc])
        if not self.merge:  # streaming marks each batch before the next: similarities kept rounded
            for doc in docs:
                keeper = self.find(doc)
                if keeper != doc:
                    self.similarity[doc] = np.float32(round(self.relation(doc, keeper)[1], 4))

    def _candidates(self, doc: int, batch_start: int) -> tuple[list[int], set[int]]:
        """As ``DuplicateFinder._candidates`` for one document, clusters as they stood at its batch."""
        pairs = self.docs[doc].candidates
        self.stats["lsh/candidate_pairs"] += len(pairs)
        if self.params.within_days is not None:
            close = [(earlier, lead) for earlier, lead in pairs if self._close(doc, earlier)]
            if len(close) < len(pairs):
                self.stats["lsh/outside_days"] += len(pairs) - len(close)
            pairs = close
        per_root: Counter[int] = Counter()
        kept = []
        for earlier, lead in pairs:  # sorted by the earlier document
            root = self.find(earlier) if earlier < batch_start else earlier
            per_root[root] += 1
            if per_root[root] <= PER_CLUSTER:
                kept.append((earlier, lead))
        mine = self.docs[doc].sig
        floor = self.params.threshold - self.params.estimate_margin
        out: tuple[list[int], set[int]] = ([], set())
        for earlier, lead in kept:
            estimate = np.count_nonzero(mine == self.docs[earlier].sig) / len(mine)
            if lead or estimate >= floor:
                out[0].append(earlier)
                if lead:
                    out[1].add(earlier)
            else:
                self.stats["lsh/dropped_by_estimate"] += 1
        return out

    def _close(self, doc: int, other: int) -> bool:
        """As ``DuplicateFinder._within_days``: dates at most ``within_days`` apart, or not both known."""
        mine, theirs = self.docs[doc].day, self.docs[other].day
        return UNDATED in (mine, theirs) or abs(mine - theirs) <= self.params.within_days

    def _join_exact(self, doc: int, twin: int) -> None:
        root = self.find(twin)
        if self.merge:
            self.union(doc, twin)
        else:
            self.parent[doc] = root
        self.similarity[doc] = np.float32(1.0) if twin == root else self.similarity.get(twin, np.float32(1.0))

    def _join_near(self, doc: int, candidates: list[int], by_lead: set[int]) -> None:
        by_root = sorted((self.find(c), c) for c in candidates)
        joined: set[int] = set()
        budget = self.params.max_candidates
        full = self.docs[doc].full
        for root, candidate in by_root:
            if root in joined:
                continue
            if budget == 0:
                self.stats["lsh/capped_documents"] += 1
                return
            budget -= 1
            similarity = self._verify(doc, candidate, candidate in by_lead)
            if similarity is None:
                continue
            joined.add(root)
            if not self.merge:
                self.parent[doc] = root
                if candidate != root:
                    similarity = jaccard(full, self.docs[root].full)
                self.similarity[doc] = np.float32(similarity)
                return
            self.union(doc, root)

    def _verify(self, doc: int, other: int, lead_band: bool) -> float | None:
        self.stats["lsh/verified_pairs"] += 1
        mine, theirs = self.docs[doc], self.docs[other]
        similarity = jaccard(mine.full, theirs.full)
        if similarity >= self.params.threshold:
            return similarity
        if lead_band and jaccard(mine.lead, theirs.lead) >= self.params.lead_threshold:
            self.stats["lsh/opening_matches"] += 1
            return similarity
        return None

    def relation(self, doc: int, keeper: int) -> tuple[str, float]:
        a, b = self.docs[doc].canonical, self.docs[keeper].canonical
        if a == b:
            return "exact", 1.0
        if not self.merge:
            return "near", float(self.similarity[doc])
        return "near", jaccard(self.docs[a].full, self.docs[b].full)

    def keepers(self) -> dict[int, int]:
        """The document kept for each document's cluster."""
        roots = {doc: self.find(doc) for doc in self.docs}
        if not self.merge:
            return roots
        best: dict[int, tuple] = {}
        for doc in sorted(self.docs):
            value = self.docs[doc].value
            rank = (-value,) if self.step.policy == "longest" else _field_rank_key(value)
            mine = (rank, doc)
            if roots[doc] not in best or mine < best[roots[doc]]:
                best[roots[doc]] = mine
        return {doc: best[root][1] for doc, root in roots.items()}


def _replay(
    step: DedupArticles, offsets: np.ndarray, *pieces: dict[int, _Doc]
) -> tuple[list[Any], Counter[str]]:
    """Replay one bucket of components; the duplicates' decisions, one frame per partition."""
    docs: dict[int, _Doc] = {}
    for piece in pieces:
        docs.update(piece)
    replay = _Replay(step, docs)
    replay.run()
    keepers = replay.keepers()
    decisions: list[tuple[int, str, str, float]] = []
    for doc, keeper in sorted(keepers.items()):
        if keeper != doc:
            kind, similarity = replay.relation(doc, keeper)
            decisions.append((doc, docs[keeper].id, kind, round(similarity, 4)))
    for size, count in sorted(Counter(Counter(keepers.values()).values()).items()):
        if size > 1:
            replay.stats[f"cluster_size/{size}"] += count
    rows = _frame(
        doc=np.array([d[0] for d in decisions], dtype=np.int64),
        keeper=[d[1] for d in decisions],
        kind=[d[2] for d in decisions],
        similarity=np.array([d[3] for d in decisions], dtype=np.float64),
    )
    parts = _part_of(rows["doc"].to_numpy(), offsets)
    return [rows[parts == n] for n in range(len(offsets))], replay.stats


# -- 6. mark -----------------------------------------------------------------------------------


def _mark(
    step: DedupArticles, records: list[Record], part: _Partition, *decisions: Any
) -> tuple[list[Record], Counter[str]]:
    """Annotate and reject one partition's records as the local step does; its counters."""
    stats = Counter(part.counters)
    offset = part.offset
    records = copy_records(records)  # the task's input stays as it was, should Dask run it again
    decided: dict[int, tuple[str, str, float]] = {}
    for frame in decisions:
        for doc, keeper, kind, similarity in frame.itertuples(index=False):
            decided[doc - offset] = (keeper, kind, float(similarity))
    for position, record in enumerate(records):
        decision = decided.get(position)
        if decision is None:
            record.annotate(cluster=record.id)
            continue
        keeper_id, kind, similarity = decision
        stats[f"duplicates/{kind}"] += 1
        record.annotate(duplicate_of=keeper_id, similarity=similarity, duplicate_kind=kind, cluster=keeper_id)
        if not step.mark_only:
            record.reject(
                step.name, f"duplicate of {keeper_id}", duplicate_of=keeper_id, similarity=similarity
            )
    return records, stats


# -- the plan ------------------------------------------------------------------------------------


def dedup_articles_distributed(
    client: Any, step: DedupArticles, partitions: list[Any]
) -> tuple[list[Any], dict[str, int]]:
    """Run ``step`` over ``partitions`` (lists of records, or futures of them, in stream order) on Dask.

    Returns (one future per partition of its records, marked; the step's
    counters). Only counts (records per partition, new texts per batch,
    counters) reach the client, never a record or a signature.
    """
    import dask
    import dask.dataframe as dd
    from distributed import wait

    from vocclean.dedup_index import SortedRuns

    if step.clusters_path is not None:
        raise ValueError("the distributed dedup-articles does not write --clusters")
    count = len(partitions)
    if not count:
        return []
    # Keys of their own, not by content: see dask_engine.scatter_payload.
    parts = [p if hasattr(p, "key") else client.scatter([p], hash=False)[0] for p in partitions]
    sizes = client.gather(client.map(len, parts, pure=False))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)[:-1]
    step_d = dask.delayed(step, traverse=False)
    prepared = client.compute(
        [dask.delayed(_prepare)(step_d, part, int(offsets[n])) for n, part in enumerate(parts)]
    )
    wait(prepared)
    divisions = [*range(count), count - 1] if count > 1 else [0, 0]

    # Exact keys: shuffled on the key; each partition learns its twins.
    exact_meta = _frame(doc=np.zeros(0, np.int64), key=np.zeros(0, np.int64))
    twins_meta = _frame(
        part=np.zeros(0, np.int64), doc=np.zeros(0, np.int64), canonical=np.zeros(0, np.int64)
    )
    rows = dd.from_delayed(
        [dask.delayed(_exact_rows)(p) for p in prepared], meta=exact_meta, verify_meta=False
    )
    twins = rows.shuffle("key").map_partitions(_exact_twins, offsets, meta=twins_meta)
    twin_pieces = twins.set_index("part", divisions=divisions).to_delayed()
    twin_futures = client.compute(twin_pieces)
    indexed = client.compute(
        [dask.delayed(_with_canonical)(p, t) for p, t in zip(prepared, twin_futures, strict=True)]
    )
    wait(indexed)

    # Band keys: laid out as the local index's runs, shuffled on (band, key), paired, deduplicated.
    per_batch: Counter[int] = Counter()
    for counts in client.gather(client.map(_indexed_per_batch, indexed, size=step.batch_size)):
        per_batch.update(counts)
    layout = dask.delayed(run_layout(per_batch, SortedRuns.MERGE_RATIO), traverse=False)
    band_meta = _frame(doc=np.zeros(0, np.int64), band_key=np.zeros(0, np.int64))
    pair_meta = _frame(a=np.zeros(0, np.int64), b=np.zeros(0, np.int64), lead=np.zeros(0, bool))
    bands = dd.from_delayed([dask.delayed(_band_rows)(p) for p in indexed], meta=band_meta, verify_meta=False)
    full_bands = step.params.lsh()[0]
    pairs = bands.shuffle("band_key").map_partitions(
        _band_pairs, layout, step.batch_size, full_bands, meta=pair_meta
    )
    distinct = pairs.shuffle("a").map_partitions(
        _distinct_pairs, offsets, meta=pair_meta.assign(part=np.zeros(0, np.int64))
    )
    pair_pieces = client.compute(distinct.set_index("part", divisions=divisions).to_delayed())
    wait(pair_pieces)

    # Components: a forest per partition of edges, reduced as a tree on the workers.
    forests = [dask.delayed(_edge_forest)(p, t) for p, t in zip(pair_pieces, twin_futures, strict=True)]
    forest = client.compute(_reduce(forests, _merge_forests))
    wait(forest)

    # Replay per bucket of components; decisions back to their partitions.
    buckets = max(1, min(count, 2 * len(client.nthreads())))
    routed = [
        dask.delayed(_to_buckets, nout=buckets)(p, pairs_piece, forest, buckets)
        for p, pairs_piece in zip(indexed, pair_pieces, strict=True)
    ]
    replays = [
        dask.delayed(_replay, nout=2)(step_d, offsets, *[r[k] for r in routed]) for k in range(buckets)
    ]
    marked = [
        dask.delayed(_mark, nout=2)(step_d, part, indexed[n], *[replay[0][n] for replay in replays])
        for n, part in enumerate(parts)
    ]
    # One compute for records and counters: two would let the scheduler release a _mark result
    # between them and run that task again.
    futures = client.compute([m[0] for m in marked] + [m[1] for m in marked] + [r[1] for r in replays])
    records = futures[:count]
    stats: Counter[str] = Counter()
    for counts in client.gather(futures[count:]):
        stats.update(counts)
    # The local finder adds these counters (0 included) once a batch has new texts or pairs.
    if per_batch:
        stats["lsh/candidate_pairs"] += 0
    if stats["lsh/candidate_pairs"]:
        stats["lsh/dropped_by_estimate"] += 0
    return records, dict(stats)
