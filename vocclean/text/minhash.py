"""MinHash signatures and LSH band keys for a batch of shingle-hash sets, in numpy.

The signature is one-permutation MinHash (Li, Owen and Zhang 2012): each
shingle hash is used once, its high bits choosing one of ``num_perm`` bins
and its low 32 bits competing for that bin's minimum, so a batch costs one
scatter-minimum over its shingles instead of ``num_perm`` hash evaluations
per shingle. Empty bins (short texts) are filled by rotation (Shrivastava and
Li 2014): an empty bin copies the next non-empty bin to its right, offset by
the distance, which keeps the probability that two signatures agree in a bin
equal to the Jaccard similarity of the two sets.

Band keys are 32-bit digests of ``rows`` consecutive bins. Two texts are LSH
candidates when they share a band key; the caller verifies every candidate.
"""

from __future__ import annotations

import numpy as np

from vocclean.text.shingles import fmix64

EMPTY = np.uint32(0xFFFFFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_ROTATION_STEP = np.uint32(0x9E3779B1)
_ROW_MULTIPLIERS = np.random.default_rng(4142).integers(1, 2**63, size=256, dtype=np.uint64) * np.uint64(
    2
) + np.uint64(1)


def shingle_values(hashes: np.ndarray) -> np.ndarray:
    """The 32-bit value of each shingle hash: what signatures and verification compare."""
    return (hashes & _LOW32).astype(np.uint32)


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """One-permutation MinHash signatures, shape (texts, num_perm), uint32.

    A text without shingles gets a row of ``EMPTY``.
    """
    n_docs = len(offsets) - 1
    doc = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(offsets))
    bins = (((hashes >> _S32) * np.uint64(num_perm)) >> _S32).astype(np.int64)
    sig = np.full(n_docs * num_perm, EMPTY, dtype=np.uint32)
    np.minimum.at(sig, doc * num_perm + bins, shingle_values(hashes))
    sig = sig.reshape(n_docs, num_perm)
    empty = sig == EMPTY
    if empty.any():
        _densify(sig, empty)
    return sig


def _densify(sig: np.ndarray, empty: np.ndarray) -> None:
    """Fill empty bins in place from the next non-empty bin to the right (circularly)."""
    num_perm = sig.shape[1]
    rows = np.flatnonzero(empty.any(axis=1) & ~empty.all(axis=1))
    if not len(rows):
        return
    part = np.concatenate([sig[rows], sig[rows]], axis=1)
    filled = np.concatenate([~empty[rows], ~empty[rows]], axis=1)
    position = np.where(filled, np.arange(2 * num_perm), 2 * num_perm)
    next_filled = np.minimum.accumulate(position[:, ::-1], axis=1)[:, ::-1][:, :num_perm]
    distance = (next_filled - np.arange(num_perm)).astype(np.uint32)
    source = np.take_along_axis(part, next_filled, axis=1)
    sig[rows] = np.where(empty[rows], source + distance * _ROTATION_STEP, sig[rows])


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


def lsh_params(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """Bands and rows for ``num_perm`` permutations, generous around ``threshold``.

    Verification removes false candidates, so the LSH aims at missing few
    true pairs: the most rows per band (fewest false candidates) whose
    candidate probability at ``threshold`` still reaches ``recall``, using
    as many bands as the permutations allow. When no split reaches it, the
    split with the highest candidate probability.
    """
    best: tuple[float, int, int] | None = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        p = candidate_probability(threshold, bands, rows)
        if p >= recall or best is None:
            best = (p, bands, rows)
    assert best is not None
    return best[1], best[2]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of distinct values (two empty sets: 1.0)."""
    if not len(a) or not len(b):
        return 1.0 if len(a) == len(b) else 0.0
    if len(a) > len(b):
        a, b = b, a
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    common = int(np.count_nonzero(b[at] == a))
    return common / (len(a) + len(b) - common)


def distinct_values(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingle values, sorted, concatenated; and their counts."""
    n_docs = len(offsets) - 1
    doc = np.repeat(np.arange(n_docs, dtype=np.uint64), np.diff(offsets))
    packed = np.sort((doc << _S32) | (hashes & _LOW32))
    if len(packed):
        keep = np.empty(len(packed), dtype=bool)
        keep[0] = True
        np.not_equal(packed[1:], packed[:-1], out=keep[1:])
        packed = packed[keep]
    counts = np.bincount((packed >> _S32).astype(np.int64), minlength=n_docs)
    return (packed & _LOW32).astype(np.uint32), counts


def leading(hashes: np.ndarray, offsets: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` shingle hashes of each text, concatenated, with their offsets."""
    counts = np.diff(offsets)
    position = np.arange(len(hashes), dtype=np.int64) - np.repeat(offsets[:-1], counts)
    kept = np.minimum(counts, limit)
    lead_offsets = np.zeros_like(offsets)
    np.cumsum(kept, out=lead_offsets[1:])
    return hashes[position < limit], lead_offsets
