"""The state of a duplicate search: compact indexes that grow a batch at a time.

What the search holds per document, and why it is small:

- LSH band keys: ``bands`` (uint32 key, uint32 document) pairs packed in one
  uint64 each, kept as a few sorted runs per band (a new run is merged into
  the previous one while that is less than 8 times larger, so there are
  O(log n) runs and looking up a batch is one ``searchsorted`` per run);
- exact keys: a uint64 digest and a uint32 document for each distinct text;
- a union-find parent, the first document with the same exact key, and the
  similarity to the cluster's first document (4 bytes each);
- the document's id, as UTF-8 bytes in one growing buffer;
- offsets into temporary files that hold each new text's shingle hashes
  (4 bytes a shingle) and MinHash signature (2 bytes a bin), read
  back with ``os.pread`` only for candidate pairs. The files live on disk
  (the page cache), not in the process, and are deleted when the index is
  closed.

Nothing here knows about records, steps or click.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np

_S32 = np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


class GrowableArray:
    """A numpy array that can be appended to, doubling its capacity as needed."""

    def __init__(self, dtype: np.dtype | type, capacity: int = 1024) -> None:
        self._data = np.zeros(capacity, dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def extend(self, values: np.ndarray | Sequence) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        need = self._size + len(values)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self._size] = self._data[: self._size]
            self._data = grown
        self._data[self._size : need] = values
        self._size = need

    @property
    def view(self) -> np.ndarray:
        """The filled part (a view: it changes when the array grows)."""
        return self._data[: self._size]

    @property
    def nbytes(self) -> int:
        return self._data.nbytes


class SortedRuns:
    """A multimap from uint32 keys to uint32 documents: sorted runs of ``key << 32 | doc``.

    A new batch becomes a run; the last run is merged into the one before
    while that one is less than ``MERGE_RATIO`` times its size, so there are
    O(log n) runs, few of them large, and each merge is one linear merge of
    two sorted arrays (plus a transient copy of one band only).
    """

    MERGE_RATIO = 8

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def add(self, keys: np.ndarray, docs: np.ndarray) -> None:
        if not len(keys):
            return
        packed = keys.astype(np.uint64)
        packed <<= _S32
        packed |= docs.astype(np.uint64)
        packed.sort()
        self.runs.append(packed)
        while len(self.runs) > 1 and len(self.runs[-2]) < self.MERGE_RATIO * len(self.runs[-1]):
            newer, older = self.runs.pop(), self.runs.pop()
            merged = np.concatenate([older, newer])
            del older, newer
            merged.sort(kind="stable")  # two sorted runs: one linear merge
            self.runs.append(merged)

    def lookup(self, keys: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(query position, document) for stored entries equal to each key, at most ``limit`` per run.

        Within one key, the earliest documents come first. Sorted ``keys``
        are looked up fastest.
        """
        low = keys.astype(np.uint64) << _S32
        positions, docs = [], []
        for run in self.runs:
            at = np.searchsorted(run, low)
            query = np.flatnonzero(at < len(run))
            at = at[query]
            for _ in range(limit):
                same = (run[at] >> _S32) == (low[query] >> _S32)
                query, at = query[same], at[same]
                if not len(query):
                    break
                positions.append(query)
                docs.append((run[at] & _LOW32).astype(np.int64))
                at = at + 1
                inside = at < len(run)
                query, at = query[inside], at[inside]
        if not positions:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(positions), np.concatenate(docs)

    @property
    def nbytes(self) -> int:
        return sum(run.nbytes for run in self.runs)


class KeyIndex:
    """Exact keys (uint64 digests) to the first document that had each one."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    def add(self, keys: np.ndarray, docs: np.ndarray) -> None:
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        self.runs.append((keys[order], docs[order].astype(np.uint32)))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= len(self.runs[-1][0]):
            (k2, d2), (k1, d1) = self.runs.pop(), self.runs.pop()
            keys_all, docs_all = np.concatenate([k1, k2]), np.concatenate([d1, d2])
            order = np.argsort(keys_all, kind="stable")
            self.runs.append((keys_all[order], docs_all[order]))

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The document stored for each key, or -1."""
        found = np.full(len(keys), -1, dtype=np.int64)
        for run_keys, run_docs in self.runs:
            at = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = (run_keys[at] == keys) & (found < 0)
            found[hit] = run_docs[at[hit]]
        return found

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + d.nbytes for k, d in self.runs)


