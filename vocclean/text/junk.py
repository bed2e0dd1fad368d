"""Invisible junk and line endings: what scraped text carries that nobody meant to write.

Always removed: C0 controls other than tab and newline, DEL, C1 controls,
byte-order marks inside the text (U+FEFF) and the noncharacters U+FFFE/U+FFFF.
Removed only next to CJK text (or one or two spaces or ASCII marks away from
it), or at the edge of a line: zero-width spaces and
joiners, word joiners, soft hyphens and bidi marks, which are meaningful
elsewhere (a zero-width joiner inside an emoji sequence, a ZWNJ in Persian, a
right-to-left mark in Arabic) but never between hanzi.
"""

from __future__ import annotations

import re

from vocclean import regex_cache

_INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)

# One cheap test decides whether a text needs any of this.
JUNK_GATE = regex_cache.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff{_INVISIBLE}]")
_LINE_BREAKS = regex_cache.compile("\r\n|[\r\u2028\u2029\x85]")
_ALWAYS = regex_cache.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]+")
# Marks that normalize-script may turn into CJK ones beside hanzi (`经济 ,` → `经济 ，`), and spaces:
# invisible junk one or two of them away from CJK text is removed as if it touched it, or the
# next run of clean would remove it (after normalize-script made the mark CJK).
_NEAR = "[ \t,.:;!?()\\[\\]\"']"
_IN_CJK = regex_cache.compile(
    f"(?<=[{_CJK}])[{_INVISIBLE}]+|[{_INVISIBLE}]+(?=[{_CJK}])|^[{_INVISIBLE}]+|[{_INVISIBLE}]+$"
    f"|(?<=[{_CJK}]{_NEAR})[{_INVISIBLE}]+|(?<=[{_CJK}]{_NEAR}{_NEAR})[{_INVISIBLE}]+"
    f"|[{_INVISIBLE}]+(?={_NEAR}{{1,2}}[{_CJK}])",
    re.MULTILINE,
)


def normalize_line_endings(text: str) -> str:
    """CRLF, CR, NEL and the Unicode line/paragraph separators become ``\\n``."""
    return _LINE_BREAKS.sub("\n", text)


# C0 controls and DEL: no multibyte encoding (UTF-8, GBK, Big5) has such a byte inside a character,
# so they can be removed before mojibake repair, where one inside a damaged run would block it.
_C0 = regex_cache.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


def strip_c0_controls(text: str) -> tuple[str, int]:
    """Remove C0 controls other than tab and line breaks, and DEL; return the text and how many went.

    Text without any comes back as the same object.
    """
    if not _C0.search(text):
        return text, 0
    stripped = _C0.sub("", text)
    return stripped, len(text) - len(stripped)


def strip_invisible_junk(text: str) -> tuple[str, int]:
    """Normalise line endings and remove invisible junk; return the text and how many characters went.

    Line-ending changes are not counted as removed characters. Text without
    any candidate character comes back as the same object.
    """
    if not JUNK_GATE.search(text):
        return text, 0
    text = normalize_line_endings(text)
    before = len(text)
    text = _ALWAYS.sub("", text)
    text = _IN_CJK.sub("", text)
    return text, before - len(text)
