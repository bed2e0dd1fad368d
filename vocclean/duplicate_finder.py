"""Find exact and near-duplicate texts in a stream, a batch at a time.

Each batch is shingled and MinHashed in numpy (``vocclean.text``). A text
whose exact key (its folded unit sequence) was seen before is an exact
duplicate. Any other text is looked up in the LSH index; every candidate
is verified on the stored shingle sets before two texts are joined:

- the Jaccard similarity of the whole shingle sets reaches ``threshold``, or
- the Jaccard similarity of their first ``lead_shingles`` shingles reaches
  ``lead_threshold``: the same article with different trailing junk
  (teasers, related links) appended by two crawls.

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

from vocclean.dedup_index import GrowableArray, IdTable, KeyIndex, ShingleStore, SortedRuns, UnionFind
from vocclean.text.minhash import band_keys, distinct_values, jaccard, leading, lsh_params, signatures
from vocclean.text.shingles import Shingler


@dataclass(frozen=True, slots=True)
class FinderParams:
    """Settings of a duplicate search; ``bands``/``rows`` of 0 are derived from the threshold."""

    threshold: float = 0.5
    num_perm: int = 128
    ngram: int = 5
    bands: int = 0
    rows: int = 0
    lead_shingles: int = 256
    lead_threshold: float = 0.9
    lead_bands: int = 4
    lead_rows: int = 4
    max_candidates: int = 100

    def lsh(self) -> tuple[int, int]:
        if self.bands and self.rows:
            return self.bands, self.rows
        if self.bands:
            return self.bands, self.num_perm // self.bands
        return lsh_params(self.threshold, self.num_perm)


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
        self.exact_keys = KeyIndex()
        lead_bands = params.lead_bands if params.lead_threshold > 0 else 0
        self.band_runs = [SortedRuns() for _ in range(self.bands + lead_bands)]
        self.full_sets = ShingleStore(tmp_dir)
        self.lead_sets = ShingleStore(tmp_dir)

    def __len__(self) -> int:
        return len(self.ids)

    def close(self) -> None:
        self.full_sets.close()
        self.lead_sets.close()

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> range:
        """Index a batch; returns the numbers given to its documents."""
        base, count = len(self), len(texts)
        batch = self.shingler.batch(texts)
        self.ids.extend(ids)
        self.clusters.add(count)
        self.similarity.extend(np.ones(count, dtype=np.float32))
        docs = np.arange(base, base + count, dtype=np.int64)
        canonical = self._exact_matches(batch.keys, docs)
        self.canonical.extend(canonical)
        fresh = (canonical == docs) & (batch.keys != 0)
        self._store_sets(batch.hashes, batch.offsets, fresh)
        candidates = self._candidates(batch.hashes, batch.offsets, fresh, docs)
        for p in range(count):
            if batch.keys[p] == 0:
                self.stats["skipped/no_text"] += 1
            elif canonical[p] != docs[p]:
                self._join_exact(int(docs[p]), int(canonical[p]))
            else:
                self._join_near(int(docs[p]), candidates.get(p, ()))
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

    def _store_sets(self, hashes: np.ndarray, offsets: np.ndarray, fresh: np.ndarray) -> None:
        """Write the distinct shingle values (whole text and lead) of the new texts."""
        for store, (h, o) in (
            (self.full_sets, (hashes, offsets)),
            (self.lead_sets, leading(hashes, offsets, self.params.lead_shingles)),
        ):
            values, counts = distinct_values(h, o)
            keep = np.repeat(fresh, counts)
            store.append(values[keep], np.where(fresh, counts, 0))

    def _candidates(
        self, hashes: np.ndarray, offsets: np.ndarray, fresh: np.ndarray, docs: np.ndarray
    ) -> dict[int, list[int]]:
        """Earlier documents sharing a band with each new text: {batch position: [documents]}."""
        rows = np.flatnonzero(fresh)
        if not len(rows):
            return {}
        p = self.params
        sig = signatures(hashes, offsets, p.num_perm)[rows]
        keys = [band_keys(sig, self.bands, self.rows)]
        if len(self.band_runs) > self.bands:
            lead_h, lead_o = leading(hashes, offsets, p.lead_shingles)
            lead_sig = signatures(lead_h, lead_o, p.lead_bands * p.lead_rows)[rows]
            keys.append(band_keys(lead_sig, p.lead_bands, p.lead_rows))
        all_keys = np.concatenate(keys, axis=1)
        later, earlier = [], []
        for band, runs in enumerate(self.band_runs):
            column = all_keys[:, band]
            q, d = runs.lookup(column, p.max_candidates)
            later.append(rows[q])
            earlier.append(d)
            order = np.argsort(column, kind="stable")
            ordered = column[order]
            for step in range(1, min(p.max_candidates, len(order)) + 1):
                same = np.flatnonzero(ordered[step:] == ordered[:-step])
                if not len(same):
                    break
                later.append(rows[order[same + step]])
                earlier.append(docs[rows[order[same]]])
            runs.add(column, docs[rows])
        pairs = np.unique(
            (np.concatenate(later).astype(np.uint64) << np.uint64(32))
            | np.concatenate(earlier).astype(np.uint64)
        )
        self.stats["lsh/candidate_pairs"] += len(pairs)
        if not len(pairs):
            return {}
        positions = (pairs >> np.uint64(32)).astype(np.int64)
        found = (pairs & np.uint64(0xFFFFFFFF)).astype(np.int64)
        cuts = np.flatnonzero(np.diff(positions)) + 1
        return {
            int(pos[0]): group.tolist()
            for pos, group in zip(np.split(positions, cuts), np.split(found, cuts), strict=True)
        }

    def _join_exact(self, doc: int, twin: int) -> None:
        root = self.clusters.find(twin)
        if self.merge_clusters:
            self.clusters.union(doc, twin)
        else:
            self.clusters.parent.view[doc] = root
        self.similarity.view[doc] = 1.0 if twin == root else self.similarity.view[twin]

    def _join_near(self, doc: int, candidates: Sequence[int]) -> None:
        if not candidates:
            return
        by_root = sorted((self.clusters.find(c), c) for c in candidates)
        joined: set[int] = set()
        budget = self.params.max_candidates
        mine = self.full_sets.get(doc), self.lead_sets.get(doc)
        for root, candidate in by_root:
            if root in joined:
                continue
            if budget == 0:
                self.stats["lsh/capped_documents"] += 1
                return
            budget -= 1
            similarity = self._verify(mine, candidate)
            if similarity is None:
                continue
            joined.add(root)
            if not self.merge_clusters:
                self.clusters.parent.view[doc] = root
                if candidate != root:
                    similarity = jaccard(mine[0], self.full_sets.get(root))
                self.similarity.view[doc] = similarity
                return
            self.clusters.union(doc, root)

    def _verify(self, mine: tuple[np.ndarray, np.ndarray], other: int) -> float | None:
        """The Jaccard similarity of two texts when they are near duplicates, else None."""
        self.stats["lsh/verified_pairs"] += 1
        similarity = jaccard(mine[0], self.full_sets.get(other))
        if similarity >= self.params.threshold:
            return similarity
        lead_threshold = self.params.lead_threshold
        if lead_threshold > 0 and jaccard(mine[1], self.lead_sets.get(other)) >= lead_threshold:
            self.stats["lsh/lead_matches"] += 1
            return similarity
        return None

    def relation(self, doc: int, keeper: int) -> tuple[str, float]:
        """("exact" | "near", similarity) of a document to the copy kept for its cluster."""
        a, b = int(self.canonical.view[doc]), int(self.canonical.view[keeper])
        if a == b:
            return "exact", 1.0
        if not self.merge_clusters and keeper == self.clusters.find(doc):
            return "near", float(self.similarity.view[doc])
        return "near", jaccard(self.full_sets.get(a), self.full_sets.get(b))

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
