"""Repair text that an earlier program decoded with the wrong codec.

Two cheap gates decide whether a document needs any work: one regex for the
Latin mix-ups (UTF-8 or GBK bytes read as latin-1/cp1252/MacRoman, HTML
entities) and one for the CJK mix-ups (rare hanzi, private-use characters,
U+FFFD: what UTF-8 read as GBK, or Big5 read as GBK, looks like). Clean text
matches neither and is returned as it was. Suspicious spans are then reversed
one by one (re-encode with the wrong codec, decode with the right one) and a
repair is kept only when the result reads far better
(:func:`vocclean.text.hanzi.plausibility`), so a document with one damaged
paragraph keeps the others untouched.

ftfy does the Latin repairs, configured for Chinese: no ``fix_character_width``
(it maps ``，：；！？（）`` and U+3000 to ASCII), no ``uncurl_quotes`` (it turns
``“”`` into ``"``) and no Unicode normalization (NFC rewrites CJK compatibility
ideographs; NFKC also folds full-width punctuation).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import ftfy

from vocclean.text.hanzi import COMMON_HANZI_CLASS, plausibility, script_counts
from vocclean.text.hanzi_lm import TextBigrams, default_model

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
LATIN_GATE = re.compile(
    "[\u0080-\u009f\u00a1-\u00af\u00b2-\u00b6\u00b8-\u00d6\u00d8-\u04ff\u2039\u203a\u20ac\u2122\u221a\u2248\u2206"
    "\u25ca\u2044\ufb00-\ufb06\u2021\u201a\u201e]"
)
_HTML_ENTITY = re.compile("&(?:#[0-9]{2,6}|#[xX][0-9a-fA-F]{2,6}|[a-zA-Z][a-zA-Z0-9]{1,9});")


def _latin_suspect(text: str) -> bool:
    """The cheap gate: one character class, and the entity regex only when there is an ``&``."""
    return LATIN_GATE.search(text) is not None or ("&" in text and _HTML_ENTITY.search(text) is not None)


# Characters outside common writing: rare hanzi, private use, U+FFFD, kana, Hangul...
CJK_GATE = re.compile(f"[^\x00-\u2fff\u3000-\u303f\uff00-\uffef{COMMON_HANZI_CLASS}]")

_LATIN_SPAN = re.compile(f"[\t -~\u0080-\u00ff{_CP1252_CLASS}]+")
_LATIN_HIGH = re.compile(f"[\u0080-\u00ff{_CP1252_CLASS}]")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")
_ASCII_OR_FFFD = re.compile("[\x00-\x7f\ufffd]+")
_CJK_CHAR = re.compile("[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")

_LOOKAHEAD = 200


@dataclass(frozen=True, slots=True)
class Fix:
    """One repaired span: where it starts in the repaired text, its kind and length."""

    kind: str
    start: int
    length: int


def _plausible_cjk(text: str) -> float:
    """Plausibility of the non-ASCII part, known damage (U+FFFD) left out."""
    return plausibility(_ASCII_OR_FFFD.sub("", text), "zh")


# What GB18030 makes of U+FFFD when re-encoding; the wrong decode's U+FFFD stood for bytes instead.
_FFFD_GB = "\ufffd".encode("gb18030")


def _original_bytes(mojibake: str) -> bytes:
    """The bytes GBK-decoded ``mojibake`` came from (a U+FFFD inside a run was a lone 0x80)."""
    return mojibake.encode("gb18030").replace(_FFFD_GB, b"\x80")


def _lost_last_byte(after: str) -> bool:
    """Whether a U+FFFD ending a run, followed by ``after``, stood for a lost last byte of a character.

    Python's GB18030 decoder replaces one byte it cannot pair and resumes at
    the next: a byte followed by an ASCII byte below 0x40 (digit, space,
    punctuation, line break), by DEL, or by the end of the text. Before an
    ASCII byte 0x40-0x7E (letters, ``@[]{}``) the pair would have been valid,
    so there the U+FFFD was 0x80, the one byte that never leads.
    """
    return not after or after[0] < "\x40" or after[0] == "\x7f"


@dataclass(frozen=True, slots=True)
class Utf8Reading:
    """A run of UTF-8 read as GBK, reversed.

    ``lost_prefix``: when the last byte was lost, the first bytes of the last character.
    """

    text: str
    lost_prefix: bytes = b""


def utf8_read_as_gbk(run: str, after: str = "") -> Utf8Reading | None:
    """Reverse UTF-8 bytes decoded as GBK/GB18030 in one run of non-ASCII text, or None.

    A U+FFFD inside the run stands for a lone 0x80 byte; one at the end of the
    run, when :func:`_lost_last_byte` says so for the text ``after`` it, for
    the lost last byte of a character, whose first bytes are returned as
    ``lost_prefix`` (the caller guesses the character or leaves U+FFFD).
    """
    lost = run.endswith("\ufffd") and _lost_last_byte(after)
    data = _original_bytes(run[:-1] if lost else run)
    if not lost:
        try:
            return Utf8Reading(data.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    lead = len(data) - 1
    while lead >= 0 and 0x80 <= data[lead] <= 0xBF and len(data) - lead < 4:
        lead -= 1
    if lead < 0 or not 0xC2 <= data[lead] <= 0xF4:
        return None
    prefix = data[lead:]
    if len(prefix) != (2 if data[lead] < 0xE0 else 3 if data[lead] < 0xF0 else 4) - 1:
        return None
    try:
        return Utf8Reading(data[:lead].decode("utf-8"), prefix)
    except UnicodeDecodeError:
        return None


def _recode(run: str, wrong: str, right: str) -> str | None:
    try:
        return run.encode(wrong).decode(right)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


@dataclass(frozen=True, slots=True)
class _RunRepair:
    text: str
    kind: str
    lost_prefix: bytes = b""


def _repair_cjk_run(run: str, after: str) -> _RunRepair | None:
    """The best repair of one non-ASCII run read with the wrong CJK codec.

    Candidates are tried lazily: the run's own score is computed only once a
    candidate decodes, and a UTF-8 reading of 4+ characters that scores 0.9 is
    taken at once (valid UTF-8 hidden in GBK is strong evidence by itself).
    """
    plausible_before = None
    best = None
    candidates = (
        ("utf8-as-gbk", lambda: utf8_read_as_gbk(run, after) if len(run.rstrip("\ufffd")) >= 2 else None),
        # Two or three hanzi swapped between Big5 and GBK read as often as not like other words.
        ("big5-as-gbk", lambda: _recode(run, "gb18030", "big5hkscs") if len(run) >= 4 else None),
        ("gbk-as-big5", lambda: _recode(run, "big5hkscs", "gb18030") if len(run) >= 4 else None),
        ("utf8-as-big5", lambda: _recode(run, "big5hkscs", "utf-8") if len(run) >= 3 else None),
    )
    for kind, attempt in candidates:
        result = attempt()
        if not result:
            continue
        repair = result if isinstance(result, _RunRepair) else _RunRepair(result, kind)
        if isinstance(result, Utf8Reading):
            repair = _RunRepair(result.text, kind, result.lost_prefix)
        if not repair.text or (repair.text == run and not repair.lost_prefix):
            continue
        plausible_after = _plausible_cjk(repair.text)
        if plausible_after < 0.7:
            continue
        if plausible_before is None:
            plausible_before = _plausible_cjk(run)
        margin = 0.2 if kind.startswith("utf8") and len(run) >= 4 else 0.4
        if plausible_after >= plausible_before + margin and (best is None or plausible_after > best[0]):
            best = (plausible_after, repair)
            if kind == "utf8-as-gbk" and len(run) >= 4 and plausible_after >= 0.9:
                break
    return best[1] if best else None


def _repair_short_utf8_run(run: str, after: str) -> _RunRepair | None:
    """In a document already shown to be UTF-8 read as GBK: a short run such as ``鏈�`` (月 + a digit)."""
    reading = utf8_read_as_gbk(run, after)
    if reading is None or (reading.text == run and not reading.lost_prefix):
        return None
    fixed = reading.text
    latin_char = len(fixed) == 1 and "\u00a0" <= fixed <= "\u024f"  # é, º, NBSP read as one hanzi
    if fixed.strip("\ufffd") and not latin_char and _plausible_cjk(fixed) < 0.7:
        return None
    return _RunRepair(fixed, "utf8-as-gbk", reading.lost_prefix)


def _dense_in_rare(run: str) -> bool:
    """A run worth trying: U+FFFD, or rare characters making 15% of it (a clean sentence has one or two)."""
    if "\ufffd" in run:
        return True
    rare = len(CJK_GATE.findall(run))
    return (rare >= 2 and rare >= 0.15 * len(run)) or (rare and len(run) <= 3)


# A U+FFFD that stood for the lost last byte of a character (see _lost_last_byte).
_HOLE = re.compile("\ufffd(?=[\x00-\x3f\x7f]|\\Z)")
# Plausibility is read on this many characters of a whole text: enough to decide, cheap on long texts.
_SAMPLE = 200
# Texts with fewer non-ASCII characters are left to the run-by-run path (short GBK can be valid UTF-8).
_WHOLE_TEXT_MIN = 12


def _utf8_read_as_gbk_text(text: str) -> tuple[str, list[tuple[int, bytes]]] | None:
    """A whole text reversed as UTF-8 read as GBK, with U+FFFD at each lost byte, or None.

    Returns the text and its holes: (position, first bytes of the character).
    """
    out = []
    holes = []
    length = 0
    last = 0
    for m in _HOLE.finditer(text):
        reading = utf8_read_as_gbk(text[last : m.end()])
        if reading is None or not reading.lost_prefix:
            return None
        out.append(reading.text)
        length += len(reading.text)
        holes.append((length, reading.lost_prefix))
        out.append("\ufffd")
        length += 1
        last = m.end()
    try:
        out.append(_original_bytes(text[last:]).decode("utf-8"))
    except UnicodeDecodeError:
        return None
    return "".join(out), holes


def _repair_cjk_text(text: str, fixes: list[Fix], guess_lost: bool) -> str | None:
    """The whole text read with the wrong CJK codec, reversed at once; None to try run by run.

    The same readings and thresholds as :func:`_repair_cjk_run`, judged on a
    sample; a text that mixes damaged and clean paragraphs fails to decode
    strictly as a whole and is repaired run by run instead.
    """
    if len(text) - len(text.encode("ascii", "ignore")) < _WHOLE_TEXT_MIN:
        return None
    plausible_before = None
    for kind, attempt in (
        ("utf8-as-gbk", lambda: _utf8_read_as_gbk_text(text)),
        ("big5-as-gbk", lambda: _recode(text, "gb18030", "big5hkscs")),
        ("gbk-as-big5", lambda: _recode(text, "big5hkscs", "gb18030")),
    ):
        result = attempt()
        if result is None:
            continue
        fixed, holes = result if isinstance(result, tuple) else (result, [])
        if fixed == text:
            continue
        plausible_after = _plausible_cjk(fixed[:_SAMPLE])
        if plausible_after < 0.7:
            continue
        if plausible_before is None:
            plausible_before = _plausible_cjk(text[:_SAMPLE])
        if plausible_after < plausible_before + (0.2 if kind == "utf8-as-gbk" else 0.4):
            continue
        offset = 0
        for before, after in zip(text.split("\n"), fixed.split("\n"), strict=True):
            if before != after:
                fixes.append(Fix(kind, offset, len(after)))
            offset += len(after) + 1
        if holes and guess_lost:
            return _guess_lost_chars(fixed, holes, fixes)
        return fixed
    return None


# A text whose non-ASCII characters are this often rare is tried as a whole first: wrongly
# decoded articles measure 0.58-0.9, clean ones at most 0.03 (xwlb).
_WHOLE_TEXT_RARE_SHARE = 0.2
# Fewer rare characters than this never make a text worth trying as a whole (clean articles have 0-5).
_MANY_RARE = 12


def _dense_runs(text: str, rare: list[int]) -> list[tuple[int, int]]:
    """(start, end) of the non-ASCII runs of ``text`` that pass :func:`_dense_in_rare`.

    Only the runs around the ``rare`` characters (their positions) can, so a
    clean article with a rare hanzi or two (one in six has some) is cleared
    in microseconds instead of scoring every run.
    """
    runs = []
    end = -1
    for p in rare:
        if p < end:
            continue  # in the run just seen
        start = p
        while start > 0 and text[start - 1] >= "\x80":
            start -= 1
        end = _NON_ASCII_RUN.match(text, p).end()
        if _dense_in_rare(text[start:end]):
            runs.append((start, end))
    return runs


def _repair_cjk(text: str, fixes: list[Fix], guess_lost: bool) -> str:
    rare = []
    for m in CJK_GATE.finditer(text):
        rare.append(m.start())
        if len(rare) > _MANY_RARE:
            break  # likely damaged throughout: counted below at C speed
    if len(rare) > _MANY_RARE:
        non_ascii = len(text) - len(text.encode("ascii", "ignore"))
        if len(CJK_GATE.findall(text)) >= _WHOLE_TEXT_RARE_SHARE * non_ascii:
            whole = _repair_cjk_text(text, fixes, guess_lost)
            if whole is not None:
                return whole
        rare = [m.start() for m in CJK_GATE.finditer(text)]
    runs = _dense_runs(text, rare)
    if not runs:
        return text
    repairs: dict[int, tuple[int, _RunRepair]] = {}
    for start, end in runs:
        result = _repair_cjk_run(text[start:end], text[end : end + 1])
        if result:
            repairs[start] = (end, result)
    # Once a document is shown to be UTF-8 read as GBK, its short runs are too.
    if any(r.kind == "utf8-as-gbk" for _, r in repairs.values()):
        for start, end in runs:
            if start not in repairs:
                result = _repair_short_utf8_run(text[start:end], text[end : end + 1])
                if result:
                    repairs[start] = (end, result)
    if not repairs:
        return text
    out = []
    holes = []  # (index in out, start in the repaired text, lost prefix)
    last = 0
    length = 0
    for start in sorted(repairs):
        end, repair = repairs[start]
        out.append(text[last:start])
        length += len(out[-1])
        fixes.append(Fix(repair.kind, length, len(repair.text) + bool(repair.lost_prefix)))
        out.append(repair.text)
        length += len(repair.text)
        if repair.lost_prefix:
            holes.append((len(out), length, repair.lost_prefix))
            out.append("\ufffd")
            length += 1
        last = end
    out.append(text[last:])
    repaired = "".join(out)
    if holes and guess_lost:
        return _guess_lost_chars(repaired, [(start, prefix) for _, start, prefix in holes], fixes)
    return repaired


def _guess_lost_chars(repaired: str, holes: list[tuple[int, bytes]], fixes: list[Fix]) -> str:
    """``repaired`` with each U+FFFD hole (position, first bytes) replaced by the likeliest character."""
    model = default_model()
    simplified, traditional = script_counts(repaired[: _SAMPLE * 2])
    traditional = traditional > simplified
    seen = TextBigrams(repaired)
    chars = list(repaired)
    for start, prefix in holes:
        before = repaired[max(0, start - _LOOKAHEAD) : start]
        after = repaired[start + 1 : start + 1 + _LOOKAHEAD]
        char = model.guess(prefix, before, after, traditional=traditional, seen=seen)
        if char is not None:
            chars[start] = char
            fixes.append(Fix("guessed-char", start, 1))
    return "".join(chars)


def _repair_latin_span(span: str) -> tuple[str, str] | None:
    """GBK (or Big5) bytes that were read as latin-1/cp1252, reversed; None when it is real Latin text."""
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
        cjk = _CJK_CHAR.findall(fixed)
        letters = len(re.findall("[A-Za-z]", fixed))
        if len(cjk) >= 2 and len(cjk) >= letters / 4 and _plausible_cjk(fixed) >= 0.8:
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


_LATIN_LETTER = re.compile("[A-Za-z]")


def _mostly_utf8(data: bytes) -> bool:
    """At most one character in five of ``data`` read as UTF-8 is invalid."""
    as_utf8 = data.decode("utf-8", errors="replace")
    return as_utf8.count("\ufffd") <= 0.2 * len(_ASCII_OR_FFFD.sub("", as_utf8))


def _reads_as_chinese(fixed: str) -> bool:
    """A Latin-looking span decoded to mostly plausible CJK text (on a sample)."""
    sample = fixed[:_SAMPLE]
    cjk = len(_CJK_CHAR.findall(sample))
    return cjk >= 2 and cjk >= len(_LATIN_LETTER.findall(sample)) / 4 and _plausible_cjk(sample) >= 0.8


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
        offset = 0
        for before, after in zip(text.split("\n"), fixed.split("\n"), strict=True):
            if before != after:
                fixes.append(Fix(kind, offset, len(after)))
            offset += len(after) + 1
        return fixed
    return None


def _fix_latin(text: str, fixes: list[Fix]) -> str:
    whole = _repair_latin_text(text, fixes)
    text = whole if whole is not None else _replace_spans(text, _LATIN_SPAN, _repair_latin_span, fixes)
    if not _latin_suspect(text):
        return text
    lines = text.split("\n")
    offset = 0
    for i, line in enumerate(lines):
        if _latin_suspect(line):
            fixed = ftfy.fix_text(line, FTFY_CONFIG)
            if fixed != line:
                lines[i] = fixed
                fixes.append(Fix("ftfy", offset, len(fixed)))
        offset += len(lines[i]) + 1
    return "\n".join(lines)


def repair_mojibake(text: str, *, guess_lost: bool = True) -> tuple[str, list[Fix]]:
    """Repair every mojibake span of ``text``; return the text and the spans repaired.

    ``guess_lost``: where the wrong decode lost the last byte of a character
    (UTF-8 read as GBK with replacement), guess it from its first bytes and
    the context (:mod:`vocclean.text.hanzi_lm`, a ``guessed-char`` fix);
    otherwise leave U+FFFD. Clean text (no gate matches) comes back as the
    same object, untouched.
    """
    fixes: list[Fix] = []
    # CJK first: UTF-8 read as GBK is full of Greek, Cyrillic and Latin letters
    # (GBK's rows for them) that would otherwise trip the Latin gate.
    if CJK_GATE.search(text):
        text = _repair_cjk(text, fixes, guess_lost)
    if _latin_suspect(text):
        text = _fix_latin(text, fixes)
    return text, fixes
