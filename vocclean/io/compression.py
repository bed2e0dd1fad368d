"""Transparent (de)compression by file extension or magic bytes.

Reading is guarded against decompression bombs: a compressed input that has
expanded past ``EXPANSION_ALLOWANCE`` bytes and more than ``MAX_EXPANSION``
times the compressed bytes read so far raises ``DecompressionBomb`` (a
ValueError: the reader rejects the file with that reason and goes on). Real
news text compresses 3 to 10 times; a bomb of zeros, 1,000 times or more.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import zstandard

MAX_EXPANSION = 100
EXPANSION_ALLOWANCE = 64 * 1024 * 1024
_BUFFER = 1 << 17

SUFFIXES = (".gz", ".bz2", ".xz", ".zst")

_MAGIC = {
    b"\x1f\x8b": ".gz",
    b"BZh": ".bz2",
    b"\xfd7zXZ\x00": ".xz",
    b"\x28\xb5\x2f\xfd": ".zst",
}


def compression_of(path: str | Path) -> str | None:
    """The compression suffix of a path (".gz"...), or None for plain files."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in SUFFIXES else None


def sniff_compression(head: bytes) -> str | None:
    """The compression a file's first bytes announce, whatever its name."""
    for magic, suffix in _MAGIC.items():
        if head.startswith(magic):
            return suffix
    return None


def strip_compression(name: str) -> str:
    """`a/b.jsonl.gz` -> `a/b.jsonl`."""
    suffix = compression_of(name)
    return name[: -len(suffix)] if suffix else name


# What reading a damaged compressed file raises, besides OSError (gzip's CRC and header errors).
DECOMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError)


class DecompressionBomb(ValueError):
    """A compressed input that expands far more than text does."""


def open_read(path: str | Path) -> IO[bytes]:
    """Open a file for binary reading, decompressing by magic bytes (guarded against bombs)."""
    raw = open(path, "rb")
    try:
        kind = sniff_compression(raw.read(6))
        raw.seek(0)
        if kind is None:
            return raw
        return guard_expansion(decompressor(kind, raw), raw.tell, raw)
    except BaseException:
        raw.close()
        raise


def decompressor(kind: str, raw: IO[bytes]) -> IO[bytes]:
    """A reader of the decompressed bytes of ``raw`` (compression ``kind``, e.g. ".gz")."""
    if kind == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == ".bz2":
        return bz2.BZ2File(raw, "rb")
    if kind == ".xz":
        return lzma.LZMAFile(raw, "rb")
    return _ZstdFrames(raw)


class _ZstdFrames(io.RawIOBase):
    """Concatenated zstd frames, decompressed; a file that ends inside a frame raises ZstdError.

    zstandard's stream_reader ends quietly at a truncated frame (a half-downloaded
    file read as a shorter one). Compressed bytes go in pieces sized by the last
    piece's expansion, so that one piece gives about 1 MiB (at most 8 MiB: a zstd
    block expands at most ~32,000 times) before the expansion guard sees it.
    """

    _OUTPUT = 1 << 20
    _MIN_PIECE, _MAX_PIECE = 256, 1 << 17

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._context = zstandard.ZstdDecompressor()
        self._frame: Any = None
        self._pending = memoryview(b"")
        self._ended = False
        self._piece = self._MIN_PIECE
        self._error: zstandard.ZstdError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending:
            if self._error is not None:
                raise self._error
            if self._ended:
                return 0
            piece = self._raw.read(self._piece)
            if not piece:
                self._ended = True
                if self._frame is not None and not self._frame.eof:
                    raise zstandard.ZstdError("the data ends inside a zstd frame (truncated file)")
                return 0
            out = self._decompress(piece)
            ratio = max(1, len(out) // len(piece))
            self._piece = max(self._MIN_PIECE, min(self._MAX_PIECE, self._OUTPUT // ratio))
            self._pending = memoryview(out)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def _decompress(self, piece: bytes) -> bytes:
        out = []
        while piece:
            if self._frame is None or self._frame.eof:
                self._frame = self._context.decompressobj()
            try:
                out.append(self._frame.decompress(piece))
            except zstandard.ZstdError as error:
                if not out:
                    raise
                self._error = error  # the frames before it come out first
                break
            piece = self._frame.unused_data if self._frame.eof else b""
        return b"".join(out)


def guard_expansion(
    stream: IO[bytes], consumed: Callable[[], int], raw: IO[bytes] | None = None
) -> IO[bytes]:
    """``stream`` buffered, raising DecompressionBomb when it expands too much.

    ``consumed()`` tells how many compressed bytes have been read; ``raw``
    (optional) is closed with the stream.
    """
    return io.BufferedReader(_ExpansionGuard(stream, consumed, raw), buffer_size=_BUFFER)


class _ExpansionGuard(io.RawIOBase):
    def __init__(self, stream: IO[bytes], consumed: Callable[[], int], raw: IO[bytes] | None) -> None:
        self._stream = stream
        self._consumed = consumed
        self._raw = raw
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = self._read_once(buffer)
        self._out += count
        if self._out > EXPANSION_ALLOWANCE and self._out > MAX_EXPANSION * max(self._consumed(), 1):
            raise DecompressionBomb(
                f"it expands more than {MAX_EXPANSION} times ({self._consumed()} compressed bytes gave "
                f"{self._out}): a decompression bomb? Decompress it yourself if it is real data"
            )
        return count

    def _read_once(self, buffer) -> int:
        """One read of the decompressor, never a loop of them: a read that loops (GzipFile.readinto)
        drops what it decompressed when the data ends inside it, and the error comes only at the
        next read, after every byte that could be decompressed."""
        read = getattr(self._stream, "readinto1", self._stream.readinto)  # _ZstdFrames reads once
        return read(buffer)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            if self._raw is not None:
                self._raw.close()
        super().close()


def wrap_write(raw: IO[bytes], name: str | Path) -> IO[bytes]:
    """Wrap a binary file opened for writing in the compressor its name asks for."""
    kind = compression_of(name)
    if kind == ".gz":
        # No name and mtime=0 in the header keep compressed output byte-identical from run to run.
        return gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
    if kind == ".bz2":
        return bz2.BZ2File(raw, "wb")
    if kind == ".xz":
        return lzma.LZMAFile(raw, "wb")
    if kind == ".zst":
        return zstandard.ZstdCompressor().stream_writer(raw, closefd=False)
    return raw
