"""Readers: JSONL, plain-text articles and Parquet, compressed or not.

Every input line or file becomes a Record. Bad input never raises: it becomes
a rejected Record (rejected_by "read") with a reason naming what is wrong, so
that records in = records out + records rejected holds from the first step.

Numbers are written back as they were read: integers of any width exactly
(orjson reads those wider than 64 bits as floats, so such lines are parsed
again by the stdlib parser); other numbers are doubles, as in every JSON
reader (1E2 comes back as 100.0). A line holding a number no double holds
(NaN and Infinity, which are not JSON, or 1e999) is rejected naming its field.
JSONL must be UTF-8, or UTF-16 or UTF-32 known by its start (see
``_WIDE_STARTS``), which is decoded. A compressed file cut short or corrupt
gives every line decompressed before the damage; the line it cuts is rejected.
"""

from __future__ import annotations

import base64
import codecs
import io
import json
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from vocclean.io.compression import (
    DECOMPRESSION_ERRORS,
    DecompressionBomb,
    decompressor,
    guard_expansion,
    open_read,
    sniff_compression,
)
from vocclean.io.sources import InputFile
from vocclean.record import Record

READ = "read"
# What reading a file can raise: the file is then rejected (the lines read before are kept).
_READ_ERRORS = (OSError, ValueError, *DECOMPRESSION_ERRORS)
DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024
# Deeper JSON is refused at read time: orjson writes at most 254 levels, and deeper values
# would need recursion (json's fallback writer, pickle for -j workers) that can overflow.
MAX_JSON_DEPTH = 200
_CHUNK = 1 << 20
# orjson reads an integer wider than 64 bits as a float, of this size at least.
_WIDE = float(2**63)
# A JSONL input in UTF-16 or UTF-32 is known by its start: its BOM and "{", or '{"' without a BOM
# (four bytes or more that random bytes or another encoding's text hardly ever begin with).
_WIDE_STARTS = (
    ("\ufeff{".encode("utf-32-le"), "utf-32"),  # before UTF-16's: the same first bytes
    ("\ufeff{".encode("utf-32-be"), "utf-32"),
    ('{"'.encode("utf-32-le"), "utf-32-le"),
    ('{"'.encode("utf-32-be"), "utf-32-be"),
    ("\ufeff{".encode("utf-16-le"), "utf-16"),
    ("\ufeff{".encode("utf-16-be"), "utf-16"),
    ('{"'.encode("utf-16-le"), "utf-16-le"),
    ('{"'.encode("utf-16-be"), "utf-16-be"),
)


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
    if source.unlisted:
        yield _file_rejected(source, f"cannot list folder: {source.unlisted}; its files were not read")
        return
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
    except _READ_ERRORS as exc:
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


def _unreadable(source: InputFile, exc: BaseException, lines_read: int = 0) -> Record:
    where = f" after line {lines_read}, which was read" if lines_read else ""
    record = _file_rejected(source, f"cannot read file: {_failure(exc)}{where}")
    if not lines_read:  # what a file that is not what its name or first bytes say holds
        record.raw = _file_head(source)
    return record


def _file_head(source: InputFile) -> bytes | None:
    """The first bytes of a file as they are on disk (None from stdin, or when they cannot be read)."""
    if source.is_stdin:
        return None
    try:
        with open(source.path, "rb") as stream:
            return kept_head(stream.read(KEPT_HEAD))
    except OSError:
        return None


def _file_rejected(source: InputFile, reason: str) -> Record:
    """A reject standing for a whole input (or folder) that gave no records: its name, the reason."""
    record = Record(id=source.relative, text=None, source=_name(source), file=source.relative)
    return record.reject(READ, reason)


def _failure(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, DecompressionBomb):
        return str(exc)
    return f"corrupt or truncated data ({exc})"


def _name(source: InputFile) -> str:
    """The input's name in messages and record sources."""
    return "<stdin>" if source.is_stdin else source.path


class _CutShort(Exception):
    """Reading failed inside a line: ``head`` is what was read of it (its first ``limit + 1``
    bytes at most) and ``size`` its length so far."""

    def __init__(self, error: BaseException, head: bytes, size: int) -> None:
        super().__init__(str(error))
        self.error, self.head, self.size = error, head, size


