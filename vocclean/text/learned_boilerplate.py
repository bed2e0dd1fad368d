"""Boilerplate learned from a corpus: short lines that recur in many documents.

``LineCounter`` counts, for every normalised short line, the number of
documents it occurs in; ``LineCounter.model()`` keeps the lines seen in at
least ``max(min_docs, ceil(min_share * documents))`` documents as a
``LearnedLines`` model, which can be saved to and loaded from a JSON file.

Three guards keep article text out of the model:

- Only short lines count (``max_chars``): a sentence two articles share is
  rarely short *and* in many documents.
- A line that ends a sentence with ``。`` is never counted: news programmes
  repeat formula sentences (``王毅参加会见。``, ``天安门广场上鸣礼炮21响。``),
  and in a corpus chosen by topic (one leader's meetings) they reach the
  share of site furniture (7.6% of 1,561 xwlb stories titled 习近平). Site
  furniture is labels, prompts, tags and separators; boilerplate sentences are
  the rule packs' (disclaimers, credits).
- A document whose longest line was already seen is a copy of an earlier
  article (the same story crawled twice, a repost) and is not counted again,
  so that a story repeated across a dump does not turn its own short lines
  into "boilerplate".

Normalisation (``line_key``): strip, lower-case, drop whitespace, and map
every run of digits to one 0, so that "1月25日增13例" and "2月6日增15例" share a
key.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocclean.io.compression import DECOMPRESSION_ERRORS, open_read
from vocclean.io.writers import AtomicFile

MODEL_FORMAT = "vocclean-boilerplate-model"
# A line is learned when it occurs in at least max(DEFAULT_MIN_DOCS, DEFAULT_MIN_SHARE x documents)
# documents. On xwlb, formula sentences such as "王毅参加会见。" reach 0.6% of 19,876 stories, and
# one of them 18 of the first 1,000: 20 keeps them; site footers occur in 10-30% of a source's articles.
DEFAULT_MIN_DOCS = 20
DEFAULT_MIN_SHARE = 0.01
DEFAULT_MIN_CHARS = 2  # shorter lines are never learned
SENTENCE_END = "。"  # lines ending so are never learned (see the module's docstring)
MODEL_VERSION = 1

# What a key drops (whitespace, zero-width space, BOM) and what it maps to one 0 per run (digits).
_SPACE_CLASS = " \t\r\n\u3000\xa0\u200b\ufeff"
_DIGIT_CLASS = "0-9０-９"
_SPACES = re.compile(f"[{_SPACE_CLASS}]+")
_DIGIT_RUNS = re.compile(f"[{_DIGIT_CLASS}]+")
_SPACE_OR_DIGIT = re.compile(f"[{_SPACE_CLASS}{_DIGIT_CLASS}]")

# (fingerprint of the longest line, keys of the distinct short lines): LineCounter.digest.
LineDigest = tuple[bytes, tuple[str, ...]]


def line_key(stripped: str) -> str:
    """The normalised form under which a line is counted and looked up.

    Most short lines hold neither a digit nor a space: one scan finds that and the key is the
    lower-cased line (a ``str.translate`` of every character cost five times more on CJK text).
    """
    key = stripped.lower()
    if _SPACE_OR_DIGIT.search(key) is None:
        return key
    return _DIGIT_RUNS.sub("0", _SPACES.sub("", key))


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file."""


