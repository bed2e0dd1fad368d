"""Run the detectors over a corpus and hold the result against thresholds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from vocclean.check.detectors import DEFAULT_MIN_CHARS, Finding, FindingCollector, KindCount, detector_chain
from vocclean.check.kinds import DEFAULT_FAIL_ON, DEFAULT_MAX_RATES, KINDS, RATE_GROUPS
from vocclean.io.readers import ByteCounter, ReadOptions, Replay, read_inputs
from vocclean.io.sources import expand_inputs
from vocclean.pipeline import Pipeline, StepStats
from vocclean.progress import Progress
from vocclean.record import Record
from vocclean.runner import RunOptions, fewer_collections, inputs_are_files, make_pipeline, spool_directory
from vocclean.steps.base import Step


@dataclass(frozen=True)
class Thresholds:
    """When a check fails: a rate above its maximum, any finding of a ``fail_on`` kind, or fewer
    records than ``min_records`` (an empty corpus is more often a broken input than a clean one)."""

    max_rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_RATES))
    fail_on: frozenset[str] = frozenset(DEFAULT_FAIL_ON)
    min_records: int = 1


@dataclass
class CheckResult:
    """Findings by kind, the rates and the thresholds they were held against."""

    records: int
    kinds: dict[str, KindCount]
    findings: list[Finding]
    omitted: dict[str, int]
    rates: dict[str, float]
    thresholds: Thresholds
    failures: list[str]
    steps: list[StepStats]
    seconds: float
    bytes_read: int
    min_chars: int

    @property
    def passed(self) -> bool:
        return not self.failures

    def failing_kinds(self) -> set[str]:
        """Kinds whose findings make the check fail (for severity in CI annotations)."""
        failing = {k for k in self.thresholds.fail_on if self.kinds[k].findings}
        for group, kinds in RATE_GROUPS.items():
            if self.rates[group] > self.thresholds.max_rates[group]:
                failing.update(k for k in kinds if self.kinds[k].findings)
        return failing


def check_records(
    records: Iterable[Record],
    steps: list[Step],
    thresholds: Thresholds | None = None,
    *,
    min_chars: int = DEFAULT_MIN_CHARS,
    max_findings: int = 50,
    records_factory: Callable[[], Iterator[Record]] | None = None,
    byte_counter: ByteCounter | None = None,
    jobs: int | None = 1,
    spool: bool = False,
    progress: bool | None = False,
) -> CheckResult:
    """Run ``steps`` as detectors over ``records`` (which are consumed and changed: pass copies).

    ``jobs`` > 1 runs per-article steps on worker processes (None: all cores), as ``-j`` does.
    ``records_factory`` (optional) reads the input again, for two-pass steps (strip-boilerplate's
    learning). ``spool``: the steps before such a step run once, their output spooled, as
    ``clean`` does over files (``will_spool``); ``records`` is then not read, and the factory's
    records must carry no annotations of an earlier run (``ReadOptions``). ``progress``: a progress
    line on stderr (None: when stderr is a terminal), the records checked and ``byte_counter``'s bytes.
    """
    if not steps:  # the CLI builds clean's steps when none is named; a program says which it wants
        raise ValueError(
            "check needs the steps to run as detectors, e.g. clean's: vocclean.steps.clean.clean_steps()"
        )
    thresholds = thresholds or Thresholds()
    collector = FindingCollector(max_findings, min_chars)
    pipeline = make_pipeline(detector_chain(steps), RunOptions(jobs=jobs))
    spooling = spool and records_factory is not None and pipeline.spooled_step() is not None

    shown = Progress(progress, byte_counter or ByteCounter())
    started = time.perf_counter()
    with fewer_collections(), spool_directory(spooling) as spool_dir:
        records = _without_old_annotations(records)
        for record in pipeline.run(records, collector.finish, records_factory, spool_dir):
            collector.finish(record)
            shown.update(collector.records)
        shown.finish(collector.records)
    seconds = time.perf_counter() - started
    rates = {
        group: collector.group_records[group] / collector.records if collector.records else 0.0
        for group in RATE_GROUPS
    }
    return CheckResult(
        records=collector.records,
        kinds=collector.kinds,
        findings=collector.findings,
        omitted=dict(collector.omitted),
        rates=rates,
        thresholds=thresholds,
        failures=_failures(collector.records, collector.kinds, rates, thresholds),
        steps=pipeline.stats,
        seconds=seconds,
        bytes_read=byte_counter.bytes if byte_counter else 0,
        min_chars=min_chars,
    )


def check_corpus(
    steps: list[Step],
    options: RunOptions,
    thresholds: Thresholds | None = None,
    *,
    min_chars: int = DEFAULT_MIN_CHARS,
    max_findings: int = 50,
) -> CheckResult:
    """Read the inputs of ``options`` and check them; nothing is written."""
    inputs = expand_inputs(options.inputs)
    read_options = ReadOptions(
        options.text_field, options.id_field, options.max_record_bytes, annotations=False
    )
    counter = ByteCounter()
    files = inputs_are_files(options)
    spooling = files and will_spool(steps)  # then the replay is what is read, and counts the bytes
    return check_records(
        read_inputs(inputs, read_options, None if spooling else counter),
        steps,
        thresholds,
        min_chars=min_chars,
        max_findings=max_findings,
        records_factory=Replay(inputs, read_options, counter if spooling else None) if files else None,
        byte_counter=counter,
        jobs=options.jobs,
        spool=spooling,
        progress=options.progress,
    )


def will_spool(steps: list[Step]) -> bool:
    """Whether a check of files with ``steps`` runs the steps before a two-pass step once, spooled."""
    return Pipeline(detector_chain(steps)).spooled_step() is not None


def _without_old_annotations(records: Iterable[Record]) -> Iterator[Record]:
    """Annotations an earlier run wrote (--annotate) must not count as findings now."""
    for record in records:
        record.annotations = {}
        yield record


def format_rate(rate: float, limit: float) -> str:
    """``rate`` with 3 decimals, or as many more as it takes to read on the same side of ``limit``
    as it is (4 in 3,000 against 0.001 is 0.0013, not 0.001)."""
    for decimals in range(3, 18):
        shown = f"{rate:.{decimals}f}"
        if (float(shown) > limit) == (rate > limit):
            return shown
    return repr(rate)


def format_limit(limit: float) -> str:
    """A maximum as typed (0.05, 1e-05), in full when 6 significant digits would round it."""
    shown = f"{limit:g}"
    return shown if float(shown) == limit else repr(limit)


def too_few_records(records: int, min_records: int) -> str:
    read = f"only {records} record(s) read" if records else "no records read"
    return f"{read} (--min-records {min_records})"


def _failures(
    records: int, kinds: dict[str, KindCount], rates: dict[str, float], thresholds: Thresholds
) -> list[str]:
    failures = []
    if records < thresholds.min_records:
        failures.append(too_few_records(records, thresholds.min_records))
    for group, rate in rates.items():
        limit = thresholds.max_rates[group]
        if rate > limit:
            failures.append(f"{group} rate {format_rate(rate, limit)} > {format_limit(limit)}")
    for kind in KINDS:
        if kind in thresholds.fail_on and kinds[kind].findings:
            failures.append(f"{kinds[kind].findings} {kind} finding(s) (--fail-on {kind})")
    return failures
