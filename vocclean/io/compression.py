"""Transparent (de)compression by file extension or magic bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path
from typing import IO

import zstandard

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


def open_read(path: str | Path) -> IO[bytes]:
    """Open a file for binary reading, decompressing by magic bytes."""
    with open(path, "rb") as probe:
        head = probe.read(6)
    kind = sniff_compression(head)
    if kind == ".gz":
        return gzip.open(path, "rb")
    if kind == ".bz2":
        return bz2.open(path, "rb")
    if kind == ".xz":
        return lzma.open(path, "rb")
    if kind == ".zst":
        reader = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
        return io.BufferedReader(reader)
    return open(path, "rb")


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
