"""The spool: records kept on disk between the two passes of a run over files.

A two-pass step (strip-boilerplate's learning) needs the whole input before
it cleans the first record. The first pass runs the steps before it and
spools what they produced, live and rejected records in stream order; the
second pass reads the spool instead of the inputs, so those steps run once.

On disk, in a directory the run owns (and deletes): an index file, a stream
of pickled entries, each either a list of packed records or ``(path,
count)``, the next ``count`` records of a chunk file (a pickled list of
packed records without their input fields, written by a worker process, and
beside it the fields). A chunk file is deleted as soon as it has been read.
Memory: one chunk at a time; disk: about the size of the input (the
records' text and fields, pickled).

The input's copy of the text (the value of the text field) is not spooled
when the run says so (``text_field``): the writer puts ``record.text`` in its
place, and no step after the spool reads the input fields. It is kept as
``None``, so the field keeps its place among the others. On xwlb that is
half the bytes of the fields, which the second pass's main process reads.

Read back once: as records in order (``records``), or as the chunk files
with the inline records around each (``chunks``), for the parallel engine's
second pass: it hands each chunk file to the worker that cleans it and reads
only the fields itself, so the main process never decodes the texts it
would only send on.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vocclean.record import Record

INLINE_RECORDS = 512  # records per inline entry of the index
FIELDS = ".fields"  # a chunk file's records' input fields: its path + this


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


def spooled_fields(record: Record, text_field: str | None) -> dict[str, Any]:
    """The input fields to spool: without the text field's value when ``text_field`` is given
    and the record has its text (the writer replaces that value by ``record.text``)."""
    fields = record.fields
    if text_field is None or record.text is None or text_field not in fields:
        return fields
    fields = fields.copy()
    fields[text_field] = None
    return fields


def load_chunk(path: str, fields: list[dict[str, Any]] | None = None) -> list[Record]:
    """The records of a chunk file with their input fields (``fields``: read already, with
    ``load_fields``, else read now); the files are deleted."""
    pairs = zip(_load_once(path), load_fields(path) if fields is None else fields, strict=True)
    return [kind(id, text, own, *rest) for (kind, id, text, _, *rest), own in pairs]


def load_chunk_apart(path: str) -> list[Record]:
    """The records of a chunk file without their input fields (``{}``); the file is deleted."""
    return unpack(_load_once(path))


def load_fields(path: str) -> list[dict[str, Any]]:
    """The input fields of the records of chunk file ``path``, in order; the fields file is deleted."""
    return _load_once(path + FIELDS)


def _load_once(path: str) -> Any:
    with open(path, "rb") as stream:
        value = pickle.load(stream)
    os.unlink(path)
    return value


class SpooledChunk:
    """A chunk file of the spool (``path`` None: no file, only inline records), its ``count``
    records, and the records spooled inline around them: ``waiting`` holds ``(position, record)``,
    each to come before the chunk's record at ``position`` (at ``count``: after the last)."""

    def __init__(self, path: str | None, count: int, waiting: list[tuple[int, Record]]) -> None:
        self.path, self.count, self.waiting = path, count, waiting


def write_chunk(directory: str, records: list[Record], text_field: str | None = None) -> str:
    """Write a chunk file into the spool ``directory`` (from any process); its path.

    The records' input fields go to a file of their own beside it (``path`` +
    ``.fields``): the process that cleans the chunk reads the chunk file, the
    one that writes the output reads the fields, so neither reads what it
    does not use (see ``Spool.chunks``). ``text_field``: see ``spooled_fields``.
    """
    handle, path = tempfile.mkstemp(suffix=".chunk", dir=directory)
    with os.fdopen(handle, "wb") as out:
        pickle.dump(pack(records, fields=False), out, protocol=pickle.HIGHEST_PROTOCOL)
    with open(path + FIELDS, "wb") as out:
        pickle.dump([spooled_fields(r, text_field) for r in records], out, protocol=pickle.HIGHEST_PROTOCOL)
    return path


class Spool:
    """Write records in stream order (``add``, ``add_chunk``), then read them back once (``records``
    or ``chunks``)."""

    def __init__(self, directory: str, text_field: str | None = None) -> None:
        self.directory = directory
        self.text_field = text_field  # see ``spooled_fields``
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

    def entries(self) -> Iterator[list[Record] | tuple[str, int]]:
        """The index's entries in order (after ``close``): records spooled inline, or ``(path,
        count)``, the next ``count`` records of a chunk file. The index is deleted at the end."""
        with open(self.path, "rb") as index:
            while True:
                try:
                    entry = pickle.load(index)
                except EOFError:
                    break
                yield unpack(entry) if isinstance(entry, list) else entry
        os.unlink(self.path)

    def chunks(self) -> Iterator[SpooledChunk]:
        """Every chunk file once, in order, with the records spooled inline around its records
        (after ``close``). The chunk files are left for the reader to load (``load_chunk``)."""
        current = SpooledChunk(None, 0, [])
        for entry in self.entries():
            if isinstance(entry, list):
                current.waiting.extend((current.count, record) for record in entry)
                continue
            path, count = entry
            if path != current.path:
                if current.path is not None:
                    yield current
                    current = SpooledChunk(path, 0, [])
                current.path = path  # the inline records before the first chunk file wait at its start
            current.count += count
        if current.path is not None or current.waiting:
            yield current

    def records(self) -> Iterator[Record]:
        """Every record spooled, in order (after ``close``), one entry in memory at a time (a run
        on one process spools every record inline)."""
        chunk_path: str | None = None
        chunk: list[Record] = []
        used = 0
        for entry in self.entries():
            if isinstance(entry, list):
                yield from entry
                continue
            path, count = entry
            if path != chunk_path:
                chunk, chunk_path, used = load_chunk(path), path, 0
            yield from chunk[used : used + count]
            used += count

    def _flush_pending(self) -> None:
        if self._pending:
            if self.text_field is not None:  # the records added are the spool's: the run reads them back
                for record in self._pending:
                    record.fields = spooled_fields(record, self.text_field)
            pickle.dump(pack(self._pending), self._index, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def _flush_chunk(self) -> None:
        if self._chunk is not None:
            pickle.dump(self._chunk, self._index, protocol=pickle.HIGHEST_PROTOCOL)
            self._chunk = None


def records_of(chunks: Iterable[SpooledChunk]) -> Iterator[Record]:
    """The records of the spool's chunks (input fields included) and the inline ones, in order
    (``records``, from ``chunks``: the inline records between two chunk files are held)."""
    for chunk in chunks:
        yield from with_waiting(load_chunk(chunk.path) if chunk.path is not None else [], chunk.waiting)


def with_waiting(records: list[Record], waiting: list[tuple[int, Record]]) -> Iterator[Record]:
    """``records`` with each of ``waiting``'s ``(position, record)`` before the record at
    ``position`` (at ``len(records)``: after the last), in order."""
    done = 0
    for position, record in waiting:
        yield from records[done:position]
        done = max(done, position)
        yield record
    yield from records[done:]
