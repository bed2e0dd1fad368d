"""Repair text that an earlier program decoded with the wrong codec.

The CJK mix-ups (UTF-8 or Big5 read as GBK, GBK read as Big5:
:mod:`vocclean.text.mojibake_cjk`) are repaired first, because UTF-8 read as
GBK is full of the Greek and Cyrillic letters that trip the Latin gate; then
the Latin ones (UTF-8 or GBK read as latin-1/cp1252, HTML entities:
:mod:`vocclean.text.mojibake_latin`, with ftfy). Each side has a cheap gate
that clean text does not match, and repairs span by span, so a document with
one damaged paragraph keeps the others untouched.
"""

from __future__ import annotations

from vocclean.text.mojibake_cjk import CJK_GATE, Utf8Reading, repair_cjk, utf8_read_as_gbk
from vocclean.text.mojibake_fix import Fix
from vocclean.text.mojibake_latin import FTFY_CONFIG, LATIN_GATE, fix_latin, latin_suspect

__all__ = [
    "CJK_GATE",
    "FTFY_CONFIG",
    "LATIN_GATE",
    "Fix",
    "Utf8Reading",
    "repair_mojibake",
    "utf8_read_as_gbk",
]


def repair_mojibake(text: str, *, guess_lost: bool = True) -> tuple[str, list[Fix]]:
    """Repair every mojibake span of ``text``; return the text and the spans repaired.

    ``guess_lost``: where the wrong decode lost the last byte of a character
    (UTF-8 read as GBK with replacement), guess it from its first bytes and
    the context (:mod:`vocclean.text.hanzi_lm`, a ``guessed-char`` fix);
    otherwise leave U+FFFD. Clean text (no gate matches) comes back as the
    same object, untouched.
    """
    fixes: list[Fix] = []
    if CJK_GATE.search(text):
        text = repair_cjk(text, fixes, guess_lost)
    if latin_suspect(text):
        text = fix_latin(text, fixes)
    return text, fixes
