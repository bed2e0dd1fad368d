"""Paragraphs of a text and the repeats among them.

A paragraph is one non-blank line (CCNet's unit too): seed 004 has one
paragraph per line, seed 002 separates them with blank lines, and both read
the same way here. Lines are split on line feeds only (``\r\n`` works; a
lone ``\r`` or U+2028 does not break a line). Paragraphs are numbered 0, 1,
2... in text order, blank lines not counted.

``find_repeats`` works on the paragraphs' dedup keys (``normalize_key``) and
reports, for each paragraph that repeats an earlier one, which one it repeats
and how similar they are. Three rules, in order:

1. Exact: a paragraph whose key equals an earlier paragraph's key, if the key
   has at least ``min_exact_chars`` characters. Keys drop punctuation, width,
   whitespace and case, so ``，`` vs ``,`` or ``２０２２`` vs ``2022`` is exact.
2. Near: a paragraph whose key has at least ``min_chars`` characters and whose
   rapidfuzz ``fuzz.ratio`` with an earlier kept paragraph's key is at least
   ``similarity`` (0..1, default 0.85), with at most ``max_edit_regions``
   (default 1) separate places that differ. The edit-region guard is what
   keeps templated paragraphs apart: xwlb's "第三十七号主席令说…能源法…" and
   "第三十八号主席令说…反洗钱法…" are 93% similar but differ in several places,
   while a repost with one changed word differs in one. The defaults were
   chosen on the labelled xwlb set (bench/dedup_paragraphs.py): 0.80 also
   removed "…阿塞拜疆总统阿利耶夫前往天安门广场…" as a repeat of "…肯尼亚总统
   鲁托前往天安门广场…" (81%, one region); two regions also removed
   "…副主任委员黄明作的关于反洗钱法…" after "…王洪祥作的关于矿产资源法…".
3. Block: a short paragraph (under ``min_exact_chars``: a date, ``（完）``, a
   heading) is never removed on its own, but it is when it sits inside a
   repeated block, i.e. its neighbour repeats the neighbour of an earlier
   copy of it, e.g. the second copy of a whole article pasted twice.

Near matching compares a paragraph only with earlier kept paragraphs that
share its first or last ``ANCHOR_CHARS`` key characters (a dict look-up, not
a pair loop). A one-region edit of a paragraph of ``min_chars`` >= 2 *
ANCHOR_CHARS + the edit's length always keeps one of them intact; what is
missed is a near repeat changed at both its start and its end. Only the first
``MAX_ANCHORED`` paragraphs with a given start (or end) are filed under it,
which bounds the rapidfuzz calls per paragraph in lists and tables whose
lines all start alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from vocclean.text.normalize_key import line_keys

__all__ = [
    "ANCHOR_CHARS",
    "MAX_ANCHORED",
    "Paragraphs",
    "Repeat",
    "edit_regions",
    "find_repeats",
    "remove_paragraphs",
    "split_paragraphs",
]

ANCHOR_CHARS = 6
# At most this many paragraphs are filed under one anchor, so a paragraph is compared with at
# most 2 * MAX_ANCHORED others even in a list whose lines all start alike ("2022年10月…").
MAX_ANCHORED = 64
# Two differing stretches separated by fewer equal characters than this count as one.
_REGION_GAP = 3


@dataclass(frozen=True, slots=True)
class Paragraphs:
    """The paragraphs of a text: their dedup keys and the line number of each."""

    keys: list[str]
    lines: Sequence[int]


@dataclass(frozen=True, slots=True)
class Repeat:
    """Paragraph ``paragraph`` repeats the earlier paragraph ``repeats`` with this similarity (0..1)."""

    paragraph: int
    repeats: int
    similarity: float
    kind: str  # "exact", "near" or "block"


def split_paragraphs(text: str, to_simplified: Callable[[str], str] | None = None) -> Paragraphs:
    """The non-blank lines of ``text``: their keys and line numbers."""
    keys = line_keys(text, to_simplified)
    if "" not in keys:  # no blank line, and no line without letters: every line is a paragraph
        return Paragraphs(keys, range(len(keys)))
    lines = text.split("\n")
    numbers = [n for n, key in enumerate(keys) if key or (lines[n] and not lines[n].isspace())]
    return Paragraphs([keys[n] for n in numbers], numbers)


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
    max_edit_regions: int = 1,
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
        if size < min_chars:
            first_with_key[key] = j
            continue
        prefix = key[:ANCHOR_CHARS]
        suffix = key[-ANCHOR_CHARS:]
        same_start = by_prefix.get(prefix)
        same_end = by_suffix.get(suffix)
        if same_start or same_end:
            match = _best_near(key, (same_start or []) + (same_end or []), keys, cutoff, max_edit_regions)
            if match is not None:
                found[j] = Repeat(j, match[0], match[1], "near")
                first_with_key[key] = match[0]  # a later exact copy repeats the kept paragraph
                continue
        first_with_key[key] = j
        if same_start is None:
            by_prefix[prefix] = [j]
        elif len(same_start) < MAX_ANCHORED:
            same_start.append(j)
        if same_end is None:
            by_suffix[suffix] = [j]
        elif len(same_end) < MAX_ANCHORED:
            same_end.append(j)
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

    Paragraph j repeats i when j-1 repeats i-1 (or j+1 repeats i+1), i is kept
    and j and i have the same key; that catches the short lines (dates,
    headings, lines without letters such as ``***``) of a block pasted twice.
    """
    last = len(keys) - 1
    work = list(found)
    while work:
        anchor = work.pop()
        for step in (-1, 1):
            j = anchor - step  # the paragraph next to a repeat...
            i = found[anchor].repeats - step  # ...and the one next to what it repeats
            if 0 <= i < j <= last and j not in found and i not in found and keys[i] == keys[j]:
                found[j] = Repeat(j, i, 1.0, "block")
                work.append(j)


def remove_paragraphs(text: str, paragraph_lines: Sequence[int], drop: set[int]) -> str:
    """``text`` without the paragraphs numbered in ``drop``; everything else byte for byte.

    ``paragraph_lines`` is the line number of each paragraph (``Paragraphs.lines``).
    A dropped paragraph takes its line break and the blank lines after it
    along (or, when nothing follows it, the blank lines before it), so no
    double gap is left behind. A text that did not end with a line break
    still does not.
    """
    if not drop:
        return text
    lines = text.split("\n")
    keep = [True] * len(lines)
    for number in drop:
        line = paragraph_lines[number]
        keep[line] = False
        if number + 1 < len(paragraph_lines):
            for blank in range(line + 1, paragraph_lines[number + 1]):
                keep[blank] = False
        else:
            for blank in range(line + 1, len(lines)):
                keep[blank] = False
            blank = line - 1
            while blank >= 0 and keep[blank] and (not lines[blank] or lines[blank].isspace()):
                keep[blank] = False
                blank -= 1
    kept = [line for line, keep_it in zip(lines, keep, strict=True) if keep_it]
    if text.endswith("\n") and kept and kept[-1] != "":
        kept.append("")  # the text ended with a line break: keep one
    return "\n".join(kept)
