"""One regex that clears a clean text for every fix-encoding stage at once.

The mojibake gates (:data:`~vocclean.text.mojibake.LATIN_GATE`,
:data:`~vocclean.text.mojibake.CJK_GATE`, HTML entities), the invisible-junk
gate and the unrecoverable-damage markers (U+FFFD, ``?``, ``锟``, ``烫``,
``屯``) each scan the whole text. Most articles match none of them, so their
union is built once as a single character class: a text it does not match
comes back from every stage untouched, and one scan proves it.
"""

from __future__ import annotations

import hashlib

from vocclean import regex_cache
from vocclean.table_cache import cached_strings
from vocclean.text.hanzi import _char_class
from vocclean.text.junk import JUNK_GATE
from vocclean.text.mojibake import CJK_GATE, LATIN_GATE

# The first character of every damage marker, and the ``&`` an HTML entity starts with.
_MARKERS = regex_cache.compile("[\ufffd?锟烫屯&]")
_GATES = (LATIN_GATE, CJK_GATE, JUNK_GATE, _MARKERS)


def _clean_characters() -> set[str]:
    bmp = "".join(map(chr, range(0x10000)))
    suspect = set()
    for gate in _GATES:
        suspect.update(m.start() for m in gate.finditer(bmp))
    return {chr(cp) for cp in range(0x10000) if cp not in suspect}


def _clean_class() -> dict[str, str]:
    return {"clean": _char_class(_clean_characters())}


# The class depends only on the gates (its file is named by their digest) and Unicode: built in
# about 20 ms, kept on disk between runs (vocclean.table_cache).
_GATES_DIGEST = hashlib.sha256(repr([(g.pattern, g.flags) for g in _GATES]).encode()).hexdigest()[:16]
_CLEAN = cached_strings(f"clean-gate-{_GATES_DIGEST}", __file__, _clean_class, ("clean",))["clean"]
# Characters beyond the BMP are outside the class, so they always take the full path.
SUSPECT = regex_cache.compile(f"[^{_CLEAN}]")


def may_need_fixing(text: str) -> bool:
    """False when no fix-encoding stage (mojibake, junk, damage) can change or flag ``text``."""
    return SUSPECT.search(text) is not None
