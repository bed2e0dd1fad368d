"""CJK-aware shingles, hashed for a whole batch of texts at once.

A text is folded to units before shingling: every hanzi (and kana, hangul
syllable) is one unit, every run of other letters and digits (a Latin word,
a number) is one unit, and punctuation, symbols, whitespace and controls only
separate units. Folding maps width (NFKC, so ``ＡＢＣ１２`` is ``abc12``),
case, and Traditional characters to Simplified (opencc t2s, character by
character), so a copy that differs only in those has the same units. A
shingle is ``ngram`` consecutive units: character n-grams for Chinese, word
n-grams for English, both at once for mixed text.

Everything runs on numpy arrays for the whole batch (one ``str.encode`` of
the joined texts, one table lookup per character, rolling sums over the unit
array): there is no Python loop per character or per shingle. Hashes are
fixed 64-bit arithmetic (murmur3's finaliser), never Python's ``hash()``, so
they do not change between runs.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import opencc

# The fold table covers every codepoint up to CJK Extension H; anything above
# (plane 14 tags, private use planes) is a separator.
TABLE_SIZE = 0x32400
SEPARATOR, SINGLE, WORD = 0, 1, 2
_CLASS_SHIFT = 24
_CP_MASK = np.uint32((1 << _CLASS_SHIFT) - 1)

# Scripts written without spaces, where each character is a unit.
_SINGLE_RANGES = (
    (0x1100, 0x11FF),  # Hangul jamo
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x318F),  # bopomofo, Hangul compatibility jamo
    (0x31A0, 0x31FF),  # bopomofo extended, katakana extension
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, TABLE_SIZE - 1),  # CJK Extensions B..H
)
_HANZI_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, TABLE_SIZE - 1))

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_WORD_BASE = np.uint64(0x9E3779B97F4A7C15)  # polynomial base for the letters of a word
# One odd multiplier per position in a shingle (enough for --ngram up to 32).
_POSITION_MULTIPLIERS = np.random.default_rng(20240611).integers(
    1, 2**63, size=32, dtype=np.uint64
) * np.uint64(2) + np.uint64(1)


def fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, element-wise: a fixed, well-mixing hash of uint64."""
    x = x ^ (x >> _S33)
    x = x * _M1
    x = x ^ (x >> _S33)
    x = x * _M2
    return x ^ (x >> _S33)


def _in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def build_fold_table() -> np.ndarray:
    """The codepoint table: folded codepoint in the low 24 bits, unit class above.

    NFKC and lower case (when they give one character), then opencc t2s for
    hanzi, one character at a time so that no phrase rule depends on context.
    """
    folded = np.zeros(TABLE_SIZE, dtype=np.uint32)
    classes = np.zeros(TABLE_SIZE, dtype=np.uint32)
    for cp in range(TABLE_SIZE):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        nfkc = unicodedata.normalize("NFKC", ch)
        ch = nfkc if len(nfkc) == 1 else ch
        lower = ch.lower()
        ch = lower if len(lower) == 1 else ch
        target = ord(ch)
        folded[cp] = target
        if _in_ranges(target, _SINGLE_RANGES):
            classes[cp] = SINGLE
        elif unicodedata.category(ch)[0] in "LNM":
            classes[cp] = WORD
    is_hanzi = np.zeros(TABLE_SIZE, dtype=bool)
    for lo, hi in _HANZI_RANGES:
        is_hanzi |= (folded >= lo) & (folded <= hi)
    hanzi = np.flatnonzero(is_hanzi)
    sources = "\n".join(chr(int(folded[i])) for i in hanzi)
    simplified = opencc.OpenCC("t2s", include_tofu_risk_dictionaries=False).convert(sources).split("\n")
    if len(simplified) == len(hanzi):
        for i, s in zip(hanzi, simplified, strict=True):
            if len(s) == 1:
                folded[i] = ord(s)
    return folded | (classes << np.uint32(_CLASS_SHIFT))


@dataclass(frozen=True, slots=True)
class ShingleBatch:
    """Shingle hashes of a batch of texts, concatenated.

    ``hashes[offsets[i]:offsets[i + 1]]`` are text i's shingle hashes in text
    order (repeats included); a text with fewer units than ``ngram`` has one
    shingle (all its units); a text with no unit has none. ``keys[i]`` is an
    8-byte digest of the unit sequence (the exact-duplicate key), 0 for a
    text with no unit.
    """

    hashes: np.ndarray
    offsets: np.ndarray
    keys: np.ndarray
    unit_counts: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def doc_hashes(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]


