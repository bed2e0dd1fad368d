"""Bytes that an earlier program decoded as latin-1/cp1252, reversed: ftfy's cases and GBK/Big5 read so.

A cheap gate (:data:`LATIN_GATE`: Latin-1 to Cyrillic letters, cp1252's and
MacRoman's symbols, HTML entities) decides whether a text needs any work. A
text wholly in Latin-1/cp1252 is first decoded at once as UTF-8, GBK or
Big5 bytes; otherwise GBK/Big5 spans are reversed one by one, and ftfy
mends the lines that stay suspicious.

ftfy is configured for Chinese: no ``fix_character_width`` (it maps
``，：；！？（）`` and U+3000 to ASCII), no ``uncurl_quotes`` (it turns ``“”``
into ``"``) and no Unicode normalization (NFC rewrites CJK compatibility
ideographs; NFKC also folds full-width punctuation).
"""

from __future__ import annotations

import codecs
import re

import ftfy

from vocclean import regex_cache
from vocclean.text.mojibake_fix import ASCII_OR_FFFD, CJK_CHAR, SAMPLE, Fix, fixes_by_line, plausible_cjk

FTFY_CONFIG = ftfy.TextFixerConfig(
    fix_character_width=False,
    uncurl_quotes=False,
    normalization=None,
    fix_line_breaks=False,
    remove_control_chars=False,
    explain=False,
)

