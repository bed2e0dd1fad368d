"""MinHash signatures and LSH band keys for a batch of shingle-hash sets, in numpy.

The signature is one-permutation MinHash (Li, Owen and Zhang 2012): each
shingle hash is used once, its high bits choosing one of ``num_perm`` bins
and its low 32 bits competing for that bin's minimum, so a batch costs one
scatter-minimum over its shingles instead of ``num_perm`` hash evaluations
per shingle. Empty bins (short texts) are filled by optimal densification
(Shrivastava 2017), which keeps the probability that two signatures agree in
a bin equal to the Jaccard similarity of the two sets.

Band keys are 32-bit digests of ``rows`` consecutive bins. Two texts are LSH
candidates when they share a band key; the caller verifies every candidate.
"""

from __future__ import annotations

import numpy as np

from vocclean.text.shingles import fmix64

EMPTY = np.uint32(0xFFFFFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_U16 = np.uint32(16)
_DENSIFY_SALT = np.uint64(0x9E3779B97F4A7C15)
_ROW_MULTIPLIERS = np.random.default_rng(4142).integers(1, 2**63, size=256, dtype=np.uint64) * np.uint64(
    2
) + np.uint64(1)


def text_index(offsets: np.ndarray) -> np.ndarray:
    """The text number of every shingle of a batch (int64), from the batch's offsets."""
    return np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))


def signatures(
    hashes: np.ndarray, offsets: np.ndarray, num_perm: int, texts: np.ndarray | None = None
) -> np.ndarray:
    """One-permutation MinHash signatures of uint32 shingle hashes, shape (texts, num_perm), uint32.

    The high 16 bits of a hash choose its bin, the whole hash competes for
    the bin's minimum. A text without shingles gets a row of ``EMPTY``.
    ``texts`` is ``text_index(offsets)`` when the caller already has it.
    """
    if not 1 <= num_perm < 2**16:
        raise ValueError(f"num_perm must be between 1 and 65535, not {num_perm}")
    n_docs = len(offsets) - 1
    if texts is None:
        texts = text_index(offsets)
    bins = hashes >> _U16
    bins *= np.uint32(num_perm)
    bins >>= _U16
    flat = texts * num_perm
    flat += bins
    sig = np.full(n_docs * num_perm, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, flat, hashes)
    sig = sig.reshape(n_docs, num_perm)
    empty = sig == EMPTY
    if empty.any():
        _densify(sig, empty)
    return sig


def _densify(sig: np.ndarray, empty: np.ndarray) -> None:
    """Fill empty bins in place by optimal densification (Shrivastava 2017).

    Empty bin i of a text takes the value of bin h(i, 1), h(i, 2)... the first
    of these that is filled, where h is a fixed hash: two texts use the same
    sequence, so a bin still agrees with probability equal to the Jaccard
    similarity, and bins stay nearly independent (copying from the next bin,
    as rotation does, makes neighbouring bins, and so whole bands, agree
    together on short texts).
    """
    num_perm = sig.shape[1]
    has_any = ~empty.all(axis=1)
    doc, bin_ = np.nonzero(empty & has_any[:, None])
    attempt = np.uint64(0)
    pending = np.arange(len(doc))
    while len(pending):
        attempt += np.uint64(1)
        salted = bin_[pending].astype(np.uint64) * _DENSIFY_SALT + attempt
        source = ((fmix64(salted) >> _S32) * np.uint64(num_perm) >> _S32).astype(np.int64)
        found = ~empty[doc[pending], source]
        hit = pending[found]
        sig[doc[hit], bin_[hit]] = sig[doc[hit], source[found]]
        pending = pending[~found]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """32-bit key of each band of each signature, shape (texts, bands), uint32."""
    if bands * rows > sig.shape[1]:
        raise ValueError(f"{bands} bands of {rows} rows need {bands * rows} permutations, not {sig.shape[1]}")
    banded = sig[:, : bands * rows].reshape(len(sig), bands, rows).astype(np.uint64)
    acc = np.arange(1, bands + 1, dtype=np.uint64)[None, :] * _ROW_MULTIPLIERS[rows]
    acc = np.broadcast_to(acc, banded.shape[:2]).copy()
    for r in range(rows):
        acc += banded[:, :, r] * _ROW_MULTIPLIERS[r]
    return (fmix64(acc) >> _S32).astype(np.uint32)


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two texts of this Jaccard similarity share at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def lsh_params(threshold: float, num_perm: int, at_threshold: float = 0.85) -> tuple[int, int]:
    """Bands and rows for ``num_perm`` permutations around ``threshold``.

    The most rows per band (fewest false candidates to verify) for which a
    pair at exactly ``threshold`` still shares a band with probability
    ``at_threshold``; pairs above it are candidates far more often (0.99 at
    0.6 for the default 32 bands of 4 rows at threshold 0.5), and a copy
    missed directly is usually reached through another copy of its cluster.
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= at_threshold:
            best = (bands, rows)
    return best


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct values (two empty sets: 1.0)."""
    if not len(a) or not len(b):
        return 1.0 if len(a) == len(b) else 0.0
    merged = np.concatenate((a, b))
    merged.sort(kind="stable")  # two sorted runs: one linear merge
    common = int(np.count_nonzero(merged[1:] == merged[:-1]))
    return common / (len(a) + len(b) - common)


def distinct_values(
    hashes: np.ndarray, offsets: np.ndarray, texts: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingle hashes, sorted, concatenated; and their counts."""
    n_docs = len(offsets) - 1
    if texts is None:
        texts = text_index(offsets)
    packed = texts.astype(np.uint64)
    packed <<= _S32
    packed |= hashes
    packed.sort()
    if len(packed):
        keep = np.empty(len(packed), dtype=bool)
        keep[0] = True
        np.not_equal(packed[1:], packed[:-1], out=keep[1:])
        packed = packed[keep]
    bounds = np.searchsorted(packed, np.arange(n_docs + 1, dtype=np.uint64) << _S32)
    return packed.astype(np.uint32), np.diff(bounds)


def leading(hashes: np.ndarray, offsets: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` shingle hashes of each text, concatenated, with their offsets."""
    counts = np.diff(offsets)
    if not len(counts) or counts.max() <= limit:
        return hashes, offsets
    position = np.arange(len(hashes), dtype=np.int64)
    position -= np.repeat(offsets[:-1], counts)
    lead_offsets = np.zeros_like(offsets)
    np.cumsum(np.minimum(counts, limit), out=lead_offsets[1:])
    return hashes[position < limit], lead_offsets
