"""Find exact and near-duplicate texts in a stream, a batch at a time.

Each batch is shingled and MinHashed in numpy (``vocclean.text``). A text
whose exact key (its folded unit sequence) was seen before is an exact
duplicate. Any other text is looked up in the LSH index. A candidate pair
whose MinHash estimate is far below the threshold (``estimate_margin``, over
four standard deviations at 128 bins) is dropped; every other one is
verified on the stored shingle sets, and nothing is joined unverified:

- the Jaccard similarity of the whole shingle sets reaches ``threshold``, or
- the Jaccard similarity of their first ``lead_shingles`` shingles reaches
  ``lead_threshold``: the same article with different trailing junk
  (teasers, related links) appended by two crawls.

With ``within_days`` set, a candidate pair whose two dates (day numbers
given with each batch, ``vocclean.dates``) are further apart is never a
near duplicate: the same ceremony a year later is another story. A text
without a date is compared with every other; exact copies are duplicates
whatever their dates.

Clusters are kept by union-find whose roots are the earliest documents.
With ``merge_clusters=False`` (keep the first copy, streaming) a new text
joins the earliest cluster it matches and two existing clusters are never
merged, because both first copies have already been written. With
``merge_clusters=True`` every verified pair joins its clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vocclean.dates import UNDATED
from vocclean.dedup_index import (
    GrowableArray,
    IdTable,
    KeyIndex,
    ShingleStore,
    SignatureFile,
    SortedRuns,
    UnionFind,
)
from vocclean.text.minhash import (
    band_keys,
    jaccard,
    leading,
    lsh_params,
    signatures,
    text_index,
)
from vocclean.text.shingles import Shingler

PER_KEY = 8  # documents taken per band key per run: the earliest, so roots come first
PER_CLUSTER = 3  # candidates kept per known cluster of a new text


@dataclass(frozen=True, slots=True)
class FinderParams:
    """Settings of a duplicate search; ``bands``/``rows`` of 0 are derived from the threshold."""

    threshold: float = 0.6
    num_perm: int = 128
    ngram: int = 5
    bands: int = 0
    rows: int = 0
    lead_shingles: int = 256
    lead_threshold: float = 0.9
    lead_bands: int = 6
    lead_rows: int = 8
    max_candidates: int = 100
    estimate_margin: float = 0.2
    # Texts of fewer shingles are matched exactly only: near matching on a line or two is noise
    # (xwlb: 282 stories that are only a link, the video id differing, were "near duplicates").
    min_shingles: int = 20
    # Near duplicates only within this many days of each other (None: any dates).
    within_days: int | None = None

    def lsh(self) -> tuple[int, int]:
        if self.bands and self.rows:
            return self.bands, self.rows
        if self.bands:
            return self.bands, self.num_perm // self.bands
        return lsh_params(self.threshold, self.num_perm)


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    """What ``prepare_batch`` computes for a batch of texts (numpy arrays; they pickle compactly).

    ``hashes[offsets[i]:offsets[i + 1]]``: text i's shingle hashes; ``keys``:
    exact-duplicate keys (0: no text); ``lead``/``lead_offsets``: the opening
    shingles (the first ``lead_shingles``); ``sig``: MinHash signatures,
    kept as uint16 (all the index uses of them; the band keys come from the
    full values); ``band_keys``: one column per LSH band, then per opening
    band.

    Pickled without the openings (a quarter of the bytes on xwlb), which
    are recomputed on arrival: batches cross process pipes when the hashing
    runs on workers.
    """

    hashes: np.ndarray
    offsets: np.ndarray
    keys: np.ndarray
    lead: np.ndarray
    lead_offsets: np.ndarray
    sig: np.ndarray
    band_keys: np.ndarray
    lead_shingles: int

    def __len__(self) -> int:
        return len(self.keys)

    def __reduce__(self) -> tuple:
        wire = (self.hashes, self.offsets, self.keys, self.sig, self.band_keys, self.lead_shingles)
        return _prepared_from_wire, wire

    def doc_hashes(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    def take(self, start: int, stop: int) -> PreparedBatch:
        """The arrays of texts ``start`` to ``stop`` (what ``prepare_batch`` gives for just those texts)."""
        offsets = self.offsets[start : stop + 1]
        lead_offsets = self.lead_offsets[start : stop + 1]
        return PreparedBatch(
            self.hashes[offsets[0] : offsets[-1]],
            offsets - offsets[0],
            self.keys[start:stop],
            self.lead[lead_offsets[0] : lead_offsets[-1]],
            lead_offsets - lead_offsets[0],
            self.sig[start:stop],
            self.band_keys[start:stop],
            self.lead_shingles,
        )


def concatenate(parts: Sequence[PreparedBatch]) -> PreparedBatch:
    """One batch of the texts of ``parts``, in order: equal to ``prepare_batch`` of all their texts.

    Every array is per text (nothing depends on the other texts of a batch),
    so batches prepared in pieces, in any processes, join into the same arrays.
    """
    if len(parts) == 1:
        return parts[0]

    def joined(arrays: list[np.ndarray]) -> np.ndarray:
        ends = np.cumsum([a[-1] for a in arrays[:-1]], dtype=np.int64)
        shifted = [arrays[0]] + [a[1:] + end for a, end in zip(arrays[1:], ends, strict=True)]
        return np.concatenate(shifted)

    return PreparedBatch(
        np.concatenate([p.hashes for p in parts]),
        joined([p.offsets for p in parts]),
        np.concatenate([p.keys for p in parts]),
        np.concatenate([p.lead for p in parts]),
        joined([p.lead_offsets for p in parts]),
        np.concatenate([p.sig for p in parts]),
        np.concatenate([p.band_keys for p in parts]),
        parts[0].lead_shingles,
    )


def prepare_batch(shingler: Shingler, params: FinderParams, texts: Sequence[str]) -> PreparedBatch:
    """Shingles, exact keys, MinHash signatures and band keys of a batch: the pure, costly part.

    It depends on the texts and the settings only (no index), so it can run
    in any process, batches in parallel, and give the same arrays.
    """
    bands, rows = params.lsh()
    batch = shingler.batch(texts)
    lead, lead_offsets = leading(batch.hashes, batch.offsets, params.lead_shingles)
    sig = signatures(batch.hashes, batch.offsets, params.num_perm, text_index(batch.offsets))
    keys = band_keys(sig, bands, rows)
    if params.lead_threshold > 0 and params.lead_bands:
        lead_sig = signatures(lead, lead_offsets, params.lead_bands * params.lead_rows)
        keys = np.concatenate([keys, band_keys(lead_sig, params.lead_bands, params.lead_rows)], axis=1)
    sig16 = sig.astype(np.uint16)
    return PreparedBatch(
        batch.hashes, batch.offsets, batch.keys, lead, lead_offsets, sig16, keys, params.lead_shingles
    )


def _prepared_from_wire(
    hashes: np.ndarray, offsets: np.ndarray, keys: np.ndarray, sig: np.ndarray, band: np.ndarray, limit: int
) -> PreparedBatch:
    lead, lead_offsets = leading(hashes, offsets, limit)
    return PreparedBatch(hashes, offsets, keys, lead, lead_offsets, sig, band, limit)


class DuplicateFinder:
    """The duplicate search over a stream of texts; documents are numbered 0, 1, 2... in order."""

    def __init__(
        self,
        params: FinderParams,
        merge_clusters: bool = False,
        tmp_dir: str | None = None,
        shingler: Shingler | None = None,
    ) -> None:
        self.params = params
        self.bands, self.rows = params.lsh()
        if self.bands * self.rows > params.num_perm or not (0 < params.threshold <= 1):
            raise ValueError(f"invalid LSH settings: {params}")
        self.merge_clusters = merge_clusters
        if shingler is not None and shingler.ngram != params.ngram:
            raise ValueError(
                f"the shingler makes {shingler.ngram}-grams, the settings ask for {params.ngram}"
            )
        self.shingler = shingler or Shingler(params.ngram)
        self.stats: Counter[str] = Counter()
        self.ids = IdTable()
        self.clusters = UnionFind()
        self.canonical = GrowableArray(np.int32)  # first document with the same exact key
        self.similarity = GrowableArray(np.float32)  # to the root it joined (streaming mode)
        self.days = GrowableArray(np.int32)  # day numbers (UNDATED: none), with within_days only
        self.exact_keys = KeyIndex()
        self.lead_bands = params.lead_bands if params.lead_threshold > 0 else 0
        self.band_runs = [SortedRuns() for _ in range(self.bands + self.lead_bands)]
        self.full_sets = ShingleStore(tmp_dir)
        self.lead_sets = ShingleStore(tmp_dir)
        self.signature_file = SignatureFile(params.num_perm, tmp_dir)

    def __len__(self) -> int:
        return len(self.ids)

    def close(self) -> None:
        self.full_sets.close()
        self.lead_sets.close()
        self.signature_file.close()

    def prepare(self, texts: Sequence[str]) -> PreparedBatch:
        """The expensive, pure part of ``add`` (see ``prepare_batch``)."""
        return prepare_batch(self.shingler, self.params, texts)

    def add(self, ids: Sequence[str], texts: Sequence[str], days: Sequence[int] | None = None) -> range:
        """Index a batch; returns the numbers given to its documents."""
        return self.add_prepared(ids, self.prepare(texts), days)

    def add_prepared(
        self, ids: Sequence[str], prepared: PreparedBatch, days: Sequence[int] | None = None
    ) -> range:
        """Index a batch prepared by ``prepare_batch`` (anywhere): look-ups, verification, decisions.

        ``days``: each text's day number (``vocclean.dates``), read only with
        ``within_days``; None: all undated. Batches must come in stream
        order; the result depends only on the prepared batches, their days
        and their order, not on where they were prepared.
        """
        base, count = len(self), len(prepared.keys)
        p = self.params
        batch = prepared
        lead, lead_offsets, sig, keys = prepared.lead, prepared.lead_offsets, prepared.sig, prepared.band_keys
        if len(ids) != count:
            raise ValueError(f"{len(ids)} ids for a prepared batch of {count} texts")
        self.ids.extend(ids)
        if p.within_days is not None:
            self.days.extend(np.zeros(count, np.int32) if days is None else days)
        self.clusters.add(count)
        self.similarity.extend(np.ones(count, dtype=np.float32))
        docs = np.arange(base, base + count, dtype=np.int64)
        canonical = self._exact_matches(batch.keys, docs)
        self.canonical.extend(canonical)
        fresh = (canonical == docs) & (batch.keys != 0)

        counts = np.diff(batch.offsets)
        lead_counts = np.diff(lead_offsets)
        # Shingle hashes are stored as they come (sorted and deduplicated only
        # when a pair is verified, which few documents need).
        self.full_sets.append(batch.hashes[np.repeat(fresh, counts)], np.where(fresh, counts, 0))
        # A text within the opening length has its opening in full_sets already.
        long_fresh = fresh & (np.diff(batch.offsets) > p.lead_shingles)
        self.lead_sets.append(lead[np.repeat(long_fresh, lead_counts)], np.where(long_fresh, lead_counts, 0))
        self.signature_file.append(sig)
        near = fresh & (counts >= p.min_shingles)  # long enough to compare by shingles
        candidates = self._candidates(keys, near, docs, sig)

        self.stats["skipped/no_text"] += int(np.count_nonzero(batch.keys == 0))
        exact = np.flatnonzero((canonical != docs) & (batch.keys != 0)).tolist()
        # In batch order: a text's decision may depend on an earlier one of the same batch.
        for i in sorted({*exact, *candidates}):
            doc = base + i
            if canonical[i] != doc:
                self._join_exact(doc, int(canonical[i]))
            else:
                mine = np.unique(batch.doc_hashes(i)), np.unique(lead[lead_offsets[i] : lead_offsets[i + 1]])
                self._join_near(doc, mine, *candidates[i])
        return range(base, base + count)

    def _exact_matches(self, keys: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """The first document (earlier batches included) with each text's exact key."""
        canonical = docs.copy()
        with_text = np.flatnonzero(keys)
        if not len(with_text):
            return canonical
        unique, first, inverse = np.unique(keys[with_text], return_index=True, return_inverse=True)
        owner = docs[with_text[first]]
        earlier = self.exact_keys.lookup(unique)
        known = earlier >= 0
        owner[known] = earlier[known]
        self.exact_keys.add(unique[~known], owner[~known])
        canonical[with_text] = owner[inverse]
        return canonical

    def _candidates(
        self, keys: np.ndarray, fresh: np.ndarray, docs: np.ndarray, sig: np.ndarray
    ) -> dict[int, tuple[list[int], set[int]]]:
        """Earlier documents worth verifying for each new text of the batch.

        {batch position: (earlier documents, those that also share an opening band)}.
        A pair that shares a band is dropped here only when its MinHash
        estimate is far below the threshold (``estimate_margin``, several
        standard deviations); the rest are verified exactly one by one.
        """
        rows = np.flatnonzero(fresh)
        if not len(rows):
            return {}
        limit = PER_KEY
        found: list[np.ndarray] = []
        found_by_lead: list[np.ndarray] = []
        for band, runs in enumerate(self.band_runs):
            column = keys[rows, band]
            order = np.argsort(column, kind="stable")
            ordered = column[order]
            out = found if band < self.bands else found_by_lead
            query, earlier = runs.lookup(ordered, limit)
            out.append(_pack(rows[order[query]], earlier))
            for step in range(1, min(limit, len(order)) + 1):
                same = np.flatnonzero(ordered[step:] == ordered[:-step])
                if not len(same):
                    break
                out.append(_pack(rows[order[same + step]], docs[rows[order[same]]]))
            runs.add(ordered, docs[rows[order]])
        lead_pairs = np.unique(np.concatenate(found_by_lead)) if found_by_lead else np.zeros(0, np.uint64)
        pairs = np.unique(np.concatenate([*found, lead_pairs]))
        self.stats["lsh/candidate_pairs"] += len(pairs)
        if not len(pairs):
            return {}
        by_lead = np.isin(pairs, lead_pairs, assume_unique=True)
        if self.params.within_days is not None:
            pairs, by_lead = self._within_days(pairs, by_lead, int(docs[0]))
        pairs, by_lead = self._few_per_cluster(pairs, by_lead)
        position, earlier = _unpack(pairs)
        estimate = self._estimates(sig, position, earlier, int(docs[0]))
        worth = by_lead | (estimate >= self.params.threshold - self.params.estimate_margin)
        self.stats["lsh/dropped_by_estimate"] += int(np.count_nonzero(~worth))
        candidates: dict[int, tuple[list[int], set[int]]] = {}
        for pos, doc, lead_match in zip(
            position[worth].tolist(), earlier[worth].tolist(), by_lead[worth].tolist(), strict=True
        ):
            entry = candidates.setdefault(pos, ([], set()))
            entry[0].append(doc)
            if lead_match:
                entry[1].add(doc)
        return candidates

    def _within_days(
        self, pairs: np.ndarray, by_lead: np.ndarray, base: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The pairs whose dates are at most ``within_days`` apart, or not both known."""
        position, earlier = _unpack(pairs)
        days = self.days.view
        mine, theirs = days[base + position].astype(np.int64), days[earlier].astype(np.int64)
        close = (mine == UNDATED) | (theirs == UNDATED) | (np.abs(mine - theirs) <= self.params.within_days)
        outside = len(pairs) - int(np.count_nonzero(close))
        if outside:
            self.stats["lsh/outside_days"] += outside
        return pairs[close], by_lead[close]

    def _few_per_cluster(self, pairs: np.ndarray, by_lead: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keep at most PER_CLUSTER candidates (the earliest) of one new text in one known cluster.

        A large cluster of copies shares bands with every new copy; verifying
        against a few of its members decides as well as against all of them.
        """
        position, earlier = _unpack(pairs)
        roots = self.clusters.parent.view[earlier].astype(np.int64)
        while True:  # vectorised find (trees are shallow)
            up = self.clusters.parent.view[roots].astype(np.int64)
            if np.array_equal(up, roots):
                break
            roots = up
        order = np.lexsort((earlier, roots, position))
        group = position[order] * (len(self) + 1) + roots[order]
        rank = np.arange(len(order)) - np.searchsorted(group, group)
        keep = np.sort(order[rank < PER_CLUSTER])
        return pairs[keep], by_lead[keep]

    def _estimates(self, sig: np.ndarray, position: np.ndarray, earlier: np.ndarray, base: int) -> np.ndarray:
        """MinHash estimates of the Jaccard similarity of each candidate pair."""
        sig = sig.astype(np.uint16)
        other = np.empty((len(earlier), sig.shape[1]), dtype=np.uint16)
        in_batch = earlier >= base
        other[in_batch] = sig[earlier[in_batch] - base]
        before = np.flatnonzero(~in_batch)
        if len(before):
            other[before] = self.signature_file.read(earlier[before].tolist())
        return np.count_nonzero(sig[position] == other, axis=1) / sig.shape[1]

    def _join_exact(self, doc: int, twin: int) -> None:
        root = self.clusters.find(twin)
        if self.merge_clusters:
            self.clusters.union(doc, twin)
        else:
            self.clusters.parent.view[doc] = root
        self.similarity.view[doc] = 1.0 if twin == root else self.similarity.view[twin]

    def _join_near(
        self, doc: int, mine: tuple[np.ndarray, np.ndarray], candidates: list[int], by_lead: set[int]
    ) -> None:
        by_root = sorted((self.clusters.find(c), c) for c in candidates)
        joined: set[int] = set()
        budget = self.params.max_candidates
        for root, candidate in by_root:
            if root in joined:
                continue
            if budget == 0:
                self.stats["lsh/capped_documents"] += 1
                return
            budget -= 1
            similarity = self._verify(mine, candidate, candidate in by_lead)
            if similarity is None:
                continue
            joined.add(root)
            if not self.merge_clusters:
                self.clusters.parent.view[doc] = root
                if candidate != root:
                    similarity = jaccard(mine[0], self.full_sets.get_set(root))
                self.similarity.view[doc] = similarity
                return
            self.clusters.union(doc, root)

    def _verify(self, mine: tuple[np.ndarray, np.ndarray], other: int, lead_band: bool) -> float | None:
        """The Jaccard similarity of two texts when they are near duplicates, else None.

        Near duplicates: the whole shingle sets reach ``threshold``, or (for
        pairs that share an opening band) the openings reach ``lead_threshold``.
        """
        self.stats["lsh/verified_pairs"] += 1
        similarity = jaccard(mine[0], self.full_sets.get_set(other))
        if similarity >= self.params.threshold:
            return similarity
        if lead_band:
            theirs = self.lead_sets.get_set(other)
            if not len(theirs):  # a short text: its opening is the whole text
                theirs = self.full_sets.get_set(other)
            opening = jaccard(mine[1], theirs)
            if opening >= self.params.lead_threshold:
                self.stats["lsh/opening_matches"] += 1
                return similarity
        return None

    def relation(self, doc: int, keeper: int) -> tuple[str, float]:
        """("exact" | "near", similarity) of a document to the copy kept for its cluster."""
        a, b = int(self.canonical.view[doc]), int(self.canonical.view[keeper])
        if a == b:
            return "exact", 1.0
        if not self.merge_clusters and keeper == self.clusters.find(doc):
            return "near", float(self.similarity.view[doc])
        return "near", jaccard(self.full_sets.get_set(a), self.full_sets.get_set(b))

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held in memory by each part of the index (the shingle file is on disk)."""
        return {
            "lsh_bands": sum(r.nbytes for r in self.band_runs),
            "exact_keys": self.exact_keys.nbytes,
            "ids": self.ids.nbytes,
            "per_document_arrays": self.clusters.parent.nbytes
            + self.canonical.nbytes
            + self.similarity.nbytes,
            "shingle_file_offsets": self.full_sets.nbytes + self.lead_sets.nbytes,
        }


def _pack(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    return (later.astype(np.uint64) << np.uint64(32)) | earlier.astype(np.uint64)


def _unpack(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (pairs >> np.uint64(32)).astype(np.int64), (pairs & np.uint64(0xFFFFFFFF)).astype(np.int64)
