"""strip-boilerplate: remove disclaimers, follow prompts, credits, END markers and teasers.

Design:

- The rules are data (``vocclean/rules/*.toml`` plus the user's ``rules``
  packs), loaded and compiled once in ``__init__``; the position logic lives
  in ``vocclean.text.boilerplate``.
- Learned boilerplate (``learn=True``) needs the whole corpus before the first
  record is cleaned. With file input the pipeline calls ``fit`` with a
  factory that replays the records (a counting pass); with stdin nothing
  calls ``fit``, so the step learns from a bounded first window of records
  (``learn_window``), then cleans them and the rest. Until it has learned,
  such a step is not per-record (``per_record`` False): it must see the
  stream in order, in one process. A saved model (``model``) needs neither.
- ``LearnBoilerplate`` (the ``learn-boilerplate`` command) passes every record
  through unchanged and writes a model file when the stream ends.
"""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from vocclean.record import Record
from vocclean.steps.base import RecordStep, Step, in_range, names, passing_rejects
from vocclean.text.boilerplate import BoilerplateMatcher, Removal
from vocclean.text.boilerplate_notes import RemovalCounts, explain, truncate
from vocclean.text.boilerplate_rules import KINDS, Rule, builtin_pack_paths, load_packs
from vocclean.text.learned_boilerplate import (
    DEFAULT_MIN_CHARS,
    DEFAULT_MIN_DOCS,
    DEFAULT_MIN_SHARE,
    LearnedLines,
    LineCounter,
    LineDigest,
    line_digest,
)

__all__ = ["LearnBoilerplate", "StripBoilerplate", "describe_removal"]

REJECT_EMPTY = "empty after boilerplate removal"

Reporter = Callable[[Record, list[Removal]], None]


