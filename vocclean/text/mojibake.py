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

import re
from dataclasses import dataclass

import ftfy

from vocclean.text.hanzi import COMMON_HANZI_CLASS, plausibility

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
_TO_LATIN1 = str.maketrans(_CP1252_HIGH)
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

# When the wrong decode replaced the last byte of a character with U+FFFD, the
# first bytes of that character remain. In the punctuation blocks the lost byte
# is guessed when the context says which mark it was; a hanzi is not guessed.
_BRACKETS = {
    b"\xe3\x80": (
        (0x8A, 0x8B),
        (0x90, 0x91),
        (0x8C, 0x8D),
        (0x8E, 0x8F),
        (0x88, 0x89),
    ),  # 《》【】「」『』〈〉
    b"\xef\xbc": ((0x88, 0x89),),  # （）
    b"\xe2\x80": ((0x9C, 0x9D), (0x98, 0x99)),  # “” ‘’
}
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


def _original_bytes(mojibake: str) -> bytes:
    """The bytes GBK-decoded ``mojibake`` came from (a U+FFFD inside a run was a lone 0x80)."""
    return b"\x80".join(part.encode("gb18030") for part in mojibake.split("\ufffd"))


def _guess_last_char(prefix: bytes, before: bytes, after: bytes) -> str | None:
    """The punctuation mark whose UTF-8 bytes start with ``prefix`` (its last byte lost), or None.

    Only guesses with evidence: a closing bracket whose opening is open in
    ``before``, an opening one whose closing follows in ``after``, a dash
    between two numbers, a full stop at the end of a line.
    """
    for opening, closing in _BRACKETS.get(prefix, ()):
        open_mark, close_mark = prefix + bytes((opening,)), prefix + bytes((closing,))
        if before.count(open_mark) > before.count(close_mark):
            return close_mark.decode("utf-8")
        close_at, open_at = after.find(close_mark), after.find(open_mark)
        if close_at >= 0 and (open_at < 0 or close_at < open_at):
            return open_mark.decode("utf-8")
    if prefix in (b"\xe2\x80", b"\xef\xbc") and before[-1:].isdigit() and after[:1].isdigit():
        return "—" if prefix == b"\xe2\x80" else "－"  # 0—24时, 2025－2029
    if prefix == b"\xe3\x80" and after[:1] in (b"", b"\n", b"\r"):
        return "。"
    return None


def utf8_read_as_gbk(run: str, before: str = "", after: str = "") -> str | None:
    """Reverse UTF-8 bytes decoded as GBK/GB18030 in one run of non-ASCII text, or None.

    A U+FFFD inside the run stands for a lone 0x80 byte (the one byte GB18030
    cannot start with); one at the end of the run for the last byte of a
    character followed by ASCII, which is guessed for punctuation
    (:func:`_guess_last_char`, helped by the text ``before`` and ``after`` the
    run) and otherwise left as U+FFFD.
    """
    tail_lost = run.endswith("\ufffd")
    data = _original_bytes(run[:-1] if tail_lost else run)
    if not tail_lost:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    lead = max(data.rfind(bytes((b,))) for b in range(0xC2, 0xF5)) if data else -1
    if lead < 0 or len(data) - lead >= 4:
        return None
    try:
        head = data[:lead].decode("utf-8")
    except UnicodeDecodeError:
        return None
    prefix = data[lead:]
    if len(prefix) == 1 or (0xE0 <= prefix[0] < 0xF0 and len(prefix) == 2):
        last = None
        if len(prefix) == 2:
            last = _guess_last_char(prefix, _original_bytes(before) + data[:lead], _original_bytes(after))
        return head + (last or "\ufffd")
    return None


