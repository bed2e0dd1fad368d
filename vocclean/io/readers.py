"""Readers: JSONL, plain-text articles and Parquet, compressed or not.

Every input line or file becomes a Record. Bad input never raises: it becomes
a rejected Record (rejected_by "read") with a reason naming what is wrong, so
that records in = records out + records rejected holds from the first step.
"""

from __future__ import annotations

import base64
import io
import json
import lzma
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson
import zstandard

from vocclean.io.compression import (
    DecompressionBomb,
    decompressor,
    guard_expansion,
    open_read,
    sniff_compression,
)
from vocclean.io.sources import InputFile
from vocclean.record import Record

READ = "read"
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
# Deeper JSON is refused at read time: orjson writes at most 254 levels, and deeper values
# would need recursion (json's fallback writer, pickle for -j workers) that can overflow.
MAX_JSON_DEPTH = 200
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ReadOptions:
    text_field: str = "text"
    id_field: str = "id"
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    # The input's "vocclean" object (an earlier --annotate run's) becomes the record's annotations;
    # check reads without it, so that earlier findings are not counted again.
    annotations: bool = True


class ByteCounter:
    """Counts the bytes read so far, for progress reporting."""

    def __init__(self) -> None:
        self.bytes = 0


class JsonLine(Record):
    """A JSONL line read but not parsed yet (``raw``, with its newline; ``source`` is FILE:LINE).

    Engines send lines to their worker processes, which parse them
    (``parse_line``), instead of parsing them in the main process.
    """

    __slots__ = ()


def parse_line(record: Record, options: ReadOptions) -> Record:
    """A JsonLine parsed into its Record (or rejected Record); any other record as it is."""
    if type(record) is not JsonLine:
        return record
    assert record.raw is not None
    return parse_json_record(record.raw, record.source, record.file, options)


class Replay:
    """The inputs read again from the start: the ``records_factory`` of two-pass steps.

    Calling it gives the records; ``lines()`` the same with every JSONL
    line as a JsonLine, for an engine whose workers parse them.
    ``counter`` (optional) counts the bytes read, for progress.
    """

    def __init__(
        self, inputs: list[InputFile], options: ReadOptions, counter: ByteCounter | None = None
    ) -> None:
        self.inputs, self.options, self.counter = inputs, options, counter

    def __call__(self) -> Iterator[Record]:
        return read_inputs(self.inputs, self.options, self.counter)

    def lines(self) -> Iterator[Record]:
        return read_inputs(self.inputs, self.options, self.counter, lines=True)


def read_inputs(
    inputs: list[InputFile], options: ReadOptions, counter: ByteCounter | None = None, lines: bool = False
) -> Iterator[Record]:
    """All records of all inputs, in order (``lines``: JSONL lines as JsonLine records, not parsed)."""
    counter = counter or ByteCounter()
    for source in inputs:
        yield from read_input(source, options, counter, lines)


def read_input(
    source: InputFile, options: ReadOptions, counter: ByteCounter, lines: bool = False
) -> Iterator[Record]:
    try:
        if source.is_stdin:
            yield from _read_jsonl(_stdin_stream(), source, options, counter, lines)
            return
        kind = source.format
        if kind == "sniff":
            kind = _sniff_format(source.path)
        if kind == "text":
            yield _read_text_file(source, options, counter)
        elif kind == "parquet":
            yield from _read_parquet(source, options, counter)
        else:
            with open_read(source.path) as stream:
                yield from _read_jsonl(stream, source, options, counter, lines)
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError, zstandard.ZstdError) as exc:
        # Unreadable or corrupt file (permission, truncated gzip, bad zstd frame...):
        # say so, keep a trace of it in the rejects and go on with the next file.
        yield _unreadable(source, exc)


def _stdin_stream() -> IO[bytes]:
    stdin = sys.stdin.buffer
    head = stdin.peek(6)[:6] if hasattr(stdin, "peek") else b""
    kind = sniff_compression(head)
    if kind is None:
        return stdin
    counting = _CountingReader(stdin)
    return guard_expansion(decompressor(kind, counting), lambda: counting.count)  # type: ignore[arg-type]


