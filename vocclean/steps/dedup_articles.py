"""dedup-articles: keep one copy of each story, exact or near duplicate.

A whole-stream step over ``vocclean.duplicate_finder``: records are read in
batches (shingled and MinHashed a batch at a time) and every record comes
out, kept or rejected as a duplicate of the kept copy.

- ``keep="first"`` streams: each batch is written as soon as it is indexed,
  and the first copy of a story seen is the one kept.
- ``keep="longest"`` and ``keep="field:NAME"`` decide only when the input
  ends: records wait in a temporary file on disk (pickled, in input order)
  while the index and one number or field value per record stay in memory;
  output order is input order.

The output text is never changed; Traditional/Simplified, width and
punctuation are folded for comparison only.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from vocclean.dates import UNDATED, day_number
from vocclean.duplicate_finder import DuplicateFinder, FinderParams, PreparedBatch, prepare_batch
from vocclean.io.writers import AtomicFile
from vocclean.record import Record
from vocclean.steps.base import Step, in_range, passing_rejects
from vocclean.text.shingles import Shingler

__all__ = ["DedupArticles", "parse_keep"]

DEFAULT_BATCH = 2000


def parse_keep(keep: str) -> tuple[str, str | None]:
    """("first" | "longest" | "field", field name or None) from a --keep value."""
    if keep in ("first", "longest"):
        return keep, None
    if keep.startswith("field:") and len(keep) > len("field:"):
        return "field", keep[len("field:") :]
    raise ValueError(f"keep must be first, longest or field:NAME, not {keep!r}")


def _field_rank_key(value: Any) -> tuple:
    """Smallest first: numbers, then strings, then anything else as JSON; missing values last."""
    if value is None:
        return (3,)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    try:
        return (2, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # an integer wider than 64 bits inside (the reader keeps it exact)
        return (2, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


class DedupArticles(Step):
    """Remove exact and near-duplicate articles, keeping one copy of each story.

    Options (keyword, with defaults):

    - ``threshold`` (0.6): Jaccard similarity of the shingle sets from which
      two texts are near duplicates (verified exactly on every candidate pair).
    - ``num_perm`` (128): MinHash permutations.
    - ``ngram`` (5): units per shingle (a unit is a hanzi or a Latin word).
    - ``bands`` (0): LSH bands; 0 derives bands and rows from ``threshold``.
    - ``lead_shingles`` (256) and ``lead_threshold`` (0.9): also duplicates
      when the first ``lead_shingles`` shingles are this similar (the same
      article with different junk appended); ``lead_threshold=0`` turns it off.
    - ``keep`` ("first"): which copy survives: ``first``, ``longest`` (most
      characters) or ``field:NAME`` (smallest value of field NAME, e.g. the
      earliest date; records without it lose). Ties go to the earliest record.
    - ``clusters`` (None): path of a JSONL file to write every cluster of two
      or more records to, when the input ends.
    - ``mark_only`` (False): annotate duplicates instead of rejecting them.
    - ``min_shingles`` (20): shorter texts are matched as exact copies only.
    - ``within_days`` (None) and ``date_field`` ("date"): near duplicates
      only when their dates (field ``date_field``, see ``vocclean.dates``)
      are at most this many days apart; records without a readable date are
      compared with all (counted in ``dates/unreadable``).
    - ``batch_size`` (2000), ``max_candidates`` (100), ``tmp_dir`` (None: $TMPDIR).
    """

    name = "dedup-articles"
    # ``prepare``'s arrays are per text (a PreparedBatch): prepared in pieces, they join into a
    # batch's, so an engine may hash each chunk where it was cleaned (engines/local.py, feeds_of).
    prepare_per_text = True

    def __init__(
        self,
        *,
        threshold: float = 0.6,
        num_perm: int = 128,
        ngram: int = 5,
        bands: int = 0,
        lead_shingles: int = 256,
        lead_threshold: float = 0.9,
        keep: str = "first",
        clusters: str | os.PathLike | None = None,
        mark_only: bool = False,
        batch_size: int = DEFAULT_BATCH,
        max_candidates: int = 100,
        min_shingles: int = 20,
        within_days: int | None = None,
        date_field: str = "date",
        tmp_dir: str | None = None,
    ) -> None:
        super().__init__()
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be above 0 and at most 1, not {threshold!r}")
        for name, value, low, high in (
            ("num_perm", num_perm, 2, 65535),
            ("ngram", ngram, 1, 32),
            ("bands", bands, 0, None),
            ("lead_shingles", lead_shingles, 1, None),
            ("lead_threshold", lead_threshold, 0, 1),
            ("max_candidates", max_candidates, 1, None),
            ("min_shingles", min_shingles, 0, None),
            ("batch_size", batch_size, 1, None),
            ("within_days", 0 if within_days is None else within_days, 0, None),
        ):
            in_range(name, value, low, high)
        self.policy, self.keep_field = parse_keep(keep)
        # keep=field:NAME reads that field, within_days the date field
        self.reads_fields = self.policy == "field" or within_days is not None
        self.date_field = date_field
        self.params = FinderParams(
            threshold=threshold,
            num_perm=num_perm,
            ngram=ngram,
            bands=bands,
            lead_shingles=lead_shingles,
            lead_threshold=lead_threshold,
            max_candidates=max_candidates,
            min_shingles=min_shingles,
            within_days=within_days,
        )
        bands_rows = self.params.lsh()
        if not 1 <= bands_rows[0] * bands_rows[1] <= num_perm:
            raise ValueError(f"{num_perm} permutations cannot make {bands_rows[0]} bands")
        self.keep = keep
        self.clusters_path = Path(clusters) if clusters is not None else None
        self.mark_only = mark_only
        self.batch_size = batch_size
        self.tmp_dir = tmp_dir
        self.shingler = Shingler(ngram)

    def new_finder(self) -> DuplicateFinder:
        """A fresh, empty index (each run gets its own)."""
        return DuplicateFinder(
            self.params, merge_clusters=self.policy != "first", tmp_dir=self.tmp_dir, shingler=self.shingler
        )

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        return passing_rejects(self.run, records)

    def prepare(self, texts: list[str]) -> PreparedBatch:
        """The pure, costly part of indexing a batch (shingles, signatures, band keys).

        Engines call it on worker processes (see ``run``); the result does
        not depend on where it runs.
        """
        return prepare_batch(self.shingler, self.params, texts)

    def run(
        self, records: Iterable[Record], prepared: Iterator[PreparedBatch] | None = None
    ) -> Iterator[Record]:
        """The step; ``prepared`` (optional) gives the arrays of each batch, prepared elsewhere.

        Batches are ``batch_size`` consecutive records; the n-th item of
        ``prepared`` must be ``prepare`` of the n-th batch's texts (an engine
        computes them ahead on workers). Decisions stay here, in stream order,
        on the same batches, so the output is the same with or without it.
        """
        finder = self.new_finder()
        try:
            batches = self._prepared_batches(records, prepared)
            if self.policy == "first":
                yield from self._stream(batches, finder)
                keepers = finder.clusters.roots()
            else:
                keepers = yield from self._buffered(batches, finder)
            self._finish(finder, keepers)
        finally:
            finder.close()

    def _batches(self, records: Iterable[Record]) -> Iterator[list[Record]]:
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _prepared_batches(
        self, records: Iterable[Record], prepared: Iterator[PreparedBatch] | None
    ) -> Iterator[tuple[list[Record], PreparedBatch]]:
        for batch in self._batches(records):
            arrays = self.prepare(_texts(batch)) if prepared is None else next(prepared)
            if len(arrays) != len(batch):
                raise RuntimeError(f"{self.name}: prepared {len(arrays)} texts for a batch of {len(batch)}")
            yield batch, arrays

    def _index(self, finder: DuplicateFinder, batch: list[Record], prepared: PreparedBatch) -> range:
        days = self.days(batch)
        if days is not None and UNDATED in days:
            self.stats["dates/unreadable"] += days.count(UNDATED)
        return finder.add_prepared([r.id for r in batch], prepared, days)

    def days(self, records: list[Record]) -> list[int] | None:
        """The records' day numbers (``UNDATED``: none readable) with ``within_days``, else None."""
        if self.params.within_days is None:
            return None
        return [day_number(r.fields.get(self.date_field)) for r in records]

    def _stream(
        self, batches: Iterator[tuple[list[Record], PreparedBatch]], finder: DuplicateFinder
    ) -> Iterator[Record]:
        for batch, prepared in batches:
            docs = self._index(finder, batch, prepared)
            # Streaming clusters are one level deep: a document's parent is its root.
            roots = finder.clusters.parent.view[docs.start : docs.stop].tolist()
            for record, doc, root in zip(batch, docs, roots, strict=True):
                yield self._mark(record, finder, doc, root)

    def _buffered(
        self, batches: Iterator[tuple[list[Record], PreparedBatch]], finder: DuplicateFinder
    ) -> Iterator[Record]:
        """Index everything while records wait on disk; then choose keepers and replay."""
        values: list[Any] = []
        with tempfile.TemporaryFile(dir=self.tmp_dir) as spill:
            for batch, prepared in batches:
                self._index(finder, batch, prepared)
                if self.policy == "longest":
                    values.extend(len(r.text or "") for r in batch)
                else:
                    values.extend(r.fields.get(self.keep_field) for r in batch)
                pickle.dump(batch, spill, protocol=pickle.HIGHEST_PROTOCOL)
            keepers = self._choose_keepers(finder.clusters.roots(), values)
            del values
            spill.seek(0)
            doc = 0
            while doc < len(finder):
                for record in pickle.load(spill):
                    yield self._mark(record, finder, doc, int(keepers[doc]))
                    doc += 1
        return keepers

    def _choose_keepers(self, roots: np.ndarray, values: list[Any]) -> np.ndarray:
        """The document kept for each document's cluster, by the keep policy (ties: earliest)."""
        docs = np.arange(len(roots))
        if self.policy == "longest":
            rank = -np.asarray(values, dtype=np.int64)
        else:
            order = sorted(range(len(values)), key=lambda i: _field_rank_key(values[i]))
            rank = np.empty(len(values), dtype=np.int64)
            rank[order] = np.arange(len(values))
        best = np.lexsort((docs, rank, roots))  # grouped by root, best first
        first_of_root = np.ones(len(best), dtype=bool)
        first_of_root[1:] = roots[best][1:] != roots[best][:-1]
        keeper_of_root = np.zeros(len(roots), dtype=np.int64)
        keeper_of_root[roots[best][first_of_root]] = best[first_of_root]
        return keeper_of_root[roots]

    def _mark(self, record: Record, finder: DuplicateFinder, doc: int, keeper: int) -> Record:
        if keeper == doc:
            record.annotate(cluster=record.id)
            return record
        keeper_id = finder.ids[keeper]
        kind, similarity = finder.relation(doc, keeper)
        similarity = round(similarity, 4)
        finder.similarity.view[doc] = similarity
        self.stats[f"duplicates/{kind}"] += 1
        record.annotate(duplicate_of=keeper_id, similarity=similarity, duplicate_kind=kind, cluster=keeper_id)
        if not self.mark_only:
            record.reject(
                self.name, f"duplicate of {keeper_id}", duplicate_of=keeper_id, similarity=similarity
            )
        return record

    def _finish(self, finder: DuplicateFinder, keepers: np.ndarray) -> None:
        """Cluster-size stats, the finder's counters, and the --clusters file."""
        self.stats.update(finder.stats)
        if not len(keepers):
            self._write_clusters(finder, keepers, np.zeros(0, dtype=np.int64))
            return
        sizes = np.bincount(keepers, minlength=len(keepers))
        for size, count in zip(*np.unique(sizes[sizes > 1], return_counts=True), strict=True):
            self.stats[f"cluster_size/{size}"] += int(count)
        self._write_clusters(finder, keepers, sizes)

    def _write_clusters(self, finder: DuplicateFinder, keepers: np.ndarray, sizes: np.ndarray) -> None:
        if self.clusters_path is None:
            return
        order = np.argsort(keepers, kind="stable")
        grouped = keepers[order]
        starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if len(order) else order
        with AtomicFile(self.clusters_path) as target:  # a device or a link stays what it is
            out = target.stream
            for start in starts:
                keeper = int(grouped[start])
                size = int(sizes[keeper])
                if size < 2:
                    continue
                members = [{"id": finder.ids[keeper], "kept": True, "similarity": 1.0}]  # then input order
                for doc in order[start : start + size].tolist():
                    if doc == keeper:
                        continue
                    kind = "exact" if finder.canonical.view[doc] == finder.canonical.view[keeper] else "near"
                    members.append(
                        {
                            "id": finder.ids[doc],
                            "kind": kind,
                            "similarity": round(float(finder.similarity.view[doc]), 4),
                        }
                    )
                line = {"cluster": finder.ids[keeper], "size": size, "members": members}
                out.write(orjson.dumps(line) + b"\n")


def _texts(batch: list[Record]) -> list[str]:
    return [r.text or "" for r in batch]
