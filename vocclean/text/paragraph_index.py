"""A bounded-memory index of paragraph hashes across documents (CCNet-style).

For each 64-bit hash of a normalised paragraph (``key_hash(paragraph_key(p))``)
the index keeps how many documents contained it and the first of them. It is
what ``dedup-paragraphs --across-docs`` asks "was this paragraph seen in
another document earlier in the stream, and in how many?".

Memory: the bulk lives in three sorted numpy arrays, 16 bytes per distinct
paragraph (uint64 hash, uint32 document count, uint32 first-document number),
plus a Python dict of at most ``buffer_size`` recent hashes (about 100 bytes
each, 6.5 MB at the default 65,536) that is merged into the arrays when full,
plus the ids of the documents that first contributed a paragraph (UTF-8 bytes
and an 8-byte offset each). A merge briefly needs a second copy of the
arrays. Measured: 1M distinct paragraphs take about 16 MB of arrays (see
``nbytes`` and the test); a million documents of ten distinct paragraphs each
about 160 MB plus their ids.

``max_paragraphs`` bounds it: once the index holds that many hashes it stops
adding new ones (counts of the ones it has still go up); ``full`` says so and
the step counts the paragraphs it could not record.

Hash collisions: two different paragraphs share a 64-bit hash with
probability about n^2 / 2^65, i.e. 3e-8 for a billion paragraphs.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np

__all__ = ["ParagraphIndex"]


class ParagraphIndex:
    """Document counts of paragraph hashes, streaming, in bounded memory.

    ``observe(hashes, doc_id)`` records that one document contains these
    (distinct) hashes and returns, for each, how many earlier documents
    contained it and the id of the first of them.
    """

    def __init__(self, max_paragraphs: int = 50_000_000, buffer_size: int = 65_536) -> None:
        self.max_paragraphs = max_paragraphs
        self.buffer_size = buffer_size
        self._keys = np.empty(0, dtype=np.uint64)
        self._counts = np.empty(0, dtype=np.uint32)
        self._first = np.empty(0, dtype=np.uint32)
        # hash -> [document count, first document number], merged into the arrays when full
        self._buffer: dict[int, list[int]] = {}
        # document number -> id, for the documents that first contributed a hash
        self._id_bytes = bytearray()
        self._id_offsets = array("Q", [0])
        self.skipped = 0  # new hashes not recorded because the index was full

    def __len__(self) -> int:
        return len(self._keys) + len(self._buffer)

    @property
    def full(self) -> bool:
        return len(self) >= self.max_paragraphs

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays and id table (the buffer dict is bounded by ``buffer_size``)."""
        arrays = self._keys.nbytes + self._counts.nbytes + self._first.nbytes
        return arrays + len(self._id_bytes) + self._id_offsets.itemsize * len(self._id_offsets)

    def document_id(self, number: int) -> str:
        start, end = self._id_offsets[number], self._id_offsets[number + 1]
        return self._id_bytes[start:end].decode("utf-8")

    def observe(self, hashes: Sequence[int], doc_id: str) -> list[tuple[int, str | None]]:
        """Record one document's distinct paragraph hashes.

        Returns, in the order of ``hashes``, (number of earlier documents that
        contained the hash, id of the first of them or None).
        """
        if not hashes:
            return []
        result: list[tuple[int, str | None]] = [(0, None)] * len(hashes)
        buffer = self._buffer
        pending: list[int] = []  # positions of hashes not in the buffer
        for position, value in enumerate(hashes):
            entry = buffer.get(value)
            if entry is None:
                pending.append(position)
            else:
                result[position] = (entry[0], self.document_id(entry[1]))
                entry[0] += 1
        if pending and len(self._keys):
            wanted = np.fromiter((hashes[p] for p in pending), dtype=np.uint64, count=len(pending))
            slots = np.searchsorted(self._keys, wanted)
            slots[slots == len(self._keys)] = 0
            hits = self._keys[slots] == wanted
            if hits.any():
                hit_slots = slots[hits]
                for position, slot in zip(
                    (p for p, hit in zip(pending, hits.tolist(), strict=True) if hit),
                    hit_slots.tolist(),
                    strict=True,
                ):
                    result[position] = (int(self._counts[slot]), self.document_id(int(self._first[slot])))
                self._counts[hit_slots] += 1
                pending = [p for p, hit in zip(pending, hits.tolist(), strict=True) if not hit]
        if pending:
            self._add_new([hashes[p] for p in pending], doc_id)
        return result

    def _add_new(self, new_hashes: list[int], doc_id: str) -> None:
        room = self.max_paragraphs - len(self)
        if room < len(new_hashes):
            self.skipped += len(new_hashes) - max(room, 0)
            new_hashes = new_hashes[: max(room, 0)]
        if not new_hashes:
            return
        number = len(self._id_offsets) - 1
        self._id_bytes += doc_id.encode("utf-8")
        self._id_offsets.append(len(self._id_bytes))
        for value in new_hashes:
            self._buffer[value] = [1, number]
        if len(self._buffer) >= self.buffer_size:
            self.flush()

    def flush(self) -> None:
        """Merge the buffer into the sorted arrays."""
        if not self._buffer:
            return
        size = len(self._buffer)
        keys = np.fromiter(self._buffer.keys(), dtype=np.uint64, count=size)
        values = np.array(list(self._buffer.values()), dtype=np.uint32).reshape(size, 2)
        order = np.argsort(keys)
        keys = keys[order]
        values = values[order]
        slots = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, slots, keys)
        self._counts = np.insert(self._counts, slots, values[:, 0])
        self._first = np.insert(self._first, slots, values[:, 1])
        self._buffer = {}