def _read_jsonl(
    stream: IO[bytes], source: InputFile, options: ReadOptions, counter: ByteCounter, lines: bool = False
) -> Iterator[Record]:
    name = _name(source)
    limit = options.max_record_bytes
    number = 0
    stream = _as_utf8(stream)
    try:
        for line, size in _lines(stream, limit):
            number += 1
            counter.bytes += size
            where = f"{name}:{number}"
            if size > len(line):
                record = Record(id=where, text=None, source=where, file=source.relative, raw=kept_head(line))
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
    except _CutShort as cut:
        counter.bytes += cut.size
        if cut.head.strip():
            yield _cut_line(cut, f"{name}:{number + 1}", source)
        else:
            yield _unreadable(source, cut.error, number)


def _as_utf8(stream: IO[bytes]) -> IO[bytes]:
    """``stream``, or a reader of it as UTF-8 when it is UTF-16 or UTF-32."""
    head = stream.peek(8)[:8] if hasattr(stream, "peek") else b""
    for start, encoding in _WIDE_STARTS:
        if head.startswith(start):
            return _Utf8Reader(stream, encoding)  # type: ignore[return-value]
    return stream


class _Utf8Reader:
    """A UTF-16 or UTF-32 stream as UTF-8, a block at a time (``read1``, what _lines reads).

    Bytes that are not of its encoding (half a character at the end, a lone
    surrogate) raise UnicodeDecodeError: the reader keeps the lines before them.
    """

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self._read = stream.read1 if hasattr(stream, "read1") else stream.read
        self._decoder = codecs.getincrementaldecoder(encoding)()

    def read1(self, size: int) -> bytes:
        while block := self._read(size):
            if text := self._decoder.decode(block):
                return text.encode()
        return self._decoder.decode(b"", final=True).encode()


def _cut_line(cut: _CutShort, where: str, source: InputFile) -> Record:
    """The line a read error cut short, rejected whole (its first 1 KiB when over the limit)."""
    raw = cut.head if len(cut.head) == cut.size else kept_head(cut.head)
    record = Record(id=where, text=None, source=where, file=source.relative, raw=raw)
    reason = (
        f"cannot read file: {_failure(cut.error)} inside this line, cut short (the lines before it were read)"
    )
    return record.reject(READ, reason)


def _lines(stream: IO[bytes], limit: int) -> Iterator[tuple[bytes, int]]:
    """Each line of ``stream`` (with its newline) and its size in bytes, read in blocks.

    A line of more than ``limit`` bytes (its newline not counted) comes as
    its first ``limit + 1`` bytes with its whole size: the rest is read past,
    never held, whatever its length. A read that fails (a truncated or corrupt
    compressed file) raises _CutShort with the line it cut, a decompression bomb aside.
    """
    read = stream.read1 if hasattr(stream, "read1") else stream.read  # read1: what a pipe has, now
    data = b""  # the start of a line not ended yet
    long: bytes | None = None  # the head of a line too long, being read past
    size = 0  # that line's size so far
    try:
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
    except DecompressionBomb:
        raise
    except _READ_ERRORS as error:
        raise _CutShort(error, data, len(data)) if long is None else _CutShort(error, long, size) from error
    if long is not None:
        yield long, size
    elif data:
        yield data, len(data)


def parse_json_record(line: bytes, where: str, file: str, options: ReadOptions) -> Record:
    """One JSONL line as a Record, or a rejected Record saying what is wrong with it."""
    value = _parse(line)
    if isinstance(value, _Invalid):
        return _bad_line(line, where, file, value.reason)
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


def _parse(line: bytes) -> Any:
    """The line's JSON value: orjson for speed, the stdlib parser for the rare lines orjson
    refuses or may have read inexactly (integers wider than 64 bits, which it makes floats)."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return _exact_json(line, f"invalid JSON: {error}")
    if isinstance(value, dict) and _wide_float(value):
        # The stdlib parser refuses only what is nested far deeper than the limit (RecursionError).
        return _exact_json(line, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _wide_float(value: dict[str, Any]) -> bool:
    """Whether a float of 2**63 or more is in ``value``: orjson's reading of an integer wider than 64 bits."""
    for item in value.values():
        if type(item) is not str:
            break
    else:
        return False  # the common record, strings only, is not walked (0.1 us, 2% of its parsing)
    pending = [value.values()]
    while pending:
        for item in pending.pop():
            if type(item) is float:
                if not -_WIDE < item < _WIDE:
                    return True
            elif type(item) is dict:
                pending.append(item.values())
            elif type(item) is list:
                pending.append(item)
    return False


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
    def __init__(self, reason: str) -> None:
        self.reason = reason


class _NoDouble:
    """A number token no double holds (NaN, Infinity, 1e999), kept to name it and its field."""

    def __init__(self, token: str) -> None:
        self.token = token


