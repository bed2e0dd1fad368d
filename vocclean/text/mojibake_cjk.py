"""UTF-8, Big5 or GBK bytes that an earlier program decoded as GBK/GB18030 (or Big5), reversed.

A cheap gate (:data:`CJK_GATE`: rare hanzi, private use, U+FFFD) decides
whether a text needs any work. A text whose non-ASCII characters are mostly
rare is first reversed as a whole (one re-encode and one decode); otherwise,
or when that fails (a text mixing damaged and clean paragraphs), the runs
dense in rare characters are reversed one by one and a repair is kept only
when the result reads far better (:func:`vocclean.text.hanzi.plausibility`).
Where a wrong GB18030 decode with ``errors="replace"`` lost the last byte of
a character, the character is guessed (:mod:`vocclean.text.hanzi_lm`).
"""

from __future__ import annotations

from dataclasses import dataclass

from vocclean import regex_cache
from vocclean.text.hanzi import COMMON_HANZI_CLASS, script_counts
from vocclean.text.hanzi_lm import TextBigrams, default_model
from vocclean.text.mojibake_fix import SAMPLE, Fix, fixes_by_line, plausible_cjk

# Characters outside common writing: rare hanzi, private use, U+FFFD, kana, Hangul...
CJK_GATE = regex_cache.compile(f"[^\x00-\u2fff\u3000-\u303f\uff00-\uffef{COMMON_HANZI_CLASS}]")

_NON_ASCII_RUN = regex_cache.compile("[^\x00-\x7f]+")

_LOOKAHEAD = 200


# What GB18030 makes of U+FFFD when re-encoding; the wrong decode's U+FFFD stood for bytes instead.
_FFFD_GB = "\ufffd".encode("gb18030")


def _original_bytes(mojibake: str) -> bytes | None:
    """The bytes GBK-decoded ``mojibake`` came from (a U+FFFD inside a run was a lone 0x80).

    None when no GBK decode made it: a lone surrogate encodes to nothing.
    """
    try:
        return mojibake.encode("gb18030").replace(_FFFD_GB, b"\x80")
    except UnicodeEncodeError:
        return None


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
    if data is None:
        return None
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


# The script a repair's codec writes: GBK is the mainland's (Simplified), Big5 Taiwan's and Hong Kong's.
_SCRIPT_OF_KIND = {"gbk-as-big5": "simplified", "big5-as-gbk": "traditional"}


def _script_fits(kind: str, fixed: str) -> bool:
    """Whether a run's GBK/Big5 swap repaired into the script its codec writes (``丌丶丶亭`` is no
    GBK read as Big5: its "repair" ``蒄瓶瓶獸`` has a Traditional-only hanzi and no Simplified one).

    Asked of runs only, where a few characters are little evidence; a whole text judged on
    its sample needs no such check (and Big5-HKSCS text may well be Simplified).
    """
    script = _SCRIPT_OF_KIND.get(kind)
    if script is None:
        return True
    simplified, traditional = script_counts(fixed)
    return simplified >= traditional if script == "simplified" else traditional >= simplified


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
        plausible_after = plausible_cjk(repair.text)
        if plausible_after < 0.7:
            continue
        if plausible_before is None:
            plausible_before = plausible_cjk(run)
        margin = 0.2 if kind.startswith("utf8") and len(run) >= 4 else 0.4
        better = plausible_after >= plausible_before + margin and (best is None or plausible_after > best[0])
        if better and _script_fits(kind, repair.text):
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
    if fixed.strip("\ufffd") and not latin_char and plausible_cjk(fixed) < 0.7:
        return None
    return _RunRepair(fixed, "utf8-as-gbk", reading.lost_prefix)


def _dense_in_rare(run: str) -> bool:
    """A run worth trying: U+FFFD, or rare characters making 15% of it (a clean sentence has one or two)."""
    if "\ufffd" in run:
        return True
    rare = len(CJK_GATE.findall(run))
    return (rare >= 2 and rare >= 0.15 * len(run)) or (rare and len(run) <= 3)


# A U+FFFD that stood for the lost last byte of a character (see _lost_last_byte).
_HOLE = regex_cache.compile("\ufffd(?=[\x00-\x3f\x7f]|\\Z)")
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
    data = _original_bytes(text[last:])
    if data is None:
        return None
    try:
        out.append(data.decode("utf-8"))
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
        plausible_after = plausible_cjk(fixed[:SAMPLE])
        if plausible_after < 0.7:
            continue
        if plausible_before is None:
            plausible_before = plausible_cjk(text[:SAMPLE])
        if plausible_after < plausible_before + (0.2 if kind == "utf8-as-gbk" else 0.4):
            continue
        fixes += fixes_by_line(kind, text, fixed)
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


def repair_cjk(text: str, fixes: list[Fix], guess_lost: bool) -> str:
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
    simplified, traditional = script_counts(repaired[: SAMPLE * 2])
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