class IdTable:
    """Document ids as UTF-8 in one buffer: about len(id) + 8 bytes each."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = GrowableArray(np.int64)

    def __len__(self) -> int:
        return len(self._ends)

    def extend(self, ids: Sequence[str]) -> None:
        ends = []
        for doc_id in ids:
            self._blob += doc_id.encode("utf-8", "surrogatepass")
            ends.append(len(self._blob))
        self._ends.extend(ends)

    def __getitem__(self, i: int) -> str:
        ends = self._ends.view
        start = int(ends[i - 1]) if i else 0
        return self._blob[start : int(ends[i])].decode("utf-8", "surrogatepass")

    @property
    def nbytes(self) -> int:
        return len(self._blob) + self._ends.nbytes


class ShingleStore:
    """Shingle hashes per document (uint32, in text order) in a temporary file, read back on demand."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, buffering=0)
        self._ends = GrowableArray(np.int64)
        self._size = 0

    def append(self, values: np.ndarray, counts: np.ndarray) -> None:
        """Append one uint32 array per document, concatenated, with their lengths."""
        self._file.write(np.ascontiguousarray(values, dtype=np.uint32).tobytes())
        self._ends.extend(self._size + np.cumsum(counts, dtype=np.int64))
        self._size += int(np.sum(counts))

    def get(self, slot: int) -> np.ndarray:
        ends = self._ends.view
        start = int(ends[slot - 1]) if slot else 0
        length = int(ends[slot]) - start
        data = os.pread(self._file.fileno(), 4 * length, 4 * start)
        return np.frombuffer(data, dtype=np.uint32)

    def get_set(self, slot: int) -> np.ndarray:
        """The document's distinct hashes, sorted."""
        return np.unique(self.get(slot))

    @property
    def disk_bytes(self) -> int:
        return 4 * self._size

    @property
    def nbytes(self) -> int:
        return self._ends.nbytes

    def close(self) -> None:
        self._file.close()


class SignatureFile:
    """Fixed-width uint16 rows per document in a temporary file.

    Holds the low 16 bits of each MinHash bin: enough to estimate a pair's
    similarity (a false agreement costs 1/65536 per bin), at half the size.
    """

    def __init__(self, width: int, directory: str | None = None) -> None:
        self.width = width
        self._file = tempfile.TemporaryFile(dir=directory, buffering=0)
        self._rows = 0

    def append(self, rows: np.ndarray) -> None:
        self._file.write(rows.astype(np.uint16).tobytes())
        self._rows += len(rows)

    def read(self, docs: Sequence[int]) -> np.ndarray:
        """The rows of ``docs``, shape (len(docs), width), uint16."""
        size = 2 * self.width
        fd = self._file.fileno()
        data = b"".join(os.pread(fd, size, size * doc) for doc in docs)
        return np.frombuffer(data, dtype=np.uint16).reshape(len(docs), self.width)

    @property
    def disk_bytes(self) -> int:
        return 2 * self.width * self._rows

    def close(self) -> None:
        self._file.close()


class UnionFind:
    """Union-find over document numbers; the root of a cluster is its earliest document."""

    def __init__(self) -> None:
        self.parent = GrowableArray(np.int32)

    def add(self, count: int) -> None:
        start = len(self.parent)
        self.parent.extend(np.arange(start, start + count, dtype=np.int32))

    def find(self, x: int) -> int:
        parent = self.parent.view
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:  # path compression
            parent[x], x = root, int(parent[x])
        return root

    def union(self, a: int, b: int) -> int:
        """Join the clusters of a and b; the earlier root becomes the root of both."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        root, child = min(ra, rb), max(ra, rb)
        self.parent.view[child] = root
        return root

    def roots(self) -> np.ndarray:
        """The root of every document, vectorised."""
        roots = self.parent.view.astype(np.int64)
        while True:
            nxt = roots[roots]
            if np.array_equal(nxt, roots):
                return roots
            roots = nxt
