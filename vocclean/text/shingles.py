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

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import opencc

from vocclean.table_cache import cached_arrays

# The fold table covers every codepoint up to CJK Extension H; anything above
# (plane 14 tags, private use planes) is a separator.
TABLE_SIZE = 0x32400
SEPARATOR, SINGLE, WORD = 0, 1, 2

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

_U16 = np.uint32(16)
_U13 = np.uint32(13)
_F1 = np.uint32(0x85EBCA6B)
_F2 = np.uint32(0xC2B2AE35)
_CHAR_SEED = np.uint32(0x9E3779B1)
_WORD_BASE = np.uint32(0x01000193)  # multiplier between the letters of a word
_KEY_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible mod 2**64
# One odd multiplier per position in a shingle (enough for --ngram up to 32).
_POSITION_MULTIPLIERS = np.random.default_rng(20240611).integers(
    0, 2**31, size=32, dtype=np.uint32
) * np.uint32(2) + np.uint32(1)


def fmix32(x: np.ndarray) -> np.ndarray:
    """murmur3's 32-bit finaliser, in place on a uint32 array (which it returns)."""
    x ^= x >> _U16
    x *= _F1
    x ^= x >> _U13
    x *= _F2
    x ^= x >> _U16
    return x


_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser, element-wise: a fixed, well-mixing hash of uint64."""
    x = x ^ (x >> _S33)
    x = x * _M1
    x = x ^ (x >> _S33)
    x = x * _M2
    return x ^ (x >> _S33)


# Blocks whose characters NFKC and lower case leave alone and which are all
# letters of a script without spaces; the table build skips their Python loop.
_PLAIN_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x20000, TABLE_SIZE - 1))


def _in_ranges(values: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    inside = np.zeros(len(values), dtype=bool)
    for lo, hi in ranges:
        inside |= (values >= lo) & (values <= hi)
    return inside


def build_fold_table() -> tuple[np.ndarray, np.ndarray]:
    """(folded codepoint, unit class) for every codepoint below TABLE_SIZE.

    NFKC and lower case (when they give one character), then opencc t2s for
    hanzi, one character at a time so that no phrase rule depends on context.
    """
    folded = np.arange(TABLE_SIZE, dtype=np.uint32)
    alnum = np.zeros(TABLE_SIZE, dtype=bool)
    plain = _in_ranges(folded, _PLAIN_BLOCKS)
    for cp in np.flatnonzero(~plain).tolist():
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        nfkc = unicodedata.normalize("NFKC", ch)
        ch = nfkc if len(nfkc) == 1 else ch
        lower = ch.lower()
        ch = lower if len(lower) == 1 else ch
        folded[cp] = ord(ch)
        alnum[cp] = unicodedata.category(ch)[0] in "LNM"
    hanzi = np.flatnonzero(_in_ranges(folded, _HANZI_RANGES))
    sources = "\n".join(map(chr, folded[hanzi].tolist()))
    simplified = opencc.OpenCC("t2s", include_tofu_risk_dictionaries=False).convert(sources).split("\n")
    if len(simplified) == len(hanzi):
        one = np.fromiter((len(c) == 1 for c in simplified), dtype=bool, count=len(hanzi))
        chars = "".join(c for c in simplified if len(c) == 1)
        folded[hanzi[one]] = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)
    classes = np.where(alnum | plain, WORD, SEPARATOR).astype(np.uint8)
    classes[_in_ranges(folded, _SINGLE_RANGES)] = SINGLE
    return folded, classes


def fold_table() -> tuple[np.ndarray, np.ndarray]:
    """``build_fold_table()``, kept on disk between runs (``vocclean.table_cache``)."""
    arrays = cached_arrays("fold-table", __file__, _fold_arrays, ("folded", "classes"))
    return arrays["folded"], arrays["classes"]


def _fold_arrays() -> dict[str, np.ndarray]:
    folded, classes = build_fold_table()
    return {"folded": folded, "classes": classes}


class PowerTable:
    """Powers base**i and base**-i (mod 2**bits of the base's dtype) for i below a growing length.

    Polynomial hashes of a span are read off batch-wide prefix sums weighted
    by base**i, then multiplied by base**-start; the base is odd, so it has
    an inverse modulo a power of two.
    """

    def __init__(self, base: np.unsignedinteger) -> None:
        self.base = base
        modulus = 2 ** (8 * base.dtype.itemsize)
        self.inverse = base.dtype.type(pow(int(base), -1, modulus))
        empty = np.zeros(0, dtype=base.dtype)
        self.tables = (empty, empty)  # (powers, inverse powers), replaced together

    def upto(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        tables = self.tables  # one read: threads sharing the table never see one array grown alone
        if len(tables[0]) < length:
            size = max(length, 2 * len(tables[0]), 1 << 16)
            steps = np.full(size, self.base, dtype=self.base.dtype)
            steps[0] = 1
            powers = np.cumprod(steps, dtype=self.base.dtype)
            steps[1:] = self.inverse
            tables = self.tables = (powers, np.cumprod(steps, dtype=self.base.dtype))
        return tables


@dataclass(frozen=True, slots=True)
class ShingleBatch:
    """Shingle hashes (uint32) of a batch of texts, concatenated.

    ``hashes[offsets[i]:offsets[i + 1]]`` are text i's shingle hashes in text
    order (repeats included); a text with fewer units than ``ngram`` has one
    shingle (all its units); a text with no unit has none. ``keys[i]`` is a
    64-bit hash of the unit sequence (the exact-duplicate key), 0 for a text
    with no unit.
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

    Building one costs about 0.2 s the first time on a machine (the fold
    table, then kept on disk: ``fold_table``); build it once and reuse it.
    """

    def __init__(self, ngram: int = 5) -> None:
        if not 1 <= ngram <= len(_POSITION_MULTIPLIERS):
            raise ValueError(f"ngram must be between 1 and {len(_POSITION_MULTIPLIERS)}, not {ngram}")
        self.ngram = ngram
        folded, classes = fold_table()
        # Tables over all of Unicode, so that lookups need no bounds check:
        # the class (0 beyond TABLE_SIZE: a separator) and a random 32-bit
        # value of the folded character.
        self.folded = folded
        self.classes = np.zeros(0x110000, dtype=np.uint8)
        self.classes[:TABLE_SIZE] = classes
        self.char_values = np.zeros(0x110000, dtype=np.uint32)
        self.char_values[:TABLE_SIZE] = fmix32(folded * _CHAR_SEED + np.uint32(1))
        self._word_powers = PowerTable(_WORD_BASE)
        self._key_powers = PowerTable(_KEY_BASE)

    def units(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unit hashes (uint32) of all texts, concatenated, and each text's unit offsets."""
        n_texts = len(texts)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n_texts)
        char_offsets = np.zeros(n_texts + 1, dtype=np.int64)
        np.cumsum(lengths, out=char_offsets[1:])
        codepoints = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        classes = self.classes[codepoints]
        # A unit starts at every single character and at the first letter of a
        # word; a word also ends at a text boundary.
        is_word = classes == WORD
        continues_word = np.zeros(len(classes), dtype=bool)
        np.logical_and(is_word[1:], is_word[:-1], out=continues_word[1:])
        continues_word[char_offsets[:-1][lengths > 0]] = False
        kept = classes != SEPARATOR
        kept_counts = np.zeros(n_texts, dtype=np.int64)
        nonempty = np.flatnonzero(lengths)
        if len(nonempty):
            kept_counts[nonempty] = np.add.reduceat(kept, char_offsets[nonempty], dtype=np.int64)
        kept_offsets = np.zeros(n_texts + 1, dtype=np.int64)
        np.cumsum(kept_counts, out=kept_offsets[1:])
        values = self.char_values[codepoints[kept]]
        starts = np.flatnonzero(~continues_word[kept])
        # When every unit is one character, a unit's hash is its character's value.
        units = values if len(starts) == len(values) else self._word_units(values, starts)
        unit_offsets = np.searchsorted(starts, kept_offsets)
        return units, unit_offsets

    def _word_units(self, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Unit hashes when some units are words of several letters.

        A one-letter unit keeps its letter's value. A longer word's hash is
        the polynomial sum(letter value * base**k) of its letters, summed per
        word over the letters of words only (few, in Chinese text), then mixed.
        """
        units = values[starts]
        lengths = np.diff(starts, append=len(values))
        words = np.flatnonzero(lengths > 1)
        word_lengths = lengths[words]
        letters = int(word_lengths.sum())
        word_offsets = np.zeros(len(words), dtype=np.int64)
        np.cumsum(word_lengths[:-1], out=word_offsets[1:])
        position = np.arange(letters, dtype=np.int64) - np.repeat(word_offsets, word_lengths)
        letter_values = values[np.repeat(starts[words], word_lengths) + position]
        powers, _ = self._word_powers.upto(int(word_lengths.max()))
        letter_values *= powers[position]
        sums = np.add.reduceat(letter_values, word_offsets)
        units[words] = fmix32(sums + word_lengths.astype(np.uint32))
        return units

    def batch(self, texts: Sequence[str]) -> ShingleBatch:
        """Shingle hashes and exact keys for every text of ``texts``."""
        units, unit_offsets = self.units(texts)
        n = self.ngram
        counts = np.diff(unit_offsets)
        total = len(units)
        rolled = units * _POSITION_MULTIPLIERS[0]
        scratch = np.empty_like(rolled)
        for k in range(1, min(n, total)):
            np.multiply(units[k:], _POSITION_MULTIPLIERS[k], out=scratch[: total - k])
            rolled[: total - k] += scratch[: total - k]
        # Shingles that would run past the end of their text are dropped,
        # except that a text shorter than n units keeps one shingle of all its units.
        valid = np.ones(total, dtype=bool)
        tail = unit_offsets[1:, None] - np.arange(1, n, dtype=np.int64)[None, :]
        valid[tail[tail >= unit_offsets[:-1, None]]] = False
        for i in np.flatnonzero((counts > 0) & (counts < n)):  # rare: texts of fewer than n units
            lo, hi = unit_offsets[i], unit_offsets[i + 1]
            rolled[lo] = np.sum(units[lo:hi] * _POSITION_MULTIPLIERS[: hi - lo], dtype=np.uint32)
            valid[lo] = True
        hashes = fmix32(rolled[valid])
        shingle_counts = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(shingle_counts, out=offsets[1:])
        return ShingleBatch(hashes, offsets, self._exact_keys(units, unit_offsets, counts), counts)

    def _exact_keys(self, units: np.ndarray, unit_offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """A 64-bit polynomial hash of each text's unit sequence, then mixed; 0 for an empty text.

        sum(unit * B**(i - start)) is read off a batch-wide sum weighted by
        B**i, multiplied back by the inverse power of the text's start.
        """
        keys = np.zeros(len(counts), dtype=np.uint64)
        nonempty = np.flatnonzero(counts)
        if not len(nonempty):
            return keys
        powers, inverse = self._key_powers.upto(len(units))
        weighted = units.astype(np.uint64)
        weighted *= powers[: len(units)]
        starts = unit_offsets[nonempty]
        sums = np.add.reduceat(weighted, starts)
        sums *= inverse[starts]
        sums += counts[nonempty].astype(np.uint64)
        mixed = fmix64(sums)
        mixed[mixed == 0] = 1  # 0 means "no text"
        keys[nonempty] = mixed
        return keys


def unit_strings(text: str, shingler: Shingler) -> list[str]:
    """The folded units of ``text`` as strings: the pure-Python reference of ``Shingler.units``.

    Slow (a loop per character); for tests and for baselines that need
    shingles as strings.
    """
    units: list[str] = []
    word: list[str] = []
    for ch in text:
        cp = ord(ch)
        cls = int(shingler.classes[cp])
        if cls == WORD:
            word.append(chr(int(shingler.folded[cp])))
            continue
        if word:
            units.append("".join(word))
            word = []
        if cls == SINGLE:
            units.append(chr(int(shingler.folded[cp])))
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
