"""Turn what the real steps did to a record into findings.

``vocclean check`` runs the cleaning steps on records it then throws away, so
nothing is changed on disk. Each step annotates what it would fix or rejects
what it would drop; this module reads those annotations and rejections and
counts them as findings by kind, with the file, line and record id.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from vocclean.check.kinds import KINDS, RATE_GROUPS
from vocclean.pipeline import DecodeUtf8
from vocclean.record import Record, Rejection
from vocclean.report.record_diff import loose_key, removed_text
from vocclean.steps.base import RecordStep, Step

SNIPPET_CHARS = 60
DEFAULT_MIN_CHARS = 50
_WHERE = re.compile(r"^(?P<file>.+):(?P<line>\d+)$")
# Private annotations of the inspect steps, read and removed by the collector.
SIZE_KEY, TEXT_KEY, SEEN_KEY = "check_chars", "check_text", "check_seen_text"
# Steps whose annotations quote the lines they remove (found again in the file for the line number).
LINE_STEPS = ("strip-boilerplate", "dedup-paragraphs")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "ascii", "utf-8-sig", "us-ascii"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: its kind, where it is (file, line, record id) and what it is."""

    kind: str
    file: str
    line: int | None
    record_id: str
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(slots=True)
class KindCount:
    records: int = 0
    findings: int = 0


class FindingCollector:
    """Counts findings by kind and keeps the first ``max_findings`` of each (0 keeps all)."""

    def __init__(self, max_findings: int = 50, min_chars: int = DEFAULT_MIN_CHARS) -> None:
        self.max_findings = max_findings
        self.min_chars = min_chars
        self.kinds: dict[str, KindCount] = {kind: KindCount() for kind in KINDS}
        self.findings: list[Finding] = []
        self.omitted: Counter[str] = Counter()
        self.group_records: Counter[str] = Counter()
        self.records = 0
        self._kept: Counter[str] = Counter()

    def finish(self, record: Record) -> None:
        """Count the findings of a record that has left the detector chain (live or rejected)."""
        size = record.annotations.pop(SIZE_KEY, None)
        text = record.annotations.pop(TEXT_KEY, None) or ""
        seen = record.annotations.pop(SEEN_KEY, None)
        found: list[tuple[str, str, str | None]] = []
        if size == 0:
            found.append(("empty", "the text is blank", None))
        elif size is not None and size < self.min_chars:
            found.append(("tiny", f"only {size} non-blank characters (--min-chars {self.min_chars})", None))
        found.extend(annotation_findings(record.annotations))
        if record.rejection is not None:
            found.append((*rejection_finding(record.rejection, record.annotations), None))
        self.records += 1
        kinds = set()
        used: set[int] = set()
        for kind, message, quote in found:
            count = self.kinds[kind]
            count.findings += 1
            if kind not in kinds:
                kinds.add(kind)
                count.records += 1
            if self.max_findings and self._kept[kind] >= self.max_findings:
                self.omitted[kind] += 1
                continue
            self._kept[kind] += 1
            file, line = _line_of(record.source)
            if quote is not None:
                if line is None:
                    line, quote = _locate(
                        text, seen, quote, skip_first=kind == "repeated-paragraph", used=used
                    )
                message = f"{message}: {_snippet(quote)}"
            self.findings.append(Finding(kind, file, line, record.id, message))
        for group, group_kinds in RATE_GROUPS.items():
            if kinds.intersection(group_kinds):
                self.group_records[group] += 1


