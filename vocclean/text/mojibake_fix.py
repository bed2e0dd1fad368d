"""What both kinds of mojibake repair share: the record of a repair and how to judge one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vocclean.text.hanzi import plausibility

ASCII_OR_FFFD = re.compile("[\x00-\x7f\ufffd]+")
CJK_CHAR = re.compile("[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Plausibility is read on this many characters of a whole text: enough to decide, cheap on long texts.
SAMPLE = 200


@dataclass(frozen=True, slots=True)
class Fix:
    """One repaired span: where it starts in the repaired text, its kind and length."""

    kind: str
    start: int
    length: int


def plausible_cjk(text: str) -> float:
    """Plausibility of the non-ASCII part, known damage (U+FFFD) left out."""
    return plausibility(ASCII_OR_FFFD.sub("", text), "zh")


def fixes_by_line(kind: str, text: str, fixed: str) -> list[Fix]:
    """One :class:`Fix` per line that differs between a whole text and its repair (same line count)."""
    fixes = []
    offset = 0
    for before, after in zip(text.split("\n"), fixed.split("\n"), strict=True):
        if before != after:
            fixes.append(Fix(kind, offset, len(after)))
        offset += len(after) + 1
    return fixes