def _double(token: str) -> float | _NoDouble:
    value = float(token)
    return value if math.isfinite(value) else _NoDouble(token)


def _exact_json(line: bytes, reason: str) -> Any:
    """The stdlib parser: integers of any width, exact; it also takes what orjson refuses but
    can be written back (lone surrogate escapes, a UTF-8 BOM). Numbers no double holds reject the
    line: NaN and Infinity are not JSON, and 1e999 would come back as something else."""
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _Invalid(_not_utf8(line, error.start))
    try:
        value = json.loads(text, parse_float=_double, parse_constant=_NoDouble)
    except (ValueError, RecursionError):
        return _Invalid(reason)
    found = _find_no_double(value)
    if found is None:
        return value
    where, token = found
    if token.lstrip("-") in ("NaN", "Infinity"):
        return _Invalid(
            f"invalid JSON: {where} is {token}, which is not JSON; write null or a string instead"
        )
    return _Invalid(
        f"number out of range: {where} is {token}, beyond the range of a double "
        "(JSON readers make it infinity); write it as a string to keep it"
    )


def _not_utf8(line: bytes, offset: int) -> str:
    return (
        f"invalid JSON: the line is not UTF-8 text (byte 0x{line[offset]:02x} at offset {offset}); "
        "convert the file to UTF-8 (iconv -f GB18030 -t UTF-8, say), or give the articles to "
        "fix-encoding as plain-text files, which it decodes in any encoding"
    )


def _find_no_double(value: Any) -> tuple[str, str] | None:
    """The first number no double holds in ``value``: 'the field "a.b[2]"' (or "the line") and its token."""
    pending = [(value, "")]
    while pending:
        item, path = pending.pop()
        if isinstance(item, _NoDouble):
            return (f'the field "{path}"' if path else "the line"), item.token
        if isinstance(item, dict):
            pending.extend((child, f"{path}.{key}" if path else key) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            pending.extend((item[index], f"{path}[{index}]") for index in range(len(item) - 1, -1, -1))
    return None


def _bad_line(line: bytes, where: str, file: str, reason: str) -> Record:
    record = Record(id=where, text=None, source=where, file=file, raw=line.rstrip(b"\r\n"))
    return record.reject(READ, reason)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _id_string(value: Any) -> str:
    """A non-string id as its JSON (``true``, ``[1, 2]``), a number as Python writes it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
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
        record.raw = kept_head(data)
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
            try:
                line = orjson.dumps(row, default=_parquet_value)
            except TypeError:  # a binary value that is not UTF-8 (orjson's error wraps the decode's)
                yield _binary_row(row, where, source)
                continue
            yield parse_json_record(line, where, source.relative, options)


def _binary_row(row: dict[str, Any], where: str, source: InputFile) -> Record:
    """A Parquet row with a value JSON cannot hold, rejected: in the reject, its binary values as base64."""
    binary = [k for k, v in row.items() if isinstance(v, bytes) and not _utf8(v)]
    kept = {k: base64.b64encode(v).decode() if k in binary else v for k, v in row.items()}
    try:
        fields = orjson.loads(orjson.dumps(kept, default=_parquet_value))
    except TypeError:
        fields = {}
    record = Record(id=where, text=None, fields=fields, source=where, file=source.relative)
    if not binary:
        return record.reject(READ, "a value JSON cannot hold")
    reason = f"the field {binary[0]!r} holds binary data, not UTF-8 text, which JSON cannot hold"
    return record.reject(READ, f"{reason}; cast the column")


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parquet_value(value: Any) -> str:
    """A Parquet value JSON has no type for: binary as the UTF-8 text it holds (else an error), others
    (decimals...) as their text. A missing float (null, or NaN as pandas writes it) is null."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


KEPT_HEAD = 1024  # bytes of a line or file too long to keep whole in a reject


def kept_head(data: bytes) -> bytes:
    """The first ``KEPT_HEAD`` bytes of ``data``, the head of something cut (a line over the
    limit, a file cut by damage), without a UTF-8 character split at its end: that would make
    the whole head base64 in the rejects file."""
    head = data[:KEPT_HEAD]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.start >= len(head) - 3:
            return head[: error.start]
    return head


def raw_for_rejects(raw: bytes) -> dict[str, str]:
    """Rejected raw input as JSON-safe fields: text when it is UTF-8, base64 otherwise."""
    try:
        return {"raw": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw_base64": base64.b64encode(raw).decode("ascii")}
