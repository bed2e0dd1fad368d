"""Watch a run for its report: before/after samples of changed records, and why records left.

``vocclean.runner.run(steps, options, observer=RunObserver())`` calls ``watch``
on the records read, ``written`` on each record written and ``rejected`` on
each record dropped. Records are matched by ``record.source`` (FILE:LINE), so
this also works when steps run on worker processes and records come back as
copies.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vocclean.record import Record
from vocclean.report.record_diff import removal_labels

# Annotation keys that say what changed, in the order that names a sample's category.
CATEGORY_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("boilerplate", ("boilerplate", "removed_lines")),
    ("repeated paragraphs", ("repeated_paragraphs",)),
    ("encoding", ("mojibake", "unrecoverable", "replaced_bytes", "junk_removed")),
    ("script and punctuation", ("converted", "punctuation_rules")),
)
UTF8 = frozenset({"utf-8", "ascii"})
REASON_CHARS = 120


@dataclass
class Sample:
    """One record before and after the run (``after`` is None when it was rejected)."""

    id: str
    source: str
    category: str
    before: str
    after: str | None
    rejected_by: str | None = None
    reason: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # removed line -> kind · rule


class RunObserver:
    """Keeps a few samples per category (``per_category``, ``max_samples`` in all), first come.

    Only the text of records in flight is held, at most ``max_pending`` of them
    (whole-stream steps may hold many); texts longer than ``max_chars`` are not sampled.
    """

    def __init__(
        self,
        max_samples: int = 36,  # room for every category: 4 kinds of change, "changed", 6 steps' rejects
        per_category: int = 3,
        max_pending: int = 10_000,
        max_chars: int = 20_000,
    ) -> None:
        self.max_samples = max_samples
        self.per_category = per_category
        self.max_pending = max_pending
        self.max_chars = max_chars
        self.samples: list[Sample] = []
        self.rejections: Counter[tuple[str, str]] = Counter()
        self._before: dict[str, str] = {}
        self._per_category: Counter[str] = Counter()

    def part(self) -> RunObserver:
        """A fresh observer for one part of the run (a batch run's file, on a worker).

        It keeps every category's first samples with no overall cap, so that
        ``merge`` of the parts in input order keeps what this observer would
        have kept watching them one after another.
        """
        return RunObserver(sys.maxsize, self.per_category, self.max_pending, self.max_chars)

    def merge(self, samples: list[Sample], rejections: Iterable[tuple[str, str, int]]) -> None:
        """Add a part's samples (under this observer's caps) and rejection counts, in input order."""
        for sample in samples:
            if self._admits(sample.category):
                self._per_category[sample.category] += 1
                self.samples.append(sample)
        for step, reason, count in rejections:
            self.rejections[(step, reason)] += count

    def watch(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            if self._wanted() and record.rejection is None and len(self._before) < self.max_pending:
                before = record.text if record.text is not None else _shown_bytes(record.raw)
                if len(before) <= self.max_chars:
                    self._before[record.source] = before
            yield record

    def written(self, record: Record) -> None:
        before = self._before.pop(record.source, None)
        if before is None or before == record.text:
            return
        self._keep(record, _category(record.annotations), before, record.text)

    def rejected(self, record: Record) -> None:
        rejection = record.rejection
        assert rejection is not None
        self.rejections[(rejection.step, _short(rejection.reason))] += 1
        before = self._before.pop(record.source, None)
        if before is not None:
            self._keep(record, f"rejected by {rejection.step}", before, None)

    def _wanted(self) -> bool:
        return len(self.samples) < self.max_samples

    def _admits(self, category: str) -> bool:
        return self._wanted() and self._per_category[category] < self.per_category

    def _keep(self, record: Record, category: str, before: str, after: str | None) -> None:
        if not self._admits(category):
            return
        self._per_category[category] += 1
        rejection = record.rejection
        self.samples.append(
            Sample(
                id=record.id,
                source=record.source,
                category=category,
                before=before,
                after=after,
                rejected_by=rejection.step if rejection else None,
                reason=rejection.reason if rejection else None,
                labels=removal_labels(record.annotations),
            )
        )


def _category(annotations: dict[str, Any]) -> str:
    for category, keys in CATEGORY_KEYS:
        if any(annotations.get(key) for key in keys):
            return category
    if str(annotations.get("encoding", "utf-8")).lower() not in UTF8:
        return "encoding"
    return "changed"


def _shown_bytes(raw: bytes | None) -> str:
    """Undecoded bytes as a UTF-8 reader would show them (before fix-encoding)."""
    return (raw or b"").decode("utf-8", errors="replace")


def _short(reason: str) -> str:
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