class _CountingReader(io.RawIOBase):
    """Counts the (compressed) bytes read from a stream that cannot tell its position."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = (
            self.stream.read1(len(buffer)) if hasattr(self.stream, "read1") else self.stream.read(len(buffer))
        )
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def _sniff_format(path: str) -> str:
    """JSONL when the file starts with `{`, plain text otherwise."""
    with open_read(path) as stream:
        head = stream.read(4096)
    return "jsonl" if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "text"


def _unreadable(source: InputFile, exc: BaseException) -> Record:
    if isinstance(exc, OSError):
        reason = f"cannot read file: {exc.strerror or exc}"
    elif isinstance(exc, DecompressionBomb):
        reason = f"cannot read file: {exc}"
    else:
        reason = f"cannot read file: corrupt or truncated data ({exc})"
    record = Record(id=source.relative, text=None, source=source.path, file=source.relative)
    return record.reject(READ, reason)


def _read_jsonl(
    stream: IO[bytes], source: InputFile, options: ReadOptions, counter: ByteCounter, lines: bool = False
) -> Iterator[Record]:
    name = source.path if not source.is_stdin else "<stdin>"
    limit = options.max_record_bytes
    number = 0
    for line, size in _lines(stream, limit):
        number += 1
        counter.bytes += size
        where = f"{name}:{number}"
        if size > len(line):
            record = Record(id=where, text=None, source=where, file=source.relative, raw=line[:1024])
            yield record.reject(
                READ,
                f"line is longer than the maximum record size of {limit} bytes "
                f"({size} bytes); raise --max-record-bytes to accept it",
            )
            continue
        if not line.strip():
            continue
        if lines:
            yield JsonLine(where, None, raw=line, source=where, file=source.relative)
        else:
            yield parse_json_record(line, where, source.relative, options)


def _lines(stream: IO[bytes], limit: int) -> Iterator[tuple[bytes, int]]:
    """Each line of ``stream`` (with its newline) and its size in bytes, read in blocks.

    A line of more than ``limit`` bytes (its newline not counted) comes as
    its first ``limit + 1`` bytes with its whole size: the rest is read past,
    never held, whatever its length.
    """
    read = getattr(stream, "read1", stream.read)  # read1: what a pipe has, without waiting for a block
    data = b""  # the start of a line not ended yet
    long: bytes | None = None  # the head of a line too long, being read past
    size = 0  # that line's size so far
    while block := read(_CHUNK):
        start = 0
        if long is not None:
            end = block.find(b"\n")
            if end < 0:
                size += len(block)
                continue
            yield long, size + end + 1
            long, start = None, end + 1
        elif data:
            block = data + block
        while (end := block.find(b"\n", start)) >= 0:
            yield block[start : min(end + 1, start + limit + 1)], end + 1 - start
            start = end + 1
        data = block[start:]
        if len(data) > limit:
            long, size, data = data[: limit + 1], len(data), b""
    if long is not None:
        yield long, size
    elif data:
        yield data, len(data)


def parse_json_record(line: bytes, where: str, file: str, options: ReadOptions) -> Record:
    """One JSONL line as a Record, or a rejected Record saying what is wrong with it."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        value = _lenient_json(line, exc)
    if isinstance(value, _Invalid):
        return _bad_line(line, where, file, f"invalid JSON: {value.message}")
    if not isinstance(value, dict):
        return _bad_line(line, where, file, f"not a JSON object (a JSON {_json_type(value)})")
    if not _flat(value) and line.count(b"[") + line.count(b"{") > MAX_JSON_DEPTH and _too_deep(value):
        return _bad_line(line, where, file, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    text = value.get(options.text_field)
    if options.text_field not in value:
        return _bad_line(line, where, file, f"no {options.text_field!r} field; name it with --text-field")
    if not isinstance(text, str):
        return _bad_line(
            line, where, file, f"the {options.text_field!r} field is a {_json_type(text)}, not a string"
        )
    raw_id = value.get(options.id_field)
    record_id = where if raw_id is None else raw_id if isinstance(raw_id, str) else _id_string(raw_id)
    own = value.get("vocclean")
    annotations = dict(own) if options.annotations and isinstance(own, dict) else {}
    return Record(id=record_id, text=text, fields=value, source=where, file=file, annotations=annotations)


def _flat(value: dict[str, Any]) -> bool:
    """No value is an object or an array (the object is one level deep): cheaper than counting brackets."""
    return not any(isinstance(item, (dict, list)) for item in value.values())


def _too_deep(value: Any) -> bool:
    """Whether ``value`` nests lists and objects deeper than MAX_JSON_DEPTH (without recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class _Invalid:
    def __init__(self, message: str) -> None:
        self.message = message


def _lenient_json(line: bytes, error: orjson.JSONDecodeError) -> Any:
    """The stdlib parser accepts a little more (NaN, lone surrogate escapes); try it before rejecting."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return _Invalid(str(error))


def _bad_line(line: bytes, where: str, file: str, reason: str) -> Record:
    record = Record(id=where, text=None, source=where, file=file, raw=line.rstrip(b"\r\n"))
    return record.reject(READ, reason)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _id_string(value: Any) -> str:
    if isinstance(value, int | float):
        return str(value)
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # lone surrogates, which orjson refuses and the lenient parser let in
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _read_text_file(source: InputFile, options: ReadOptions, counter: ByteCounter) -> Record:
    """A plain-text article: raw bytes kept until a decoding step runs."""
    with open_read(source.path) as stream:
        data = stream.read(options.max_record_bytes + 1)
    counter.bytes += len(data)
    record = Record(id=source.relative, text=None, raw=data, source=source.path, file=source.relative)
    if len(data) > options.max_record_bytes:
        record.raw = data[:1024]
        return record.reject(
            READ,
            f"file is larger than the maximum record size of {options.max_record_bytes} bytes; "
            "raise --max-record-bytes to accept it",
        )
    if not data.strip():
        return record.reject(READ, "empty file")
    return record


def _read_parquet(source: InputFile, options: ReadOptions, counter: ByteCounter) -> Iterator[Record]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        yield _unreadable(source, ValueError("Parquet input needs pyarrow: pip install 'vocclean[parquet]'"))
        return
    parquet = pq.ParquetFile(source.path)
    number = 0
    for batch in parquet.iter_batches(batch_size=1024):
        counter.bytes += batch.nbytes
        for row in batch.to_pylist():
            number += 1
            where = f"{source.path}:{number}"
            line = orjson.dumps(row, default=str)
            yield parse_json_record(line, where, source.relative, options)


def raw_for_rejects(raw: bytes) -> dict[str, str]:
    """Rejected raw input as JSON-safe fields: text when it is UTF-8, base64 otherwise."""
    try:
        return {"raw": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw_base64": base64.b64encode(raw).decode("ascii")}