class Shingler:
    """Folds texts to units and hashes their ``ngram``-unit shingles, a batch at a time.

    Building one costs about 0.1 s (the fold table); build it once and reuse it.
    """

    def __init__(self, ngram: int = 5) -> None:
        if not 1 <= ngram <= len(_POSITION_MULTIPLIERS):
            raise ValueError(f"ngram must be between 1 and {len(_POSITION_MULTIPLIERS)}, not {ngram}")
        self.ngram = ngram
        self.table = build_fold_table()
        self._powers = np.ones(1, dtype=np.uint64)

    def _word_powers(self, length: int) -> np.ndarray:
        if len(self._powers) < length:
            steps = np.full(max(length, 2 * len(self._powers)), _WORD_BASE, dtype=np.uint64)
            steps[0] = 1
            self._powers = np.cumprod(steps, dtype=np.uint64)
        return self._powers

    def units(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unit hashes (uint64) of all texts, concatenated, and each text's unit offsets."""
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        char_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=char_offsets[1:])
        codepoints = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
        entries = self.table[np.minimum(codepoints, TABLE_SIZE - 1)]
        classes = entries >> np.uint32(_CLASS_SHIFT)
        is_word = classes == WORD
        # A unit starts at every single character and at the first letter of a
        # word; a word also ends at a text boundary.
        continues_word = np.zeros(len(entries), dtype=bool)
        continues_word[1:] = is_word[1:] & is_word[:-1]
        continues_word[char_offsets[:-1][lengths > 0]] = False
        kept = classes != SEPARATOR
        kept_before = np.concatenate(([0], np.cumsum(kept, dtype=np.int64)))
        kept_offsets = kept_before[char_offsets]
        values = (entries[kept] & _CP_MASK).astype(np.uint64)
        starts = np.flatnonzero(~continues_word[kept])
        if len(starts) < len(values):  # some words longer than one letter
            unit_index = np.cumsum(~continues_word[kept], dtype=np.int64) - 1
            position = np.arange(len(values), dtype=np.int64) - starts[unit_index]
            values = values * self._word_powers(int(position.max()) + 1)[position]
            raw = np.add.reduceat(values, starts) if len(starts) else values[:0]
        else:
            raw = values
        unit_offsets = np.searchsorted(starts, kept_offsets)
        return fmix64(raw), unit_offsets

    def batch(self, texts: Sequence[str]) -> ShingleBatch:
        """Shingle hashes and exact keys for every text of ``texts``."""
        units, unit_offsets = self.units(texts)
        n = self.ngram
        counts = np.diff(unit_offsets)
        total = len(units)
        rolled = units * _POSITION_MULTIPLIERS[0]
        for k in range(1, n):
            rolled[: total - k] += units[k:] * _POSITION_MULTIPLIERS[k]
        # Shingles that would run past the end of their text are dropped,
        # except that a text shorter than n units keeps one shingle of all its units.
        valid = np.ones(total, dtype=bool)
        tail = unit_offsets[1:, None] - np.arange(1, n, dtype=np.int64)[None, :]
        in_text = tail >= unit_offsets[:-1, None]
        valid[tail[in_text]] = False
        short = np.flatnonzero((counts > 0) & (counts < n))
        for i in short:  # rare: texts of fewer than n units
            lo, hi = unit_offsets[i], unit_offsets[i + 1]
            rolled[lo] = np.sum(units[lo:hi] * _POSITION_MULTIPLIERS[: hi - lo], dtype=np.uint64)
            valid[lo] = True
        hashes = fmix64(rolled[valid])
        shingle_counts = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(shingle_counts, out=offsets[1:])
        keys = np.zeros(len(texts), dtype=np.uint64)
        for i in np.flatnonzero(counts):
            digest = hashlib.blake2b(units[unit_offsets[i] : unit_offsets[i + 1]].tobytes(), digest_size=8)
            keys[i] = int.from_bytes(digest.digest(), "little") or 1
        return ShingleBatch(hashes, offsets, keys, counts)


def unit_strings(text: str, table: np.ndarray) -> list[str]:
    """The folded units of ``text`` as strings: the pure-Python reference of ``Shingler.units``.

    Slow (a loop per character); for tests and for baselines that need
    shingles as strings.
    """
    units: list[str] = []
    word: list[str] = []
    for ch in text:
        entry = int(table[min(ord(ch), TABLE_SIZE - 1)])
        cls, folded = entry >> _CLASS_SHIFT, chr(entry & int(_CP_MASK))
        if cls == WORD:
            word.append(folded)
            continue
        if word:
            units.append("".join(word))
            word = []
        if cls == SINGLE:
            units.append(folded)
    if word:
        units.append("".join(word))
    return units


def shingle_strings(units: list[str], ngram: int) -> list[str]:
    """The shingles of a unit list as strings (units joined by a space), in order."""
    if not units:
        return []
    if len(units) < ngram:
        return [" ".join(units)]
    return [" ".join(units[i : i + ngram]) for i in range(len(units) - ngram + 1)]