def annotation_findings(annotations: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(kind, message, removed line or None) for each thing a step would fix; the message of a
    removed line is completed with its quote once the line is found in the file."""
    encoding = annotations.get("encoding")
    if isinstance(encoding, str) and encoding.lower() not in _UTF8_NAMES:
        yield "non-utf8", f"encoded as {encoding}, not UTF-8", None
    if _amount(annotations.get("replaced_bytes")):
        yield "undecodable", f"{_describe(annotations['replaced_bytes'])} undecodable byte(s) replaced", None
    if _amount(annotations.get("mojibake")):
        yield "mojibake", f"mis-decoded text: {_describe(annotations['mojibake'])}", None
    if _amount(annotations.get("unrecoverable")):
        yield "unrecoverable", f"unrecoverable damage: {_describe(annotations['unrecoverable'])}", None
    if _amount(annotations.get("junk_removed")):
        yield "junk", f"junk characters: {_describe(annotations['junk_removed'])}", None
    script = annotations.get("script")
    if script == "mixed":
        yield "mixed-script", "Traditional and Simplified Chinese mixed", None
    if _amount(annotations.get("converted")):
        detail = _describe(annotations["converted"])
        yield "other-script", f"in the other script ({script or '?'}), would convert: {detail}", None
    if _amount(annotations.get("punctuation_rules")):
        rules = _describe(annotations["punctuation_rules"])
        yield "punctuation", f"punctuation out of context: {rules}", None
    for entry in _entries(annotations.get("boilerplate")):
        line = removed_text(entry)
        what = "boilerplate prefix" if isinstance(entry, dict) and entry.get("prefix") else "boilerplate"
        yield "boilerplate", f"{what}{_entry_label(entry)}", line
    for entry in _entries(annotations.get("repeated_paragraphs")):
        line = removed_text(entry)
        yield "repeated-paragraph", f"repeated paragraph{_entry_label(entry)}", line


def rejection_finding(rejection: Rejection, annotations: dict[str, Any]) -> tuple[str, str]:
    """(kind, message) for a record a step would drop."""
    step, reason, details = rejection.step, rejection.reason, rejection.details
    message = f"{step}: {reason}"
    if reason.startswith("internal error"):
        return "step-error", message
    if step == "read":
        return ("empty" if reason == "empty file" else "invalid-record"), reason
    if step in ("decode", "fix-encoding"):
        return "undecodable", message
    if step == "normalize-script":  # only mixed-script articles are dropped (--mixed reject)
        return "mixed-script", message
    if step == "strip-boilerplate":
        return "boilerplate", message
    if step == "dedup-paragraphs":
        return "repeated-paragraph", message
    if step == "dedup-articles":
        of = details.get("duplicate_of", annotations.get("duplicate_of"))
        similarity = details.get("similarity", annotations.get("similarity"))
        kind = annotations.get("duplicate_kind") or details.get("duplicate_kind")
        if kind is None:
            kind = "exact" if similarity is None or float(similarity) >= 1.0 else "near"
        shown = f" (similarity {float(similarity):.2f})" if similarity is not None else ""
        return f"duplicate-{'near' if kind == 'near' else 'exact'}", f"{kind} copy of {of}{shown}"
    return "rejected", message


class InspectStep(RecordStep):
    """Notes each decoded text's size and, for plain-text files, the text itself (for line numbers).

    It annotates rather than counting, so that it also works in worker processes.
    """

    name = "inspect"

    def process(self, record: Record) -> Record:
        text = record.text or ""
        record.annotations[SIZE_KEY] = len("".join(text.split()))
        if _line_of(record.source)[1] is None:
            record.annotations[TEXT_KEY] = text
        return record


class DecodeAndInspect(DecodeUtf8):
    """Strict UTF-8 decoding (as a run without fix-encoding does), then the inspection."""

    accepts_bytes = True

    def __init__(self) -> None:
        super().__init__()
        self.inspector = InspectStep()

    def process(self, record: Record) -> Record:
        record = super().process(record)
        return record if record.rejected else self.inspector.process(record)


class NoteSeenText(RecordStep):
    """Notes a plain-text file's text as the line-removing steps see it, when the steps before
    changed it (script conversion, punctuation): their quotes are found in this text, at the
    line of the file that has the same number."""

    name = "inspect-lines"

    def process(self, record: Record) -> Record:
        original = record.annotations.get(TEXT_KEY)
        if original is not None and record.text is not None and record.text != original:
            record.annotations[SEEN_KEY] = record.text
        return record


def detector_chain(steps: Iterable[Step]) -> list[Step]:
    """The steps with the inspection placed right after decoding, and the text noted again
    before the first step that removes lines when other steps come between."""
    steps = list(steps)
    if steps and steps[0].accepts_bytes:
        chain = [steps[0], InspectStep(), *steps[1:]]
    else:
        chain = [DecodeAndInspect(), *steps]
    first = next((n for n, step in enumerate(chain) if step.name in LINE_STEPS), None)
    if first is not None and not isinstance(chain[first - 1], InspectStep | DecodeAndInspect):
        chain.insert(first, NoteSeenText())
    return chain


def _line_of(source: str) -> tuple[str, int | None]:
    match = _WHERE.match(source)
    return (match["file"], int(match["line"])) if match else (source, None)


def _locate(
    text: str, seen: str | None, quote: str, *, skip_first: bool, used: set[int]
) -> tuple[int | None, str]:
    """The line of the file's ``text`` that ``quote`` was removed from, and the quote as the file
    has it. ``seen``: the text as the steps saw it, when they converted it first."""
    lines = text.splitlines()
    if seen is None:
        return _find_line(lines, quote, skip_first=skip_first, used=used), quote
    seen_lines = seen.splitlines()
    if len(seen_lines) != len(lines):  # a step joined or split lines: search the file as it is
        return _find_line(lines, quote, skip_first=skip_first, used=used), quote
    number = _find_line(seen_lines, quote, skip_first=skip_first, used=used)
    if number is None:
        return None, quote
    return number, _quote_in_file(lines[number - 1], seen_lines[number - 1], quote)


def _quote_in_file(file_line: str, seen_line: str, quote: str) -> str:
    """What ``quote`` (from ``seen_line``, as the steps made it) is in the file's line: the whole
    line, or the same characters when the conversion kept the line's length; else the quote."""
    if file_line == seen_line:
        return quote
    if loose_key(seen_line) == loose_key(quote):
        return file_line
    wanted = quote.strip().removesuffix("…")
    start = seen_line.find(wanted)
    if start < 0 or len(file_line) != len(seen_line):
        return quote
    return file_line[start : start + len(wanted)] + quote.strip()[len(wanted) :]


def _find_line(lines: list[str], wanted: str, *, skip_first: bool, used: set[int]) -> int | None:
    """The line of ``lines`` that ``wanted`` was removed from (1-based), or None.

    The whole line if one matches, else a line that starts with it (an annotation may
    hold a line cut short with "…", or a prefix stripped from its line). A repeated
    paragraph is the later copy: ``skip_first`` passes over the first match. Lines
    already given to a finding of the same record are passed over too.
    """
    key = loose_key(wanted.strip().removesuffix("…"))
    if not key:
        return None
    keys = [loose_key(line) for line in lines]
    matches = [n for n, line in enumerate(keys, 1) if line == key]
    if not matches:
        matches = [n for n, line in enumerate(keys, 1) if line.startswith(key)]
    if skip_first:
        matches = matches[1:]
    number = next((n for n in matches if n not in used), None)
    if number is not None:
        used.add(number)
    return number


def _amount(value: Any) -> bool:
    """True when an annotation says something happened (a count, a non-empty list, a kind)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value > 0
    return bool(value)


def _describe(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, dict) and "kind" in v for v in value):
        kinds = Counter(str(v["kind"]) for v in value)
        return ", ".join(f"{kind} ×{count}" if count > 1 else kind for kind, count in kinds.items())
    if isinstance(value, dict):
        return ", ".join(f"{k} {_describe(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        more = f" (+{len(value) - 5})" if len(value) > 5 else ""
        return ", ".join(_describe(v) for v in value[:5]) + more
    return str(value)


def _entries(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return []


def _entry_label(entry: Any) -> str:
    if not isinstance(entry, dict):
        return ""
    parts = [str(entry[key]) for key in ("kind",) if entry.get(key)]
    if entry.get("rule"):
        parts.append(f"rule {entry['rule']}")
    similarity = entry.get("similarity")
    if isinstance(similarity, int | float) and similarity < 1:
        parts.append(f"similarity {similarity:.2f}")
    return f" ({', '.join(parts)})" if parts else ""


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…")