@dataclass
class LearnedLines:
    """Lines learned as boilerplate, with the number of documents each was seen in."""

    counts: dict[str, int] = field(default_factory=dict)
    documents: int = 0
    min_docs: int = DEFAULT_MIN_DOCS
    min_share: float = DEFAULT_MIN_SHARE
    max_chars: int = 60
    min_chars: int = DEFAULT_MIN_CHARS

    def lookup(self, stripped: str) -> int | None:
        """The document count of a learned line, or None when the line is not learned."""
        if not self.min_chars <= len(stripped) <= self.max_chars:
            return None
        return self.counts.get(line_key(stripped))

    def __len__(self) -> int:
        return len(self.counts)

    def merged(self, other: LearnedLines) -> LearnedLines:
        """Both models' lines (the larger count where both have a line)."""
        counts = dict(self.counts)
        for key, count in other.counts.items():
            counts[key] = max(count, counts.get(key, 0))
        return LearnedLines(
            counts,
            max(self.documents, other.documents),
            min(self.min_docs, other.min_docs),
            min(self.min_share, other.min_share),
            max(self.max_chars, other.max_chars),
            min(self.min_chars, other.min_chars),
        )

    def save(self, path: Path | str) -> None:
        """Write the model as JSON, atomically (``AtomicFile``: a temporary file renamed into place)."""
        path = Path(path)
        document = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "documents": self.documents,
            "min_docs": self.min_docs,
            "min_share": self.min_share,
            "max_chars": self.max_chars,
            "min_chars": self.min_chars,
            "lines": dict(sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))),
        }
        with AtomicFile(path) as target:  # a device (-o /dev/null) or a link stays what it is
            target.stream.write((json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: Path | str) -> LearnedLines:
        path = Path(path)
        try:
            with open_read(path) as stream:  # compressed by its name when saved (model.json.gz)
                document = json.loads(stream.read().decode("utf-8"))
        except OSError as exc:
            raise ModelFileError(f"{path}: cannot read the boilerplate model: {exc.strerror or exc}") from exc
        except DECOMPRESSION_ERRORS as exc:
            reason = f"corrupt or truncated ({exc})"
            raise ModelFileError(f"{path}: cannot read the boilerplate model: {reason}") from exc
        except ValueError as exc:
            raise ModelFileError(f"{path}: not a JSON boilerplate model: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
            raise ModelFileError(
                f"{path}: not a vocclean boilerplate model (write one with `vocclean learn-boilerplate`)"
            )
        if document.get("version") != MODEL_VERSION:
            raise ModelFileError(
                f"{path}: model version {document.get('version')!r}, expected {MODEL_VERSION}"
            )
        try:
            lines = {str(key): int(count) for key, count in document["lines"].items()}
            return cls(
                lines,
                int(document["documents"]),
                int(document["min_docs"]),
                float(document["min_share"]),
                int(document["max_chars"]),
                int(document.get("min_chars", 2)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelFileError(f"{path}: malformed boilerplate model ({exc!r})") from exc


def line_digest(text: str | None, min_chars: int, max_chars: int) -> LineDigest | None:
    """What ``LineCounter`` needs of a text: its longest line's fingerprint, its short lines' keys.

    Pure (a stable hash, not ``hash()``), so it can be computed in any process
    and counted with ``LineCounter.add_digest``, in stream order.
    """
    if not text:
        return None
    keys = set()
    longest = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if len(stripped) > len(longest):
            longest = stripped
        if min_chars <= len(stripped) <= max_chars and not stripped.endswith(SENTENCE_END):
            keys.add(line_key(stripped))
    fingerprint = hashlib.blake2b(longest.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return fingerprint, tuple(keys)


class LineCounter:
    """Counts normalised short lines per distinct document."""

    def __init__(
        self, *, max_chars: int = 60, min_chars: int = DEFAULT_MIN_CHARS, max_keys: int = 5_000_000
    ) -> None:
        if max_chars < min_chars or min_chars < 1:
            raise ValueError("need 1 <= min_chars <= max_chars")
        self.max_chars = max_chars
        self.min_chars = min_chars
        self.max_keys = max_keys
        self.counts: Counter[str] = Counter()
        self.documents = 0
        self.copies_skipped = 0
        self.pruned = 0
        self._fingerprints: set[bytes] = set()

    def add(self, text: str | None) -> None:
        self.add_digest(line_digest(text, self.min_chars, self.max_chars))

    def add_digest(self, digest: LineDigest | None) -> None:
        if digest is None:
            return
        fingerprint, keys = digest
        if fingerprint in self._fingerprints:
            self.copies_skipped += 1
            return
        self._fingerprints.add(fingerprint)
        self.documents += 1
        self.counts.update(keys)
        if len(self.counts) > self.max_keys:
            self._prune()

    def _prune(self) -> None:
        """Bound memory: forget lines seen once (an approximation, counted in ``pruned``)."""
        singles = [key for key, count in self.counts.items() if count <= 1]
        for key in singles:
            del self.counts[key]
        self.pruned += len(singles)

    def threshold(self, min_docs: int, min_share: float) -> int:
        return max(min_docs, math.ceil(min_share * self.documents))

    def model(
        self, *, min_docs: int = DEFAULT_MIN_DOCS, min_share: float = DEFAULT_MIN_SHARE
    ) -> LearnedLines:
        if min_docs < 1 or not 0.0 <= min_share <= 1.0:
            raise ValueError("need min_docs >= 1 and 0 <= min_share <= 1")
        floor = self.threshold(min_docs, min_share)
        lines = {key: count for key, count in self.counts.items() if count >= floor}
        return LearnedLines(lines, self.documents, min_docs, min_share, self.max_chars, self.min_chars)

    def stats(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "copies_skipped": self.copies_skipped,
            "distinct_lines": len(self.counts),
            "pruned": self.pruned,
        }
