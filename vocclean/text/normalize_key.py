"""Normalised keys for deduplication: two texts that differ only in width,
punctuation, whitespace or case get the same key.

Keys are for comparing, never for output: the kept text is never rewritten.

``text_key`` keeps letters, digits and hanzi only (every Unicode letter or
number, lower-cased), folds full-width ``ＡＢＣ２０２２`` to ASCII, and drops
punctuation (CJK and ASCII alike, so ``，`` vs ``,`` vs ``、`` cannot matter)
and all whitespace. Dropping punctuation is the strongest punctuation fold and
also the cheapest: the work is one call of rapidfuzz's C++ ``default_process``
(about 250 MB/s on Chinese news, one core), against about 24 MB/s for
``unicodedata.normalize("NFKC")`` and 47 MB/s for a ``str.translate`` table.

``fold_text`` is the readable variant (punctuation mapped to ASCII, not
dropped; whitespace collapsed) for callers that need word boundaries or
sentence marks, e.g. shingling English; it is about ten times slower.

Traditional -> Simplified folding is optional because it needs an opencc
converter, which is expensive to build and must not live at module level:
pass ``to_simplified=converter.convert`` (build it with
``make_to_simplified()`` once, in a step's ``__init__``).

Examples::

    >>> text_key("会议强调，要牢记使命担当。")
    '会议强调要牢记使命担当'
    >>> text_key("会议强调, 要牢记使命担当.") == text_key("会议强调，要牢记使命担当。")
    True
    >>> text_key("ＡＢＣ　２０２２年") == text_key("abc 2022年")
    True
    >>> fold_text("会议强调，要 牢记（使命）。")
    '会议强调,要 牢记(使命).'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from rapidfuzz.utils import default_process

__all__ = [
    "fold_text",
    "key_hash",
    "line_keys",
    "make_to_simplified",
    "paragraph_key",
    "text_key",
]

# Full-width ASCII variants U+FF01..U+FF5E sit 0xFEE0 above their ASCII twins.
_FULL_WIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_FULL_WIDTH_ALNUM_RUN = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")  # 2.5x slower to search
_FULL_WIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}

# CJK punctuation to its ASCII counterpart, for fold_text only.
_CJK_PUNCT_TO_ASCII = {
    **_FULL_WIDTH_TO_ASCII,
    **str.maketrans(
        {
            "\u3000": " ",
            "。": ".",
            "、": ",",
            "．": ".",
            "“": '"',
            "”": '"',
            "‘": "'",
            "’": "'",
            "「": '"',
            "」": '"',
            "『": '"',
            "』": '"',
            "《": "<",
            "》": ">",
            "〈": "<",
            "〉": ">",
            "【": "[",
            "】": "]",
            "〔": "[",
            "〕": "]",
            "〖": "[",
            "〗": "]",
            "…": "...",
            "—": "-",
            "–": "-",
            "―": "-",
            "～": "~",
            "·": ".",
            "・": ".",
        }
    ),
}
_WHITESPACE_RUN = re.compile(r"\s+")
# A letter (so default_process keeps it) without case, standing in for line breaks in line_keys.
_LINE_MARK = "\u16a0"


def text_key(text: str, to_simplified: Callable[[str], str] | None = None) -> str:
    """The dedup key of ``text``: letters, digits and hanzi only, lower-cased,
    width-folded; punctuation and whitespace dropped.

    ``to_simplified`` (e.g. ``make_to_simplified()``) also folds Traditional
    characters to Simplified. An empty key means the text had no letters,
    digits or hanzi at all.
    """
    key = default_process(text).replace(" ", "")
    if _FULL_WIDTH_ALNUM.search(key):
        key = _fold_width(key)
    if to_simplified is not None and key:
        key = to_simplified(key)
    return key


def _fold_width(key: str) -> str:
    # Only the full-width runs go through translate (a dict look-up per character is slow).
    return _FULL_WIDTH_ALNUM_RUN.sub(lambda run: run.group().translate(_FULL_WIDTH_TO_ASCII), key)


def paragraph_key(paragraph: str, to_simplified: Callable[[str], str] | None = None) -> str:
    """The dedup key of one paragraph (a line): the same folding as ``text_key``.

    A separate name so that callers say what they key; a paragraph key never
    contains a line break.
    """
    return text_key(paragraph, to_simplified)


def line_keys(text: str, to_simplified: Callable[[str], str] | None = None) -> list[str]:
    """The key of each line of ``text`` (split on line feeds only), about twice
    as fast as calling ``text_key`` on each line.

    The lines are keyed in one ``default_process`` call over the whole text,
    with each line break replaced by a letter that the key keeps (the Runic
    ᚠ) and split on afterwards; a text that contains that letter is keyed line
    by line.
    """
    if _LINE_MARK in text:
        return [text_key(line, to_simplified) for line in text.split("\n")]
    keys = default_process(text.replace("\n", _LINE_MARK)).replace(" ", "")
    if _FULL_WIDTH_ALNUM.search(keys):
        keys = _fold_width(keys)
    if to_simplified is not None and keys:
        keys = to_simplified(keys)
    return keys.split(_LINE_MARK)


def key_hash(key: str) -> int:
    """A stable 64-bit hash of a key (blake2b), the same in every process and run.

    Python's ``hash()`` is salted per process, so it cannot be stored or
    compared across workers.
    """
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def fold_text(text: str, to_simplified: Callable[[str], str] | None = None) -> str:
    """A readable normalised form: width folded, CJK punctuation mapped to ASCII,
    whitespace runs collapsed to one space, case folded, stripped.

    For keys that must keep word boundaries or sentence marks. Slower than
    ``text_key`` (a translate table per character).
    """
    folded = _WHITESPACE_RUN.sub(" ", text.translate(_CJK_PUNCT_TO_ASCII)).strip().casefold()
    if to_simplified is not None and folded:
        folded = to_simplified(folded)
    return folded


def make_to_simplified() -> Callable[[str], str]:
    """Build an opencc Traditional -> Simplified converter (t2s), 30-60 ms: call once per step.

    Returns its ``convert`` method. Converters do not pickle: a step holding
    one rebuilds it in ``__setstate__``.
    """
    import opencc

    return opencc.OpenCC("t2s", include_tofu_risk_dictionaries=False).convert