class StripBoilerplate(RecordStep):
    """Remove boilerplate lines (and datelines) from each article.

    Options (all keyword, all with defaults):

    - ``rules`` (()): extra rule packs (TOML paths), after the built-in ones.
    - ``builtin_rules`` (True): load the packs shipped in ``vocclean/rules``.
    - ``disable`` (()): rule names or kinds to turn off.
    - ``keep_dateline`` (False): do not strip lead-ins and datelines.
    - ``head_lines`` (3), ``tail_lines`` (4): size of the head and tail zones
      where weak rules fire, in kept non-empty lines.
    - ``cut_from`` (0.25): an END marker or related-articles heading cuts the
      rest of the document only when it starts after this share of the text.
    - ``learn`` (False): learn recurring short lines from the corpus.
    - ``model`` (None): a model file from ``learn-boilerplate`` to apply.
    - ``learn_min_docs`` (20), ``learn_min_share`` (0.01): a learned line must
      occur in at least max(min_docs, min_share x documents) documents.
    - ``learn_max_chars`` (60): only lines this short are learned.
    - ``learn_window`` (5000): without ``fit`` (stdin), learn from this many
      first records.
    - ``min_chars`` (0): a document left with fewer non-space characters
      after removal is rejected (an emptied document always is).
    - ``dry_run`` (False): report what would be removed, change nothing.
    - ``report`` (None): called with (record, removals) in a dry run;
      default: plain lines on stderr.
    """

    name = "strip-boilerplate"
    reads_fields = False

    # --- stats ----------------------------------------------------------------

    @property
    def stats(self) -> Counter[str]:  # type: ignore[override]
        """The step's counters, with the removals counted since they were last read (``explain``
        counts them by rule: ``vocclean.text.boilerplate_notes.RemovalCounts``)."""
        self._flush_stats()
        return self._stats

    @stats.setter
    def stats(self, counters: Counter[str]) -> None:
        self._stats = counters
        self._removal_counts = RemovalCounts()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (sent to workers, copied) with every removal counted in ``stats``."""
        self._flush_stats()
        return self.__dict__.copy()

    def __init__(
        self,
        *,
        rules: Sequence[str | Path] = (),
        builtin_rules: bool = True,
        disable: Sequence[str] = (),
        keep_dateline: bool = False,
        head_lines: int = 3,
        tail_lines: int = 4,
        cut_from: float = 0.25,
        learn: bool = False,
        model: str | Path | None = None,
        learn_min_docs: int = DEFAULT_MIN_DOCS,
        learn_min_share: float = DEFAULT_MIN_SHARE,
        learn_max_chars: int = 60,
        learn_window: int = 5000,
        min_chars: int = 0,
        dry_run: bool = False,
        report: Reporter | None = None,
    ) -> None:
        super().__init__()
        for name, value, low, high in (
            ("head_lines", head_lines, 0, None),
            ("tail_lines", tail_lines, 0, None),
            ("cut_from", cut_from, 0, 1),
            ("learn_min_docs", learn_min_docs, 1, None),
            ("learn_min_share", learn_min_share, 0, 1),
            ("learn_max_chars", learn_max_chars, 2, None),
            ("learn_window", learn_window, 1, None),
            ("min_chars", min_chars, 0, None),
        ):
            in_range(name, value, low, high)
        packs = [*(builtin_pack_paths() if builtin_rules else []), *map(Path, names(rules))]
        self.all_rules: list[Rule] = load_packs(packs)
        self.disabled = frozenset(names(disable))
        _check_disable(self.disabled, self.all_rules)
        active = [r for r in self.all_rules if r.name not in self.disabled and r.kind not in self.disabled]
        self.rules = active
        self.matcher = BoilerplateMatcher(
            active,
            head_lines=head_lines,
            tail_lines=tail_lines,
            cut_from=cut_from,
            keep_dateline=keep_dateline,
        )
        self.learn = learn
        self.learn_min_docs = learn_min_docs
        self.learn_min_share = learn_min_share
        self.learn_max_chars = learn_max_chars
        self.learn_window = learn_window
        self.learned: LearnedLines | None = LearnedLines.load(model) if model is not None else None
        self._needs_learning = learn
        self.per_record = not self._needs_learning
        self.min_chars = min_chars
        self.dry_run = dry_run
        self.report = report if report is not None else describe_to_stderr

    # --- learning -----------------------------------------------------------

    def fit(self, records_factory: Callable[[], Iterator[Record]]) -> None:
        """Count pass over the whole input (file inputs): learn before streaming."""
        if self._needs_learning:
            self._learn_from(records_factory())

    @property
    def needs_fit(self) -> bool:
        """Whether ``fit`` has anything to learn (engines may then spool its input, see Pipeline)."""
        return self._needs_learning

    def fit_map(self, record: Record) -> LineDigest | None:
        """What learning needs of one record of the count pass (pure: engines run it on workers)."""
        return line_digest(record.text, DEFAULT_MIN_CHARS, self.learn_max_chars)

    def fit_reduce(self, digests: Iterable[LineDigest | None]) -> None:
        """Learn from the count pass's ``fit_map`` results, in input order."""
        if self._needs_learning:
            self._learn_from_digests(digests)

    def _learn_from(self, records: Iterable[Record]) -> None:
        self._learn_from_digests(map(self.fit_map, records))

    def _learn_from_digests(self, digests: Iterable[LineDigest | None]) -> None:
        counter = LineCounter(max_chars=self.learn_max_chars)
        for digest in digests:
            counter.add_digest(digest)
        model = counter.model(min_docs=self.learn_min_docs, min_share=self.learn_min_share)
        self.learned = model if self.learned is None else self.learned.merged(model)
        self.stats["learned/documents"] = counter.documents
        self.stats["learned/copies_skipped"] = counter.copies_skipped
        self.stats["learned/lines"] = len(model)
        self._needs_learning = False
        self.per_record = True

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        try:
            yield from self._stream(records)
        finally:  # engines read the Counter itself (``Pipeline``, ``run_chunk``), not the property
            self._flush_stats()

    def _stream(self, records: Iterable[Record]) -> Iterator[Record]:
        if not self._needs_learning:
            return super().__call__(records)  # a rejected record passes on (RecordStep)
        return passing_rejects(self._learn_then_clean, records)

    def _learn_then_clean(self, records: Iterable[Record]) -> Iterator[Record]:
        """stdin: learn from a bounded first window, then clean it and the rest."""
        iterator = iter(records)
        window = list(itertools.islice(iterator, self.learn_window))
        self.stats["learned/window"] = len(window)
        self._learn_from(window)
        process = self.process
        for record in itertools.chain(window, iterator):
            yield process(record)

    def _flush_stats(self) -> None:
        """Add the removals counted since to the ``Counter``."""
        self._removal_counts.drain(self._stats)

    # --- cleaning -----------------------------------------------------------

    def process(self, record: Record) -> Record:
        text = record.text
        if not text:
            return record
        if self.dry_run:
            removals = self.matcher.find(text, self._learned_in_use)
        else:
            cleaned, removals = self.matcher.strip(text, self._learned_in_use)
        if not removals:
            return record
        annotations = record.annotations
        would = "would_" if self.dry_run else ""
        annotations["boilerplate"], annotations["removed_lines"] = explain(
            removals, self._removal_counts, would
        )
        if self.dry_run:
            self.report(record, removals)
            return record
        record.text = cleaned
        left = len("".join(cleaned.split())) if self.min_chars or not cleaned or cleaned.isspace() else 1
        if left == 0 or left < self.min_chars:
            before = len("".join(text.split()))
            reason = REJECT_EMPTY
            if left:
                reason = (
                    f"{left} characters left after boilerplate removal (of {before}), "
                    f"under --min-chars {self.min_chars}"
                )
            removed_lines = record.annotations["removed_lines"]
            return record.reject(
                self.name, reason, removed_lines=removed_lines, chars_before=before, chars_after=left
            )
        return record

    @property
    def _learned_in_use(self) -> LearnedLines | None:
        return None if "learned" in self.disabled else self.learned


