"""Fold steps over a stream of records; route rejects; count what each step did.

The pipeline is the whole Python API of a run:

    from vocclean.pipeline import Pipeline
    from vocclean.steps.fix_encoding import FixEncoding
    pipeline = Pipeline([FixEncoding()])
    for record in pipeline.run(records, on_reject=print):
        ...
"""

from __future__ import annotations

import copy
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from vocclean.io.spool import Spool
from vocclean.record import Record, check_record
from vocclean.steps.base import RecordStep, Step

BAD_INPUT_STEPS = frozenset({"read", "decode"})


class DecodeUtf8(RecordStep):
    """Decode plain-text inputs as strict UTF-8 when no fix-encoding step does it."""

    name = "decode"
    reads_fields = False
    # A JSONL record has its text already; a plain-text file is decoded in C, faster than its
    # bytes are pickled to a worker (dedup-articles alone over xwlb with -j 2 went through workers).
    inline = True

    def process(self, record: Record) -> Record:
        if record.text is None and record.raw is not None:
            try:
                record.text = record.raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return record.reject(
                    self.name,
                    f"not UTF-8 (byte 0x{record.raw[exc.start]:02x} at offset {exc.start}); "
                    "add the fix-encoding step to decode other encodings",
                )
            if record.text.startswith("\ufeff"):
                record.text = record.text[1:]
            record.raw = None
        return record


@dataclass
class StepStats:
    """Records in, out and rejected by one step, and the seconds spent inside it."""

    name: str
    records_in: int = 0
    records_out: int = 0
    rejected: int = 0
    seconds: float = 0.0
    counters: Counter[str] = field(default_factory=Counter)


def run_totals(stats: list[StepStats]) -> list[StepStats]:
    """Fresh totals, one per step, for a run whose counts come from elsewhere (workers, files),
    holding what the steps counted before it (a learning pass's ``learned/*``)."""
    return [StepStats(step.name, counters=Counter(step.counters)) for step in stats]


class Meter:
    """Wraps an iterator: counts items and the time spent producing them."""

    def __init__(self, iterator: Iterator[Record]) -> None:
        self.iterator = iterator
        self.count = 0
        self.seconds = 0.0

    def __iter__(self) -> Iterator[Record]:
        clock = time.perf_counter
        iterator = self.iterator
        while True:
            start = clock()
            try:
                item = next(iterator)
            except StopIteration:
                self.seconds += clock() - start
                return
            self.seconds += clock() - start
            self.count += 1
            yield item


def with_decoding(steps: list[Step]) -> list[Step]:
    """Insert a strict UTF-8 decode before the first step that needs text (or at the end)."""
    for index, step in enumerate(steps):
        if step.accepts_bytes:
            return steps
        return [*steps[:index], DecodeUtf8(), *steps[index:]]
    return [*steps, DecodeUtf8()]


