"""The spool: records kept on disk between the two passes of a run over files.

A two-pass step (strip-boilerplate's learning) needs the whole input before
it cleans the first record. The first pass runs the steps before it and
spools what they produced, live and rejected records in stream order; the
second pass reads the spool instead of the inputs, so those steps run once.

On disk, in a directory the run owns (and deletes): an index file, a stream
of pickled entries, each either a list of packed records or ``(path,
count)``, the next ``count`` records of a chunk file (a pickled list of
packed records, written by a worker process). A chunk file is deleted as
soon as it has been read. Memory: one chunk at a time; disk: about the size
of the input (the records' text and fields, pickled).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

from vocclean.record import Record

INLINE_RECORDS = 512  # records per inline entry of the index


def pack(records: list[Record], fields: bool = True) -> list[tuple]:
    """Records as tuples of their class and fields, for a pipe or a file: a Record pickles field by
    field, in Python, four times slower (xwlb: 0.13 s to pickle its records in chunks, 0.14 s to
    unpickle them). ``fields`` False: their input fields left out (``{}``)."""
    if not fields:
        return [
            (type(r), r.id, r.text, {}, r.raw, r.source, r.file, r.annotations, r.rejection) for r in records
        ]
    return [
        (type(r), r.id, r.text, r.fields, r.raw, r.source, r.file, r.annotations, r.rejection)
        for r in records
    ]


def unpack(packed: list[tuple]) -> list[Record]:
    return [kind(*fields) for kind, *fields in packed]


def write_chunk(directory: str, records: list[Record]) -> str:
    """Write a chunk file into the spool ``directory`` (from any process); its path."""
    handle, path = tempfile.mkstemp(suffix=".chunk", dir=directory)
    with os.fdopen(handle, "wb") as out:
        pickle.dump(pack(records), out, protocol=pickle.HIGHEST_PROTOCOL)
    return path


class Spool:
    """Write records in stream order (``add``, ``add_chunk``), then read them back once (``records``)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = Path(directory) / "index"
        self._index = open(self.path, "wb")  # closed by ``close``
        self._pending: list[Record] = []
        self._chunk: tuple[str, int] | None = None

    def add(self, record: Record) -> None:
        """One record, spooled inline."""
        self._flush_chunk()
        self._pending.append(record)
        if len(self._pending) >= INLINE_RECORDS:
            self._flush_pending()

    def add_chunk(self, path: str) -> None:
        """The next record of chunk file ``path``."""
        if self._chunk is not None and self._chunk[0] == path:
            self._chunk = (path, self._chunk[1] + 1)
            return
        self._flush_pending()
        self._flush_chunk()
        self._chunk = (path, 1)

    def close(self) -> None:
        self._flush_pending()
        self._flush_chunk()
        self._index.close()

    def records(self) -> Iterator[Record]:
        """Every record spooled, in order (after ``close``)."""
        chunk_path: str | None = None
        chunk: list[tuple] = []
        used = 0
        with open(self.path, "rb") as index:
            while True:
                try:
                    entry = pickle.load(index)
                except EOFError:
                    break
                if isinstance(entry, list):
                    yield from unpack(entry)
                    continue
                path, count = entry
                if path != chunk_path:
                    _remove(chunk_path)
                    with open(path, "rb") as stream:
                        chunk = pickle.load(stream)
                    chunk_path, used = path, 0
                yield from unpack(chunk[used : used + count])
                used += count
        _remove(chunk_path)
        os.unlink(self.path)

    def _flush_pending(self) -> None:
        if self._pending:
            pickle.dump(pack(self._pending), self._index, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def _flush_chunk(self) -> None:
        if self._chunk is not None:
            pickle.dump(self._chunk, self._index, protocol=pickle.HIGHEST_PROTOCOL)
            self._chunk = None


def _remove(path: str | None) -> None:
    if path is not None:
        os.unlink(path)
