"""What every step is: a callable over an iterator of records.

A step takes the records of the stream and yields records. A record it
yields with ``record.reject(...)`` called on it leaves the stream: the pipeline
sends it to the rejects file and later steps never see it. Chained by hand
(``s2(s1(records))``), a step passes a rejected record on untouched, at its
place (``RejectsAside``): it neither changes it nor counts it (a dedup index
never holds it). Steps know nothing of click; the CLI only builds them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from vocclean.record import Record


def in_range(name: str, value: float, low: float | None = None, high: float | None = None) -> None:
    """Raise ValueError unless ``low <= value <= high`` (either bound may be left out); nan is in no
    range. Steps check their settings with it when built, as the command line checks its options."""
    if not ((low is None or value >= low) and (high is None or value <= high)):
        bounds = (
            f"from {low} to {high}"
            if low is not None and high is not None
            else (f"at least {low}" if low is not None else f"at most {high}")
        )
        raise ValueError(f"{name} must be {bounds}, not {value!r}")


def names(value: str | Iterable[str]) -> tuple[str, ...]:
    """A setting that takes several names: one name alone is one, not its letters."""
    return (value,) if isinstance(value, str) else tuple(value)


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
            if record.rejection is not None:  # rejected by an earlier step: passed on as it is
                yield record
                continue
            try:
                yield process(record)
            except Exception as exc:  # a bug must cost one record, not the run
                self.stats["errors/internal"] += 1
                yield record.reject(self.name, f"internal error: {type(exc).__name__}: {exc}")


class RejectsAside:
    """Runs a whole-stream step on the live records of a stream that also carries rejected ones.

    ``live`` gives the step the live records and sets the rejected ones aside; ``merge`` puts
    each back just before the step's next output record (where a pipeline routes it), and the
    last ones after its output ends. So a rejected record keeps its place and is seen by no step.
    """

    def __init__(self) -> None:
        self.pulled: list[Record] = []

    def live(self, stream: Iterable[Record]) -> Iterator[Record]:
        for record in stream:
            if record.rejection is None:
                yield record
            else:
                self.pulled.append(record)

    def merge(self, output: Iterable[Record]) -> Iterator[Record]:
        for record in output:
            if self.pulled:
                yield from self.pulled
                self.pulled.clear()
            yield record
        yield from self.pulled
        self.pulled.clear()


def passing_rejects(
    run: Callable[[Iterable[Record]], Iterable[Record]], records: Iterable[Record]
) -> Iterator[Record]:
    """``run`` over the live records of ``records``, the rejected ones passed on at their places."""
    aside = RejectsAside()
    return aside.merge(run(aside.live(records)))