# cp1252's printable characters for bytes 0x80-0x9F, mapped back to those bytes
# so that text read as cp1252 re-encodes like text read as latin-1.
_CP1252_HIGH = {
    bytes((b,)).decode("cp1252"): chr(b) for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
# Text read as latin-1 or cp1252, back to its bytes (a charmap encode runs in C, 5x faster than translate).
_LATIN_BYTES = {**{i: i for i in range(256)}, **{ord(char): ord(byte) for char, byte in _CP1252_HIGH.items()}}


def _latin_bytes(text: str, errors: str = "strict") -> bytes:
    """The bytes ``text`` was decoded from as latin-1 or cp1252 (UnicodeEncodeError when it was not)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return codecs.charmap_encode(text, errors, _LATIN_BYTES)[0]


_CP1252_CLASS = "".join(_CP1252_HIGH)

# Latin-1 to Cyrillic letters (where UTF-8 read as cp1252, cp1250, cp1251 or
# MacRoman lands), cp1252's and MacRoman's symbols, and HTML entities. Clean
# Chinese text has few of these: NBSP, ° ± · × and ‰ are left out (mojibake
# always carries a lead-byte character besides them).
LATIN_GATE = regex_cache.compile(
    "[\u0080-\u009f\u00a1-\u00af\u00b2-\u00b6\u00b8-\u00d6\u00d8-\u04ff\u2039\u203a\u20ac\u2122\u221a\u2248\u2206"
    "\u25ca\u2044\ufb00-\ufb06\u2021\u201a\u201e]"
)
_HTML_ENTITY = regex_cache.compile("&(?:#[0-9]{2,6}|#[xX][0-9a-fA-F]{2,6}|[a-zA-Z][a-zA-Z0-9]{1,9});")


def latin_suspect(text: str) -> bool:
    """The cheap gate: one character class, and the entity regex only when there is an ``&``."""
    return LATIN_GATE.search(text) is not None or ("&" in text and _HTML_ENTITY.search(text) is not None)


_LATIN_SPAN = regex_cache.compile(f"[\t -~\u0080-\u00ff{_CP1252_CLASS}]+")
_LATIN_HIGH = regex_cache.compile(f"[\u0080-\u00ff{_CP1252_CLASS}]")


_ASCII_RUN = regex_cache.compile("([\t -~]+)")
_MIN_PIECE = 8


def _repair_latin_span(span: str) -> tuple[str, str] | None:
    """GBK (or Big5) bytes that were read as latin-1/cp1252, reversed; None when it is real Latin text.

    When the span as a whole does not decode (a byte of it was lost: the text around
    ``±¾©`` in ``社了±¾©6ÔÂ12ÈÕµç`` lost the trail byte of ``本``), the pieces between its
    ASCII characters are tried one by one, so one lost byte does not keep the rest damaged.
    """
    whole = _repair_latin_piece(span)
    if whole is not None or not _ASCII_RUN.search(span) or _mostly_utf8(_latin_bytes(span, errors="replace")):
        return whole
    pieces = _ASCII_RUN.split(span)
    kinds = []
    for i in range(0, len(pieces), 2):  # even indices: the non-ASCII pieces
        # A piece is judged alone, without the span's context: only long ones (4+ hanzi) are evidence.
        result = _repair_latin_piece(pieces[i]) if len(pieces[i]) >= _MIN_PIECE else None
        if result is not None:
            pieces[i], kind = result
            kinds.append(kind)
    return ("".join(pieces), kinds[0]) if kinds else None


def _repair_latin_piece(span: str) -> tuple[str, str] | None:
    if len(_LATIN_HIGH.findall(span)) < 4:
        return None
    data = _latin_bytes(span, errors="replace")
    if _mostly_utf8(data):
        return None  # UTF-8 read as latin-1: ftfy's case
    for codec, kind in (("gb18030", "gbk-as-latin1"), ("big5hkscs", "big5-as-latin1")):
        try:
            fixed = data.decode(codec)
        except UnicodeDecodeError:
            continue
        cjk = CJK_CHAR.findall(fixed)
        letters = len(re.findall("[A-Za-z]", fixed))
        if len(cjk) >= 2 and len(cjk) >= letters / 4 and plausible_cjk(fixed) >= 0.8:
            return fixed, kind
    return None


def _replace_spans(text: str, pattern: re.Pattern[str], repair, fixes: list[Fix]) -> str:
    out = []
    last = 0
    for match in pattern.finditer(text):
        result = repair(match.group())
        if result is None:
            continue
        fixed, kind = result
        out.append(text[last : match.start()])
        start = sum(map(len, out))
        out.append(fixed)
        fixes.append(Fix(kind, start, len(fixed)))
        last = match.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


_LATIN_LETTER = regex_cache.compile("[A-Za-z]")


def _mostly_utf8(data: bytes) -> bool:
    """At most one character in five of ``data`` read as UTF-8 is invalid."""
    as_utf8 = data.decode("utf-8", errors="replace")
    return as_utf8.count("\ufffd") <= 0.2 * len(ASCII_OR_FFFD.sub("", as_utf8))


def _reads_as_chinese(fixed: str) -> bool:
    """A Latin-looking span decoded to mostly plausible CJK text (on a sample)."""
    sample = fixed[:SAMPLE]
    cjk = len(CJK_CHAR.findall(sample))
    return cjk >= 2 and cjk >= len(_LATIN_LETTER.findall(sample)) / 4 and plausible_cjk(sample) >= 0.8


_LATIN_READINGS = (("utf-8", "utf8-as-latin1"), ("gb18030", "gbk-as-latin1"), ("big5hkscs", "big5-as-latin1"))


def _repair_latin_text(text: str, fixes: list[Fix]) -> str | None:
    """A whole text of CJK bytes read as latin-1/cp1252, reversed at once; None to go span by span.

    UTF-8 read this way is ftfy's case too; doing it here in one decode spares
    ftfy's per-line work on a fully damaged document (ftfy still runs after
    on whatever stays suspicious).
    """
    try:
        data = _latin_bytes(text)
    except UnicodeEncodeError:
        return None  # hanzi or other text beyond Latin-1: mixed, span by span
    if len(data) - len(text.encode("ascii", "ignore")) < 4:
        return None
    for codec, kind in _LATIN_READINGS:
        try:
            fixed = data.decode(codec)
        except UnicodeDecodeError:
            if codec == "utf-8" and _mostly_utf8(data):
                return None  # UTF-8 with a few bytes ftfy knows how to mend (cp1252 holes, double encoding)
            continue
        if fixed == text or not _reads_as_chinese(fixed):
            if codec == "utf-8":
                return None  # valid UTF-8 in another script (Greek, combining marks): ftfy's case
            continue
        fixes += fixes_by_line(kind, text, fixed)
        return fixed
    return None


def fix_latin(text: str, fixes: list[Fix]) -> str:
    whole = _repair_latin_text(text, fixes)
    text = whole if whole is not None else _replace_spans(text, _LATIN_SPAN, _repair_latin_span, fixes)
    if not latin_suspect(text):
        return text
    lines = text.split("\n")
    offset = 0
    for i, line in enumerate(lines):
        if latin_suspect(line):
            fixed = ftfy.fix_text(line, FTFY_CONFIG)
            if fixed != line:
                lines[i] = fixed
                fixes.append(Fix("ftfy", offset, len(fixed)))
        offset += len(lines[i]) + 1
    return "\n".join(lines)
