"""Which Chinese script a text is written in, and opencc conversion between scripts.

Detection counts *marker* hanzi: characters that only one script uses.

- A Traditional marker is a character opencc's t2s changes that is not in
  GB2312 (the Simplified character set): 們, 這, 說 are markers; 乾, 於, 吒
  are not, because Simplified text uses them too (乾隆, 哪吒).
- A Simplified marker is a character s2t changes that is not in Big5 (the
  Traditional character set): 们, 这, 说 are markers; 台, 里, 后, 干 are not,
  because Taiwan text writes 台灣, 公里, 皇后, 干擾.

Filtering by character set removes the one-to-many characters that make a
plain "how many characters would t2s change" count noisy. The share of the
minority script among all markers decides: at most ``minority_share`` (10%
by default) and the majority script wins, above it the text is ``mixed``;
a text without markers is ``neither`` (English, or hanzi common to both).

Conversion uses opencc's own configs. Converters are built with
``include_tofu_risk_dictionaries=False`` (no characters that fonts lack)
and are never cached at module level: a step builds what it needs once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import opencc

from vocclean import regex_cache
from vocclean.table_cache import cached_arrays

__all__ = [
    "CONFIGS",
    "SCRIPTS",
    "TARGETS",
    "ScriptCounts",
    "ScriptDetector",
    "config_for",
    "make_converter",
    "source_scripts",
]

SCRIPTS = ("simplified", "traditional", "mixed", "neither")

# The 16 configs shipped with opencc 1.4, and the detected scripts each one
# converts from: a document is converted only when its script is the
# config's source script (or when it is mixed and the user asked for that).
_SOURCE_SCRIPTS: dict[str, frozenset[str]] = {
    "s2t": frozenset({"simplified"}),
    "s2tw": frozenset({"simplified"}),
    "s2twp": frozenset({"simplified"}),
    "s2hk": frozenset({"simplified"}),
    "s2hkp": frozenset({"simplified"}),
    "t2s": frozenset({"traditional"}),
    "tw2s": frozenset({"traditional"}),
    "tw2sp": frozenset({"traditional"}),
    "hk2s": frozenset({"traditional"}),
    "hk2sp": frozenset({"traditional"}),
    # Variant conversions between Traditional standards.
    "t2tw": frozenset({"traditional"}),
    "tw2t": frozenset({"traditional"}),
    "t2hk": frozenset({"traditional"}),
    "hk2t": frozenset({"traditional"}),
    "t2jp": frozenset({"traditional"}),
    # Japanese shinjitai share many forms with Simplified (国, 会), so a
    # Japanese text detects as simplified or neither.
    "jp2t": frozenset({"simplified", "neither"}),
}
CONFIGS = tuple(_SOURCE_SCRIPTS)

# --to TARGET -> (config, config with --phrases or None when opencc has none).
TARGETS: dict[str, tuple[str, str | None]] = {
    "simplified": ("t2s", "tw2sp"),
    "traditional": ("s2t", None),
    "taiwan": ("s2tw", "s2twp"),
    "hongkong": ("s2hk", "s2hkp"),
}

# Code points scanned when building the marker sets: CJK Unified Ideographs
# and Extensions A to F (Simplified forms such as 𫐄 live in Extension C;
# compatibility ideographs are normalised by both directions, so never markers).
_HANZI_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0x20000, 0x2EBEF))
_ASTRAL = regex_cache.compile("[\U00010000-\U0010ffff]")


def config_for(to: str = "simplified", phrases: bool = False) -> str:
    """The opencc config for ``--to TARGET [--phrases]``.

    >>> config_for("taiwan", phrases=True)
    's2twp'
    """
    try:
        plain, with_phrases = TARGETS[to]
    except KeyError:
        raise ValueError(f"unknown target script {to!r}; choose one of {', '.join(TARGETS)}") from None
    if not phrases:
        return plain
    if with_phrases is None:
        raise ValueError(
            f"opencc has no phrase conversion to {to!r}; use --to taiwan or --to hongkong with --phrases"
        )
    return with_phrases


def source_scripts(config: str) -> frozenset[str]:
    """The detected scripts that ``config`` converts from."""
    try:
        return _SOURCE_SCRIPTS[config]
    except KeyError:
        raise ValueError(f"unknown opencc config {config!r}; choose one of {', '.join(CONFIGS)}") from None


def make_converter(config: str, *, tofu_risk: bool = False) -> opencc.OpenCC:
    """Build an opencc converter (30-60 ms: build once per run, not per text)."""
    source_scripts(config)  # validates the name
    return opencc.OpenCC(config, include_tofu_risk_dictionaries=tofu_risk)


_LONE_SURROGATES = regex_cache.compile("[\ud800-\udfff]+")


def convert_text(converter: opencc.OpenCC, text: str) -> str:
    """``converter.convert(text)``, passing lone surrogates through unchanged.

    opencc takes UTF-8, which cannot carry a lone surrogate (JSON input may: "\\ud800");
    the text between them is converted piece by piece.
    """
    if not _LONE_SURROGATES.search(text):
        return converter.convert(text)
    pieces = _LONE_SURROGATES.split(text)
    surrogates = _LONE_SURROGATES.findall(text)
    out = [converter.convert(pieces[0])]
    for surrogate, piece in zip(surrogates, pieces[1:], strict=True):
        out += [surrogate, converter.convert(piece)]
    return "".join(out)


@dataclass(frozen=True, slots=True)
class ScriptCounts:
    """Marker hanzi found in a text (counting stops early when one side is absent)."""

    traditional: int
    simplified: int


def _changed_by(config: str, chars: list[str]) -> set[str]:
    # One call over newline-separated characters: opencc's phrase matching
    # cannot join characters across the separators.
    converted = make_converter(config).convert("\n".join(chars)).split("\n")
    return {char for char, out in zip(chars, converted, strict=True) if out != char}


def marker_chars() -> tuple[set[str], set[str]]:
    """(Traditional markers, Simplified markers): hanzi that opencc changes one way only and
    that the other script's national charset lacks. Kept on disk between runs
    (``vocclean.table_cache``): building them is two opencc passes over every hanzi."""
    arrays = cached_arrays("script-markers", __file__, _build_markers, ("traditional", "simplified"))
    return set(map(chr, arrays["traditional"].tolist())), set(map(chr, arrays["simplified"].tolist()))


def _build_markers() -> dict[str, np.ndarray]:
    chars = [chr(code) for start, end in _HANZI_RANGES for code in range(start, end + 1)]
    traditional = _changed_by("t2s", chars)
    simplified = _changed_by("s2t", chars)
    both = traditional & simplified
    traditional = {c for c in traditional - both if not _encodable(c, "gb2312")}
    simplified = {c for c in simplified - both if not _encodable(c, "big5")}
    return {
        name: np.array(sorted(map(ord, chars)), dtype=np.uint32)
        for name, chars in (("traditional", traditional), ("simplified", simplified))
    }


def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _char_class(chars: set[str]) -> re.Pattern[str]:
    # A BMP-only class compiles to a bitmap that sre checks in O(1); astral
    # characters in the same class make sre fall back to a linear list.
    return regex_cache.compile("[" + "".join(sorted(chars)) + "]")


class ScriptDetector:
    """Classify texts as simplified, traditional, mixed or neither.

    Building the first one on a machine takes about 0.2 s (two opencc passes
    over 90,000 code points, then kept on disk: ``marker_chars``); ``detect``
    runs at several hundred MB/s on Chinese news because a text without
    Traditional markers needs only two regex searches.
    """

    def __init__(self, minority_share: float = 0.1) -> None:
        if not 0 <= minority_share < 0.5:
            raise ValueError("minority_share must be in [0, 0.5)")
        self.minority_share = minority_share
        traditional, simplified = marker_chars()
        self._traditional_bmp = _char_class({c for c in traditional if ord(c) <= 0xFFFF})
        # The same class plus every astral character, for the first scan of
        # ``detect``: a range costs little, unlike thousands of astral literals.
        astral_range = "\U00010000-\U0010ffff]"
        self._traditional_or_astral = regex_cache.compile(self._traditional_bmp.pattern[:-1] + astral_range)
        self._simplified_bmp = _char_class({c for c in simplified if ord(c) <= 0xFFFF})
        self._traditional_astral = frozenset(c for c in traditional if ord(c) > 0xFFFF)
        self._simplified_astral = frozenset(c for c in simplified if ord(c) > 0xFFFF)

    def counts(self, text: str) -> ScriptCounts:
        """Count Traditional and Simplified markers in ``text``."""
        traditional = len(self._traditional_bmp.findall(text))
        simplified = len(self._simplified_bmp.findall(text))
        if _ASTRAL.search(text):
            for char in _ASTRAL.findall(text):
                traditional += char in self._traditional_astral
                simplified += char in self._simplified_astral
        return ScriptCounts(traditional, simplified)

    def detect(self, text: str) -> str:
        """``simplified``, ``traditional``, ``mixed`` or ``neither``.

        >>> detector = ScriptDetector()
        >>> detector.detect("这是简体中文。"), detector.detect("這是繁體中文。")
        ('simplified', 'traditional')
        """
        # Fast paths: a text with markers of one script only and no astral
        # characters (nearly every real document) needs no counting.
        if self._traditional_or_astral.search(text) is None:
            return "simplified" if self._simplified_bmp.search(text) else "neither"
        if self._simplified_bmp.search(text) is None and _ASTRAL.search(text) is None:
            return "traditional"
        return self.classify(self.counts(text))

    def classify(self, counts: ScriptCounts) -> str:
        total = counts.traditional + counts.simplified
        if total == 0:
            return "neither"
        minority = min(counts.traditional, counts.simplified)
        if minority / total > self.minority_share:
            return "mixed"
        return "traditional" if counts.traditional > counts.simplified else "simplified"
