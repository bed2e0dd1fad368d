"""Damage no decoder can undo: the bytes are gone, only their ghosts remain.

``锟斤拷`` is U+FFFD U+FFFD (EF BF BD EF BF BD) read as GBK: a second wrong
decode of text already replaced once. ``烫烫烫`` and ``屯屯屯`` are MSVC's
fill bytes for uninitialised stack (0xCC) and heap (0xCD) memory read as GBK.
U+FFFD is a replaced byte, and ``?`` between hanzi is what an encoder writes
for a character it cannot encode.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocclean import regex_cache

_HANZI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Each kind of ghost on its own (their characters are disjoint), looked for only when its marker is there.
_KUNJINKAO = regex_cache.compile("(?:锟斤拷)+锟?")
_HOT = regex_cache.compile("烫{3,}")
_TUN = regex_cache.compile("屯{3,}")
_QUESTIONS = regex_cache.compile(f"(?<=[{_HANZI}])\\?{{2,}}|\\?{{2,}}(?=[{_HANZI}])")
_LONE_QUESTION = regex_cache.compile(f"(?<=[{_HANZI}])\\?(?=[{_HANZI}])")
# Text that uses ASCII punctuation between hanzi (an upstream NFKC pass does
# that) may mean a real question mark by a single ``?`` there.
_ASCII_PUNCT_IN_HANZI = regex_cache.compile(f"[{_HANZI}][,;:!][{_HANZI}]")
_NOT_SPACE = regex_cache.compile(r"\S")


@dataclass(frozen=True, slots=True)
class Damage:
    chars: int
    ratio: float


def has_question_ghosts(text: str) -> bool:
    """Whether ``?`` in ``text`` stand for lost characters, as ``find_unrecoverable`` counts them.

    Then no ``?`` of the text is taken for a question mark (normalize-script
    leaves them ASCII): made ``？``, the damage would look like punctuation.
    """
    if "?" not in text:
        return False
    if "??" in text and _QUESTIONS.search(text):
        return True
    return _LONE_QUESTION.search(text) is not None and not _ASCII_PUNCT_IN_HANZI.search(text)


def find_unrecoverable(text: str) -> Damage:
    """How many characters of ``text`` are ghosts of lost bytes, and their share of non-space ones."""
    if (
        "\ufffd" not in text
        and "?" not in text
        and "锟" not in text
        and "烫烫" not in text
        and "屯屯" not in text
    ):
        return Damage(0, 0.0)
    chars = text.count("\ufffd")
    for marker, ghosts in (("锟", _KUNJINKAO), ("烫烫烫", _HOT), ("屯屯屯", _TUN), ("??", _QUESTIONS)):
        if marker in text:
            chars += sum(map(len, ghosts.findall(text)))
    if not _ASCII_PUNCT_IN_HANZI.search(text):
        chars += len(_LONE_QUESTION.findall(text))
    if not chars:
        return Damage(0, 0.0)
    visible = len(_NOT_SPACE.findall(text))
    return Damage(chars, chars / max(visible, 1))