class Pipeline:
    """Runs steps in order over records.

    ``records_factory`` (optional) gives a fresh iterator over the input; it is
    passed, through the steps before them, to steps that have a ``fit`` method
    (two-pass steps such as boilerplate learning). Rejected records go to
    ``on_reject`` as soon as a step rejects them; live ones come out of ``run``.
    """

    spools = True  # see ``spooled_step``
    # Check the input records' types (``check_record``): off where vocclean's readers made them.
    checks_input = True
    # The records that come out (and those rejected) carry the steps' notes (``annotations``).
    # False where nothing reads them (no --annotate, no rejects file, no report): an engine may
    # then leave out the notes its workers made, rather than send them back.
    keeps_notes = True

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = with_decoding(list(steps))
        # Each step's own counters (removals by kind and rule, encodings...) are shared, not copied.
        self.stats = [StepStats("read")] + [StepStats(step.name, counters=step.stats) for step in self.steps]

    def run(
        self,
        records: Iterable[Record],
        on_reject: Callable[[Record], None],
        records_factory: Callable[[], Iterator[Record]] | None = None,
        spool_dir: str | None = None,
    ) -> Iterator[Record]:
        """``spool_dir`` (optional, with ``records_factory``): a directory for the spool (see
        ``vocclean.io.spool``); the steps before a two-pass step then run once, not twice."""
        read = self.stats[0]
        spooled = self._spooled_fit(records_factory, spool_dir)
        if spooled is not None:
            start, spool = spooled
            # What the steps before ``start`` rejected was counted in the first pass: routed here.
            source = Meter(self._live(spool.records(), StepStats("spool"), on_reject))
            yield from self._chain(source, start, len(self.steps), on_reject)
            return
        if records_factory is not None:
            self._fit(records_factory)
        meter = Meter(self._live(iter(records), read, on_reject, check=self.checks_input))
        yield from self._chain(meter, 0, len(self.steps), on_reject)
        read.seconds = meter.seconds
        read.records_in = read.records_out + read.rejected

    def _chain(
        self, source: Meter, start: int, stop: int, on_reject: Callable[[Record], None]
    ) -> Iterator[Record]:
        """Chain the steps from ``start`` to ``stop`` over ``source``, their rejects to ``on_reject``."""
        stream: Iterator[Record] = iter(source)
        previous = source
        for step, stats in zip(self.steps[start:stop], self.stats[start + 1 : stop + 1], strict=True):
            stats_in = CountingIterator(stream)
            out = Meter(self._live(iter(step(stats_in)), stats, on_reject))
            stream = iter(StepClock(out, previous, stats, stats_in))
            previous = out
        return stream

    def _fit(self, records_factory: Callable[[], Iterator[Record]]) -> None:
        for index, step in enumerate(self.steps):
            fit = getattr(step, "fit", None)
            if fit is None:
                continue
            # The replay is not the run: it goes through fresh copies of the earlier steps, so
            # neither their counters nor their state (a dedup index) remember the replay.
            before = copy.deepcopy(self.steps[:index])

            def replay(before: list[Step] = before) -> Iterator[Record]:
                stream = self._live(records_factory(), StepStats("replay"), _ignore, self.checks_input)
                for earlier in before:
                    stream = (r for r in earlier(stream) if not r.rejected)
                return stream

            fit(replay)

    def spooled_step(self) -> int | None:
        """The index of the two-pass step whose input can be spooled in a run over files, if any.

        The spool serves a run with one two-pass step that has something to
        learn (``needs_fit``), from each record alone (``fit_map``,
        ``fit_reduce``).
        """
        if not self.spools:
            return None
        fitted = [index for index, step in enumerate(self.steps) if hasattr(step, "fit")]
        if len(fitted) != 1:
            return None
        step = self.steps[fitted[0]]
        mapped = hasattr(step, "fit_map") and hasattr(step, "fit_reduce")
        return fitted[0] if mapped and getattr(step, "needs_fit", False) else None

    def spool_text_field(self, index: int, records_factory: object) -> str | None:
        """The text field whose input value the spool may leave out (``spooled_fields``): the
        replay's (``records_factory.options``), when no step from ``index`` on reads the fields."""
        options = getattr(records_factory, "options", None)
        if options is None or any(step.reads_fields for step in self.steps[index:]):
            return None
        return options.text_field

    def _spooled_fit(
        self, records_factory: Callable[[], Iterator[Record]] | None, spool_dir: str | None
    ) -> tuple[int, Spool] | None:
        """First pass: the steps before the two-pass step, for real, with their output spooled."""
        index = None if records_factory is None or spool_dir is None else self.spooled_step()
        if index is None:
            return None
        step = self.steps[index]
        spool = Spool(spool_dir, self.spool_text_field(index, records_factory))
        read = self.stats[0]
        meter = Meter(self._live(records_factory(), read, spool.add, check=self.checks_input))
        live = self._chain(meter, 0, index, spool.add)

        def spooled() -> Iterator[Record]:
            for record in live:
                spool.add(record)
                yield record

        digests = map(step.fit_map, spooled())  # type: ignore[attr-defined]
        step.fit_reduce(digests)  # type: ignore[attr-defined]
        deque(digests, maxlen=0)  # the spool holds the whole stream, however much the step read
        spool.close()
        read.seconds = meter.seconds
        read.records_in = read.records_out + read.rejected
        return index, spool

    @staticmethod
    def _live(
        records: Iterator[Record], stats: StepStats, on_reject: Callable[[Record], None], check: bool = False
    ) -> Iterator[Record]:
        """The live records; rejected ones go to ``on_reject``. ``check``: the run's input, whose
        records may have been built by hand (``check_record``)."""
        for record in records:
            if check:
                check_record(record)
            if record.rejection is not None:
                stats.rejected += 1
                on_reject(record)
            else:
                stats.records_out += 1
                yield record


def _ignore(record: Record) -> None:
    """A replay's rejects: the run itself routes them."""


class CountingIterator:
    """Counts the records a step pulls from its input."""

    def __init__(self, iterator: Iterator[Record]) -> None:
        self.iterator = iterator
        self.count = 0

    def __iter__(self) -> Iterator[Record]:
        for record in self.iterator:
            self.count += 1
            yield record


class StepClock:
    """Keeps a step's stats current: records in, and its own time (its output's minus its input's)."""

    def __init__(self, out: Meter, previous: Meter, stats: StepStats, stats_in: CountingIterator) -> None:
        self.out, self.previous, self.stats, self.stats_in = out, previous, stats, stats_in

    def __iter__(self) -> Iterator[Record]:
        try:
            yield from self.out
        finally:
            self.stats.records_in = self.stats_in.count
            self.stats.seconds = max(0.0, self.out.seconds - self.previous.seconds)
