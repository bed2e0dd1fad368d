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
from typing import Any

from vocclean.record import Record
from vocclean.steps.base import RecordStep
from vocclean.text.normalize_key import key_hash, make_to_simplified, paragraph_key
from vocclean.text.paragraph_index import ParagraphIndex
from vocclean.text.paragraphs import find_repeats, remove_paragraphs, split_paragraphs

__all__ = ["DedupParagraphs"]

ANNOTATION_TEXT_CHARS = 60
REJECT_REASON = "all paragraphs were repeats"


class DedupParagraphs(RecordStep):
    """Remove paragraphs that repeat an earlier paragraph of the same article
    (exactly or nearly) and, with ``across_docs``, of an earlier article.

    Options (all keyword, all with defaults):

    - ``similarity`` (0.85): rapidfuzz ratio of the normalised keys, 0..1, for near repeats.
    - ``min_chars`` (20): key length (letters, digits, hanzi) below which a
      paragraph is not fuzzy-matched and not indexed across documents.
    - ``min_exact_chars`` (8): key length below which a paragraph is not
      removed on its own, only inside a repeated block.
    - ``max_edit_regions`` (2): a near repeat may differ in at most this many places.
    - ``across_docs`` (False): also remove paragraphs seen in an earlier document.
    - ``max_docs_with_paragraph`` (None): across documents, keep a paragraph in
      the first N documents that have it and remove it from the later ones
      (implies ``across_docs``; None means 1 when ``across_docs`` is on).
    - ``max_index_paragraphs`` (50,000,000): bound of the cross-document index.
    - ``fold_script`` (False): fold Traditional to Simplified in keys (opencc t2s).
    - ``dry_run`` (False): report what would be removed on stderr, change nothing.
    """

    name = "dedup-paragraphs"

    def __init__(
        self,
        *,
        similarity: float = 0.85,
        min_chars: int = 20,
        min_exact_chars: int = 8,
        max_edit_regions: int = 2,
        across_docs: bool = False,
        max_docs_with_paragraph: int | None = None,
        max_index_paragraphs: int = 50_000_000,
        fold_script: bool = False,
        dry_run: bool = False,
    ) -> None:
        super().__init__()
        if not 0.0 < similarity <= 1.0:
            raise ValueError(f"similarity must be in (0, 1], got {similarity}")
        if max_docs_with_paragraph is not None and max_docs_with_paragraph < 1:
            raise ValueError(f"max_docs_with_paragraph must be at least 1, got {max_docs_with_paragraph}")
        self.similarity = similarity
        self.min_chars = min_chars
        self.min_exact_chars = min_exact_chars
        self.max_edit_regions = max_edit_regions
        self.across_docs = across_docs or max_docs_with_paragraph is not None
        self.max_docs_with_paragraph = max_docs_with_paragraph or 1
        self.max_index_paragraphs = max_index_paragraphs
        self.fold_script = fold_script
        self.dry_run = dry_run
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
        text = record.text
        if not text:
            return record
        paragraphs = split_paragraphs(text)
        if not paragraphs:
            return record
        to_simplified = self._to_simplified
        keys = [paragraph_key(p.text, to_simplified) for p in paragraphs]
        removed: list[dict[str, Any]] = []
        dropped: set[int] = set()
        if len(paragraphs) > 1:
            for repeat in find_repeats(
                keys,
                similarity=self.similarity,
                min_chars=self.min_chars,
                min_exact_chars=self.min_exact_chars,
                max_edit_regions=self.max_edit_regions,
            ):
                kind = "in-doc-near" if repeat.kind == "near" else "in-doc-exact"
                removed.append(self._removal(paragraphs[repeat.paragraph].text, repeat, kind))
                dropped.add(repeat.paragraph)
        if self.index is not None:
            removed.extend(self._across_docs(record.id, paragraphs, keys, dropped))
        if not removed:
            return record
        removed.sort(key=lambda entry: entry["paragraph"])
        annotation = [{k: v for k, v in entry.items() if k != "kind"} for entry in removed]
        if self.dry_run:
            for entry in removed:
                self.stats[f"would_remove_paragraphs/{entry['kind']}"] += 1
            self._report(record, annotation)
            return record
        for entry in removed:
            self.stats[f"removed_paragraphs/{entry['kind']}"] += 1
            self.stats["removed_chars/dedup-paragraphs"] += len(paragraphs[entry["paragraph"]].text)
        record.annotate(repeated_paragraphs=annotation)
        if len(dropped) == len(paragraphs):
            return record.reject(self.name, REJECT_REASON, repeated_paragraphs=annotation)
        record.text = remove_paragraphs(text, paragraphs, dropped)
        return record

    def _removal(self, text: str, repeat: Any, kind: str) -> dict[str, Any]:
        return {
            "paragraph": repeat.paragraph,
            "repeats": repeat.repeats,
            "similarity": repeat.similarity,
            "text": _truncate(text),
            "kind": kind,
        }

    def _across_docs(
        self, doc_id: str, paragraphs: list[Any], keys: list[str], dropped: set[int]
    ) -> list[dict[str, Any]]:
        """Look the kept paragraphs up in the index, record them, and drop those seen too often."""
        assert self.index is not None
        positions_by_hash: dict[int, list[int]] = {}
        for position, key in enumerate(keys):
            if position not in dropped and len(key) >= self.min_chars:
                positions_by_hash.setdefault(key_hash(key), []).append(position)
        if not positions_by_hash:
            return []
        hashes = list(positions_by_hash)
        seen = self.index.observe(hashes, doc_id)
        if self.index.skipped:
            self.stats["index/paragraphs-not-recorded"] = self.index.skipped
        removed = []
        for value, (count, first_doc) in zip(hashes, seen, strict=True):
            if count < self.max_docs_with_paragraph:
                continue
            for position in positions_by_hash[value]:
                dropped.add(position)
                removed.append(
                    {
                        "paragraph": position,
                        "repeats": f"doc:{first_doc}",
                        "similarity": 1.0,
                        "text": _truncate(paragraphs[position].text),
                        "kind": "across-docs",
                    }
                )
        return removed

    def _report(self, record: Record, annotation: list[dict[str, Any]]) -> None:
        for entry in annotation:
            print(
                f"dedup-paragraphs: would remove {record.id} paragraph {entry['paragraph']}"
                f" (repeats {entry['repeats']}, similarity {entry['similarity']:.3f}): {entry['text']}",
                file=sys.stderr,
            )


def _truncate(text: str) -> str:
    text = text.strip()
    return text if len(text) <= ANNOTATION_TEXT_CHARS else text[: ANNOTATION_TEXT_CHARS - 1] + "…"
