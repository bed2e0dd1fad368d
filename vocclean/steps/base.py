"""What every step is: a callable over an iterator of records.

A step takes the live records of the stream and yields records. A record it
yields with ``record.reject(...)`` called on it leaves the stream: the pipeline
sends it to the rejects file and later steps never see it. Steps know nothing
of click; the CLI only builds them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from vocclean.record import Record


class Step:
    """Base class for steps.

    ``name`` is the step's command name (used in rejects and reports).
    ``accepts_bytes`` is True only for steps that decode ``record.raw``
    themselves; before any other step the pipeline decodes raw bytes as strict
    UTF-8. ``reads_fields`` False says the step neither reads nor changes
    ``record.fields`` (the input's other fields), so an engine may send records
    to its workers without them. ``inline`` True says the step costs less than
    sending a record to a worker process and back: engines run a segment made
    only of such steps in the main process. ``stats`` counts what the step did (by kind, by rule...), for
    reports. Subclasses override ``__call__`` (whole-stream steps such as
    dedup) or ``process`` (per-article steps).
    """

    name: str = "step"
    accepts_bytes: bool = False
    per_record: bool = False
    reads_fields: bool = True
    inline: bool = False

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        raise NotImplementedError


class RecordStep(Step):
    """A per-article step: ``process`` maps one record to one record.

    Per-article steps give the same result alone in a pipe or chained, and
    may be run on chunks of records in worker processes.
    """

    per_record = True

    def process(self, record: Record) -> Record:
        raise NotImplementedError

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        process = self.process
        for record in records:
            try:
                yield process(record)
            except Exception as exc:  # a bug must cost one record, not the run
                self.stats["errors/internal"] += 1
                yield record.reject(self.name, f"internal error: {type(exc).__name__}: {exc}")
