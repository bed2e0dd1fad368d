"""Paragraphs of a text and the repeats among them.

A paragraph is one non-blank line (CCNet's unit too): seed 004 has one
paragraph per line, seed 002 separates them with blank lines, and both read
the same way here. Paragraphs are numbered 0, 1, 2... in text order, blank
lines not counted.

``find_repeats`` works on the paragraphs' dedup keys (``normalize_key``) and
reports, for each paragraph that repeats an earlier one, which one it repeats
and how similar they are. Three rules, in order:

1. Exact: a paragraph whose key equals an earlier paragraph's key, if the key
   has at least ``min_exact_chars`` characters. Keys drop punctuation, width,
   whitespace and case, so ``，`` vs ``,`` or ``２０２２`` vs ``2022`` is exact.
2. Near: a paragraph whose key has at least ``min_chars`` characters and whose
   rapidfuzz ``fuzz.ratio`` with an earlier kept paragraph's key is at least
   ``similarity`` (0..1), with at most ``max_edit_regions`` separate places
   that differ. The edit-region guard is what keeps templated paragraphs
   apart: xwlb's "第三十七号主席令说…能源法…" and "第三十八号主席令说…反洗钱法…"
   are 93% similar but differ in several places, while a repost with one
   changed word differs in one.
3. Block: a short paragraph (under ``min_exact_chars``: a date, ``（完）``, a
   heading) is never removed on its own, but it is when it sits inside a
   repeated block, i.e. its neighbour repeats the neighbour of an earlier
   copy of it, e.g. the second copy of a whole article pasted twice.

Near matching compares a paragraph only with earlier kept paragraphs that
share its first or last ``ANCHOR_CHARS`` key characters (a dict look-up, not
a pair loop). A one-region edit of a paragraph of ``min_chars`` >= 2 *
ANCHOR_CHARS + the edit's length always keeps one of them intact; what is
missed is a near repeat changed at both its start and its end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

__all__ = [
    "ANCHOR_CHARS",
    "Paragraph",
    "Repeat",
    "edit_regions",
    "find_repeats",
    "remove_paragraphs",
    "split_paragraphs",
]

ANCHOR_CHARS = 6
# Two differing stretches separated by fewer equal characters than this count as one.
_REGION_GAP = 3


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A non-blank line: its number among paragraphs, its line number, its text (no line break)."""

    index: int
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Repeat:
    """Paragraph ``paragraph`` repeats the earlier paragraph ``repeats`` with this similarity (0..1)."""

    paragraph: int
    repeats: int
    similarity: float
    kind: str  # "exact", "near" or "block"


def split_paragraphs(text: str) -> list[Paragraph]:
    """The non-blank lines of ``text``, in order (any of str.splitlines' line breaks)."""
    paragraphs = []
    for line_no, line in enumerate(text.splitlines()):
        if line and not line.isspace():
            paragraphs.append(Paragraph(len(paragraphs), line_no, line))
    return paragraphs


def edit_regions(a: str, b: str) -> int:
    """How many separate places ``a`` and ``b`` differ in (0 when equal).

    Differing stretches closer than three equal characters count as one, so a
    changed word is one region however the alignment splits it.
    """
    regions = 0
    last_end = -_REGION_GAP
    for op in Indel.opcodes(a, b):
        if op.tag == "equal":
            continue
        if op.src_start - last_end >= _REGION_GAP:
            regions += 1
        last_end = op.src_end
    return regions


def find_repeats(
    keys: Sequence[str],
    *,
    similarity: float = 0.85,
    min_chars: int = 20,
    min_exact_chars: int = 8,
    max_edit_regions: int = 2,
) -> list[Repeat]:
    """Which paragraphs repeat an earlier one, given the paragraphs' keys in order.

    The first occurrence is always the one kept; every repeat points at a kept
    paragraph. Returns the repeats sorted by paragraph number.
    """
    found: dict[int, Repeat] = {}
    first_with_key: dict[str, int] = {}
    by_prefix: dict[str, list[int]] = {}
    by_suffix: dict[str, list[int]] = {}
    cutoff = similarity * 100.0
    for j, key in enumerate(keys):
        size = len(key)
        if size < min_exact_chars:
            continue
        earlier = first_with_key.get(key)
        if earlier is not None:
            found[j] = Repeat(j, earlier, 1.0, "exact")
            continue
        first_with_key[key] = j
        if size < min_chars:
            continue
        prefix = key[:ANCHOR_CHARS]
        suffix = key[-ANCHOR_CHARS:]
        candidates = by_prefix.get(prefix, []) + by_suffix.get(suffix, [])
        if candidates:
            match = _best_near(key, candidates, keys, cutoff, max_edit_regions)
            if match is not None:
                found[j] = Repeat(j, match[0], match[1], "near")
                continue
        by_prefix.setdefault(prefix, []).append(j)
        by_suffix.setdefault(suffix, []).append(j)
    if found:
        _extend_blocks(keys, found)
    return [found[j] for j in sorted(found)]


def _best_near(
    key: str, candidates: list[int], keys: Sequence[str], cutoff: float, max_edit_regions: int
) -> tuple[int, float] | None:
    """The earliest candidate whose key is similar enough to ``key``, with its similarity."""
    for i in sorted(set(candidates)):
        score = fuzz.ratio(keys[i], key, score_cutoff=cutoff)
        if score and edit_regions(keys[i], key) <= max_edit_regions:
            return i, round(score / 100.0, 4)
    return None


def _extend_blocks(keys: Sequence[str], found: dict[int, Repeat]) -> None:
    """Mark unmatched paragraphs inside repeated blocks as repeats, in place.

    Paragraph j repeats i when j-1 repeats i-1 (or j+1 repeats i+1) and j and i
    have the same key; that catches the short lines (dates, headings, empty
    keys such as ``***``) of a block pasted twice.
    """
    n = len(keys)
    changed = True
    while changed:
        changed = False
        for j in range(n):
            if j in found:
                continue
            for step in (-1, 1):
                neighbour = found.get(j + step)
                if neighbour is None:
                    continue
                i = neighbour.repeats - step
                if 0 <= i < j and i not in found and keys[i] == keys[j] and i != j + step:
                    found[j] = Repeat(j, i, 1.0, "block")
                    changed = True
                    break


def remove_paragraphs(text: str, paragraphs: Sequence[Paragraph], drop: set[int]) -> str:
    """``text`` without the paragraphs numbered in ``drop``; everything else byte for byte.

    A dropped paragraph takes its line break and the blank lines after it
    along (or, at the end of the text, the blank lines before it), so no
    double gap is left behind. A text that did not end with a line break
    still does not.
    """
    if not drop:
        return text
    lines = text.splitlines(keepends=True)
    keep = [True] * len(lines)
    paragraph_lines = [p.line for p in paragraphs]
    for position, paragraph in enumerate(paragraphs):
        if paragraph.index not in drop:
            continue
        line = paragraph.line
        keep[line] = False
        next_line = paragraph_lines[position + 1] if position + 1 < len(paragraphs) else len(lines)
        if next_line < len(lines):
            for blank in range(line + 1, next_line):
                keep[blank] = False
        else:
            blank = line - 1
            while blank >= 0 and keep[blank] and (not lines[blank].strip()):
                keep[blank] = False
                blank -= 1
    result = "".join(line for line, kept in zip(lines, keep, strict=True) if kept)
    if result and text and text[-1] not in "\n\r" and result[-1] in "\n\r":
        result = result.rstrip("\r\n")
    return result