class LearnBoilerplate(Step):
    """Pass records through unchanged; at the end of the stream, write a learned-lines model."""

    name = "learn-boilerplate"

    def __init__(
        self,
        *,
        model: str | Path,
        min_docs: int = DEFAULT_MIN_DOCS,
        min_share: float = DEFAULT_MIN_SHARE,
        max_chars: int = 60,
    ) -> None:
        super().__init__()
        in_range("min_docs", min_docs, 1)
        in_range("min_share", min_share, 0, 1)
        in_range("max_chars", max_chars, 2)
        self.model_path = Path(model)
        self.min_docs = min_docs
        self.min_share = min_share
        self.max_chars = max_chars
        self.counter = LineCounter(max_chars=max_chars)
        self.model: LearnedLines | None = None

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        add = self.counter.add
        for record in records:
            if record.rejection is None:  # a rejected record teaches nothing
                add(record.text)
            yield record
        self.model = self.counter.model(min_docs=self.min_docs, min_share=self.min_share)
        self.model.save(self.model_path)
        self.stats["learned/documents"] = self.counter.documents
        self.stats["learned/copies_skipped"] = self.counter.copies_skipped
        self.stats["learned/lines"] = len(self.model)


def describe_removal(removal: Removal) -> str:
    """One line saying what a removal took and why, for dry runs."""
    what = "prefix" if removal.prefix else "line"
    return f"{what} {removal.line + 1} [{removal.kind} {removal.rule}]: {truncate(removal.text)}"


def describe_to_stderr(record: Record, removals: list[Removal]) -> None:
    where = f" ({record.source})" if record.source else ""
    print(f"strip-boilerplate: {record.id}{where}: {len(removals)} removal(s)", file=sys.stderr)
    for removal in removals:
        print(f"  {describe_removal(removal)}", file=sys.stderr)


def _check_disable(disabled: frozenset[str], rules: list[Rule]) -> None:
    known = {r.name for r in rules} | set(KINDS) | {"learned"}
    unknown = sorted(disabled - known)
    if unknown:
        raise ValueError(
            f"unknown rule or kind to disable: {', '.join(unknown)} "
            f"(kinds: {', '.join(KINDS)}; see --list-rules for rule names)"
        )
