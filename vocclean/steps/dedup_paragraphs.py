"""dedup-paragraphs: remove repeated paragraphs inside an article and across the corpus.

Design: one class for both modes.

- In-document mode (the default) is a pure per-article function, so the step
  is a ``RecordStep`` (``per_record`` is True): it can run on chunks of
  records in worker processes and gives the same result alone or chained.
- ``across_docs=True`` (or ``max_docs_with_paragraph``) adds a
  ``ParagraphIndex`` held by the step object: the answer for an article
  depends on every article before it, so that instance sets ``per_record``
  to False and the pipeline must run it in one process, in stream order. The
  index lives in the object, never at module level: two runs do not share it.

The kept text is the original text minus the removed lines (and the blank
lines that separated them); nothing else is rewritten.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from vocclean.record import Record
from vocclean.steps.base import RecordStep, in_range, passing_rejects
from vocclean.text.normalize_key import key_hash, make_to_simplified
from vocclean.text.paragraph_index import ParagraphIndex
from vocclean.text.paragraphs import Paragraphs, find_repeats, remove_paragraphs, split_paragraphs

__all__ = ["DedupParagraphs", "describe_to_stderr"]

ANNOTATION_TEXT_CHARS = 60
INDEX_BATCH = 256  # records per index look-up in across-docs mode
# The index keys paragraphs by Python's own string hash (SipHash, 64 bits, salted per
# process): the index lives and dies in one process (across-docs never runs in workers), and
# it is about ten times cheaper than a blake2b digest (normalize_key.key_hash, the stable one).
REJECT_REASON = "all paragraphs were repeats"
# Across documents only lines of min_chars key characters are compared: a copy keeps its short lines.
REJECT_REASON_SHORT = "all paragraphs long enough to compare were repeats of earlier documents"

Reporter = Callable[[Record, list[dict[str, Any]]], None]


class DedupParagraphs(RecordStep):
    """Remove paragraphs that repeat an earlier paragraph of the same article
    (exactly or nearly) and, with ``across_docs``, of an earlier article.

    Options (all keyword, all with defaults):

    - ``similarity`` (0.85): rapidfuzz ratio of the normalised keys, 0..1, for near repeats.
    - ``min_chars`` (20): key length (letters, digits, hanzi) below which a
      paragraph is not fuzzy-matched and not indexed across documents.
    - ``min_exact_chars`` (8): key length below which a paragraph is not
      removed on its own, only inside a repeated block.
    - ``max_edit_regions`` (1): a near repeat may differ in at most this many places
      (stretches closer than 3 characters count as one).
    - ``across_docs`` (False): also remove paragraphs seen in an earlier document.
    - ``max_docs_with_paragraph`` (None): across documents, keep a paragraph in
      the first N documents that have it and remove it from the later ones
      (implies ``across_docs``; None means 1 when ``across_docs`` is on).
    - ``max_index_paragraphs`` (50,000,000): bound of the cross-document index.
    - ``fold_script`` (False): fold Traditional to Simplified in keys (opencc t2s).
    - ``dry_run`` (False): report what would be removed, change nothing.
    - ``report`` (None): called with (record, annotation) in a dry run, the
      annotation being the ``repeated_paragraphs`` list a real run would
      write; default: one line per paragraph on stderr.
    """

    name = "dedup-paragraphs"
    reads_fields = False

    def __init__(
        self,
        *,
        similarity: float = 0.85,
        min_chars: int = 20,
        min_exact_chars: int = 8,
        max_edit_regions: int = 1,
        across_docs: bool = False,
        max_docs_with_paragraph: int | None = None,
        max_index_paragraphs: int = 50_000_000,
        fold_script: bool = False,
        dry_run: bool = False,
        report: Reporter | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 < similarity <= 1.0:
            raise ValueError(f"similarity must be in (0, 1], got {similarity}")
        for name, value, low in (
            ("min_chars", min_chars, 1),
            ("min_exact_chars", min_exact_chars, 1),
            ("max_edit_regions", max_edit_regions, 0),
            ("max_docs_with_paragraph", 1 if max_docs_with_paragraph is None else max_docs_with_paragraph, 1),
            ("max_index_paragraphs", max_index_paragraphs, 1),
        ):
            in_range(name, value, low)
        self.similarity = similarity
        self.min_chars = min_chars
        self.min_exact_chars = min_exact_chars
        self.max_edit_regions = max_edit_regions
        self.across_docs = across_docs or max_docs_with_paragraph is not None
        self.max_docs_with_paragraph = max_docs_with_paragraph or 1
        self.max_index_paragraphs = max_index_paragraphs
        self.fold_script = fold_script
        self.dry_run = dry_run
        self.report = report if report is not None else describe_to_stderr
        self.per_record = not self.across_docs
        self.index = ParagraphIndex(max_index_paragraphs) if self.across_docs else None
        self._to_simplified = make_to_simplified() if fold_script else None

    # opencc converters do not pickle: drop it and rebuild it in the worker.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_to_simplified"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.fold_script:
            self._to_simplified = make_to_simplified()

    def process(self, record: Record) -> Record:
        analysis = self._analyse(record)
        if analysis is None:
            return record
        seen = None
        if self.index is not None and analysis.hashes:
            seen = self.index.observe(list(analysis.hashes), record.id)
        return self._apply(record, analysis, seen)

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        if self.index is None:
            return super().__call__(records)
        return passing_rejects(self._across, records)

    def _across(self, records: Iterable[Record]) -> Iterator[Record]:
        """Across documents: batches, so that the index answers a whole batch with one numpy look-up."""
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) == INDEX_BATCH:
                yield from self._process_batch(batch)
                batch = []
        if batch:
            yield from self._process_batch(batch)

    def _process_batch(self, batch: list[Record]) -> list[Record]:
        assert self.index is not None
        analyses = [self._analyse(record) for record in batch]
        observed = [(record, a) for record, a in zip(batch, analyses, strict=True) if a and a.hashes]
        answers = iter(self.index.observe_documents([(list(a.hashes), r.id) for r, a in observed]))
        out = []
        for record, analysis in zip(batch, analyses, strict=True):
            if analysis is None:
                out.append(record)
            else:
                out.append(self._apply(record, analysis, next(answers) if analysis.hashes else None))
        return out

    def _analyse(self, record: Record) -> _Analysis | None:
        """The in-document repeats of a record and the hashes of its other paragraphs."""
        text = record.text
        if not text:
            return None
        paragraphs = split_paragraphs(text, self._to_simplified)
        keys = paragraphs.keys
        if not keys:
            return None
        found: list[tuple[int, int | str, float, str]] = []  # (paragraph, repeats, similarity, kind)
        if len(keys) > 1:
            for repeat in find_repeats(
                keys,
                similarity=self.similarity,
                min_chars=self.min_chars,
                min_exact_chars=self.min_exact_chars,
                max_edit_regions=self.max_edit_regions,
            ):
                kind = "in-doc-near" if repeat.kind == "near" else "in-doc-exact"
                found.append((repeat.paragraph, repeat.repeats, repeat.similarity, kind))
        hashes: dict[int, int] = {}
        same_hash: list[tuple[int, int]] = []
        if self.index is not None:
            dropped = {entry[0] for entry in found}
            min_chars = self.min_chars
            for position, key in enumerate(keys):
                if len(key) >= min_chars and position not in dropped:
                    value = key_hash(key)  # stable: the same in every worker process
                    if value in hashes:  # equal keys kept in the document (min_chars < min_exact_chars)
                        same_hash.append((value, position))
                    else:
                        hashes[value] = position
        return _Analysis(paragraphs, found, hashes, same_hash)

    def _apply(
        self, record: Record, analysis: _Analysis, seen: list[tuple[int, str | None]] | None
    ) -> Record:
        """Remove (or, in a dry run, report) what the analysis and the index answer found."""
        found = analysis.found
        if seen is not None:
            for (value, position), (count, first_doc) in zip(analysis.hashes.items(), seen, strict=True):
                if count >= self.max_docs_with_paragraph:
                    found.append((position, f"doc:{first_doc}", 1.0, "across-docs"))
                    found.extend(
                        (other, f"doc:{first_doc}", 1.0, "across-docs")
                        for same, other in analysis.same_hash
                        if same == value
                    )
            if self.index is not None and self.index.skipped:
                self.stats["index/paragraphs-not-recorded"] = self.index.skipped
        if not found:
            return record
        found.sort(key=lambda entry: entry[0])
        text = record.text
        assert text is not None
        paragraphs = analysis.paragraphs
        lines = text.split("\n")
        removed_lines = [lines[paragraphs.lines[entry[0]]] for entry in found]
        annotation = [
            {"paragraph": number, "repeats": repeats, "similarity": similarity, "text": _truncate(line)}
            for (number, repeats, similarity, _), line in zip(found, removed_lines, strict=True)
        ]
        if self.dry_run:
            for entry in found:
                self.stats[f"would_remove_paragraphs/{entry[3]}"] += 1
            self.report(record, annotation)
            return record
        for entry, line in zip(found, removed_lines, strict=True):
            self.stats[f"removed_paragraphs/{entry[3]}"] += 1
            self.stats["removed_chars/dedup-paragraphs"] += len(line)
        record.annotate(repeated_paragraphs=annotation)
        if len(found) == len(paragraphs.keys):
            return record.reject(self.name, REJECT_REASON, repeated_paragraphs=annotation)
        if self._only_short_lines_left(paragraphs.keys, found):
            return record.reject(self.name, REJECT_REASON_SHORT, repeated_paragraphs=annotation)
        record.text = remove_paragraphs(text, paragraphs.lines, {entry[0] for entry in found})
        return record

    def _only_short_lines_left(self, keys: list[str], found: list[tuple[int, int | str, float, str]]) -> bool:
        """Whether a record lost paragraphs to earlier documents and kept only lines too short to
        compare: a second crawl of an article reduced to its title and list labels (tw_news:
        94 of 723 records), which is a copy, not an article."""
        if not any(entry[3] == "across-docs" for entry in found):
            return False
        removed = {entry[0] for entry in found}
        return all(len(key) < self.min_chars for i, key in enumerate(keys) if i not in removed)


@dataclass(slots=True)
class _Analysis:
    paragraphs: Paragraphs
    found: list[tuple[int, int | str, float, str]]  # (paragraph, repeats, similarity, stats kind)
    hashes: dict[int, int]  # across documents: paragraph hash -> position of the kept paragraph
    same_hash: list[tuple[int, int]]  # (hash, position) of further kept paragraphs with a hash in ``hashes``


def describe_to_stderr(record: Record, annotation: list[dict[str, Any]]) -> None:
    """A dry run's default report: one line per paragraph that would be removed."""
    for entry in annotation:
        print(
            f"dedup-paragraphs: would remove {record.id} paragraph {entry['paragraph']}"
            f" (repeats {entry['repeats']}, similarity {entry['similarity']:.3f}): {entry['text']}",
            file=sys.stderr,
        )


def _truncate(text: str) -> str:
    text = text.strip()
    return text if len(text) <= ANNOTATION_TEXT_CHARS else text[: ANNOTATION_TEXT_CHARS - 1] + "…"
