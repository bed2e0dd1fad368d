"""Line-by-line difference between an article before and after a chain.

Used by ``vocclean diff`` (terminal) and by the HTML report's before/after
samples. Lines that left are ``removed``, lines that appeared are ``added``,
and a line edited in place (punctuation, script, mojibake) is ``changed``
with the character spans that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

# A removed line and an added line are shown as one changed line when at least this similar.
CHANGED_LINE_SIMILARITY = 0.5


@dataclass(frozen=True, slots=True)
class Span:
    """A run of characters inside a changed line: ``same``, ``removed`` or ``added``."""

    op: str
    text: str


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of the comparison. ``before``/``after`` is None for added/removed lines."""

    op: str  # same | removed | added | changed
    before: str | None
    after: str | None
    spans: tuple[Span, ...] = field(default=())


def diff_lines(before: str, after: str) -> list[DiffLine]:
    """The lines of ``before`` and ``after`` aligned, with what happened to each."""
    old, new = before.splitlines(), after.splitlines()
    lines: list[DiffLine] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            lines.extend(DiffLine("same", line, line) for line in old[i1:i2])
        elif op == "delete":
            lines.extend(DiffLine("removed", line, None) for line in old[i1:i2])
        elif op == "insert":
            lines.extend(DiffLine("added", None, line) for line in new[j1:j2])
        else:
            lines.extend(_pair_replaced(old[i1:i2], new[j1:j2]))
    return lines


def _pair_replaced(old: list[str], new: list[str]) -> list[DiffLine]:
    """Replaced blocks: pair each old line with the next similar new line, in order."""
    out: list[DiffLine] = []
    j = 0
    for line in old:
        match = next(
            (k for k in range(j, len(new)) if _similarity(line, new[k]) >= CHANGED_LINE_SIMILARITY), None
        )
        if match is None:
            out.append(DiffLine("removed", line, None))
            continue
        out.extend(DiffLine("added", None, added) for added in new[j:match])
        out.append(DiffLine("changed", line, new[match], char_spans(line, new[match])))
        j = match + 1
    out.extend(DiffLine("added", None, added) for added in new[j:])
    return out


def _similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def char_spans(before: str, after: str) -> tuple[Span, ...]:
    """The characters that stayed, left and came in, in reading order."""
    spans: list[Span] = []
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            spans.append(Span("same", before[i1:i2]))
            continue
        if i2 > i1:
            spans.append(Span("removed", before[i1:i2]))
        if j2 > j1:
            spans.append(Span("added", after[j1:j2]))
    return tuple(spans)


def diff_summary(lines: list[DiffLine]) -> dict[str, int]:
    """How many lines stayed, left, came in and changed."""
    counts = {"same": 0, "removed": 0, "added": 0, "changed": 0}
    for line in lines:
        counts[line.op] += 1
    return counts


# Annotations that list removed lines, each an entry with the line and the kind and rule that removed it.
LABELLED_REMOVALS = ("boilerplate", "repeated_paragraphs")


def removal_labels(annotations: dict[str, Any]) -> dict[str, str]:
    """Removed line (stripped) -> "kind · rule", from what the steps annotated, to label removals."""
    labels = {}
    for key in LABELLED_REMOVALS:
        value = annotations.get(key)
        for entry in value if isinstance(value, list) else []:
            text = removed_text(entry)
            if text:
                parts = [str(entry[k]) for k in ("kind", "rule") if isinstance(entry, dict) and entry.get(k)]
                labels[text.strip()] = " · ".join(parts) or key.replace("_", " ")
    return labels


def removed_text(entry: Any) -> str:
    """The line or paragraph an annotation entry says was removed ("" when it names none)."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        for key in ("line", "text", "paragraph"):
            if isinstance(entry.get(key), str):
                return entry[key]
    return ""


def loose_key(text: str) -> str:
    """Letters, digits and hanzi only: a line still matches after punctuation or width changes."""
    return "".join(c for c in text.casefold() if c.isalnum())


def label_for(labels: dict[str, str], line: str) -> str | None:
    """The label of a removed line. Labels are keyed by the line as the step saw it, maybe cut
    short with "…" and after earlier steps changed its punctuation: compare loosely."""
    key = loose_key(line)
    if not key:
        return labels.get(line.strip())
    for text, label in labels.items():
        wanted = loose_key(text.removesuffix("…"))
        if wanted and (key == wanted or (text.endswith("…") and key.startswith(wanted))):
            return label
    return None