def _recode(run: str, wrong: str, right: str) -> str | None:
    try:
        return run.encode(wrong).decode(right)
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _repair_cjk_run(run: str, before: str, after: str) -> tuple[str, str] | None:
    """The best repair of one non-ASCII run read with the wrong CJK codec, with its kind.

    Candidates are tried lazily: the run's own score is computed only once a
    candidate decodes, and a UTF-8 reading of 8+ bytes that scores 0.9 is
    taken at once (valid UTF-8 hidden in GBK is strong evidence by itself).
    """
    plausible_before = None
    best = None
    candidates = (
        (
            "utf8-as-gbk",
            lambda: utf8_read_as_gbk(run, before, after) if len(run.rstrip("\ufffd")) >= 2 else None,
        ),
        # Two or three hanzi swapped between Big5 and GBK read as often as not like other words.
        ("big5-as-gbk", lambda: _recode(run, "gb18030", "big5hkscs") if len(run) >= 4 else None),
        ("gbk-as-big5", lambda: _recode(run, "big5hkscs", "gb18030") if len(run) >= 4 else None),
        ("utf8-as-big5", lambda: _recode(run, "big5hkscs", "utf-8") if len(run) >= 3 else None),
    )
    for kind, attempt in candidates:
        fixed = attempt()
        if not fixed or fixed == run:
            continue
        plausible_after = _plausible_cjk(fixed)
        if plausible_after < 0.7:
            continue
        if plausible_before is None:
            plausible_before = _plausible_cjk(run)
        margin = 0.2 if kind.startswith("utf8") and len(run) >= 4 else 0.4
        if plausible_after >= plausible_before + margin and (best is None or plausible_after > best[0]):
            best = (plausible_after, fixed, kind)
            if kind == "utf8-as-gbk" and len(run) >= 4 and plausible_after >= 0.9:
                break
    return (best[1], best[2]) if best else None


def _repair_short_utf8_run(run: str, before: str, after: str) -> tuple[str, str] | None:
    """In a document already shown to be UTF-8 read as GBK: a short run such as ``鏈�`` (月 + a digit)."""
    fixed = utf8_read_as_gbk(run, before, after)
    if fixed is None or fixed == run:
        return None
    latin_char = len(fixed) == 1 and "\u00a0" <= fixed <= "\u024f"  # é, º, NBSP read as one hanzi
    if fixed.strip("\ufffd") and not latin_char and _plausible_cjk(fixed) < 0.7:
        return None
    return fixed, "utf8-as-gbk"


def _dense_in_rare(run: str) -> bool:
    """A run worth trying: U+FFFD, or rare characters making 15% of it (a clean sentence has one or two)."""
    if "\ufffd" in run:
        return True
    rare = len(CJK_GATE.findall(run))
    return (rare >= 2 and rare >= 0.15 * len(run)) or (rare and len(run) <= 3)


def _repair_cjk(text: str, fixes: list[Fix]) -> str:
    runs = [m for m in _NON_ASCII_RUN.finditer(text) if _dense_in_rare(m.group())]
    repairs = {}

    def around(m: re.Match[str]) -> tuple[str, str]:
        return text[max(0, m.start() - _LOOKAHEAD) : m.start()], text[m.end() : m.end() + _LOOKAHEAD]

    for m in runs:
        result = _repair_cjk_run(m.group(), *around(m))
        if result:
            repairs[m.start()] = (m, result)
    # Once a document is shown to be UTF-8 read as GBK, its short runs are too.
    if any(kind == "utf8-as-gbk" for _, (_, kind) in repairs.values()):
        for m in runs:
            if m.start() not in repairs:
                result = _repair_short_utf8_run(m.group(), *around(m))
                if result:
                    repairs[m.start()] = (m, result)
    if not repairs:
        return text
    out = []
    last = 0
    for start in sorted(repairs):
        m, (fixed, kind) = repairs[start]
        out.append(text[last:start])
        fixes.append(Fix(kind, sum(map(len, out)), len(fixed)))
        out.append(fixed)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _repair_latin_span(span: str) -> tuple[str, str] | None:
    """GBK (or Big5) bytes that were read as latin-1/cp1252, reversed; None when it is real Latin text."""
    if len(_LATIN_HIGH.findall(span)) < 4:
        return None
    data = span.translate(_TO_LATIN1).encode("latin-1", errors="replace")
    as_utf8 = data.decode("utf-8", errors="replace")
    if as_utf8.count("\ufffd") <= 0.2 * len(_ASCII_OR_FFFD.sub("", as_utf8)):
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


def _fix_latin(text: str, fixes: list[Fix]) -> str:
    text = _replace_spans(text, _LATIN_SPAN, _repair_latin_span, fixes)
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


def repair_mojibake(text: str) -> tuple[str, list[Fix]]:
    """Repair every mojibake span of ``text``; return the text and the spans repaired.

    Clean text (no gate matches) comes back as the same object, untouched.
    """
    fixes: list[Fix] = []
    if _latin_suspect(text):
        text = _fix_latin(text, fixes)
    if CJK_GATE.search(text):
        text = _repair_cjk(text, fixes)
    return text, fixes
