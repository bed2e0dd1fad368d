"""Tables that take a noticeable share of start-up to build, kept on disk between runs.

Two tables are built from Unicode and OpenCC's dictionaries at every start:
the fold table of dedup-articles' shingles (about 0.2 s) and the marker
characters of normalize-script's script detector (two OpenCC passes over
every hanzi, about 0.15 s); and three from Python's codecs and Unicode data:
the common hanzi and hangul of ``vocclean.text.hanzi`` with their character
classes and per-character signatures, and fix-encoding's clean-text gate
(``vocclean.text.clean_gate``), about 0.04 s together. All depend only on
this machine's libraries, so the first run builds them and saves them as
NumPy arrays (strings as their code points, ``cached_strings``); later runs
load them in a few milliseconds. Start-up is serial: it is the part of a run that
extra cores cannot shorten.

Where: ``$VOCCLEAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/vocclean``, else
``~/.cache/vocclean``. ``VOCCLEAN_CACHE_DIR=off`` turns the cache off
(tables are built in every process). A file's name carries a digest of
everything its table is made from: the source of the module that builds it,
the Unicode database's version, Python's and the opencc and NumPy versions; any
change gives a new name, so a stale table is never read. Files are written
to a temporary name and renamed (processes starting together do not read
half a file); a file that does not load is built again and replaced; a
directory that cannot be written leaves the table built in memory, with the
same result. Loaded or built, the arrays are the same (``tests/test_table_cache.py``).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
import opencc

ENV = "VOCCLEAN_CACHE_DIR"
OFF = "off"
Arrays = dict[str, np.ndarray]


def cache_dir() -> Path | None:
    """Where tables are kept (None: the cache is off)."""
    configured = os.environ.get(ENV)
    if configured:
        return None if configured == OFF else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no password entry (a container's arbitrary user)
            return None
    return Path(base) / "vocclean"


def table_path(name: str, source: str | Path) -> Path | None:
    """The file of table ``name`` built by the module at ``source`` (None: the cache is off)."""
    directory = cache_dir()
    if directory is None:
        return None
    digest = hashlib.sha256(Path(source).read_bytes())
    for module in (opencc, np):  # importlib.metadata would add 15 ms to every start
        digest.update(f"\0{module.__name__}={module.__version__}".encode())
    digest.update(f"\0unicode={unicodedata.unidata_version}\0python={sys.version}".encode())
    return directory / f"{name}-{digest.hexdigest()[:20]}.npz"


def cached_arrays(
    name: str, source: str | Path, build: Callable[[], Arrays], keys: tuple[str, ...]
) -> Arrays:
    """The arrays ``build()`` returns (named ``keys``), from the cache when they are there; saved
    there when not.

    ``source``: the file of the module whose code ``build`` runs (its content
    is part of the file's name).
    """
    path = table_path(name, source)
    if path is not None:
        loaded = _load(path)
        if loaded is not None and sorted(loaded) == sorted(keys):
            return loaded
    arrays = build()
    if path is not None:
        _save(path, arrays)
    return arrays


def cached_strings(
    name: str, source: str | Path, build: Callable[[], dict[str, str]], keys: tuple[str, ...]
) -> dict[str, str]:
    """``cached_arrays`` for strings: the strings ``build()`` returns (named ``keys``), kept as
    their code points (lone surrogates included)."""
    arrays = cached_arrays(
        name, source, lambda: {key: _code_points(text) for key, text in build().items()}, keys
    )
    return {
        key: np.ascontiguousarray(points, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
        for key, points in arrays.items()
    }


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _load(path: Path) -> Arrays | None:
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # absent, truncated or not ours: built again


def _save(path: Path, arrays: Arrays) -> None:
    try:
        write_atomically(path, lambda stream: np.savez(stream, **arrays))
    except OSError:
        return  # a read-only or full disk: the table was built, the run goes on


def write_atomically(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """``write`` a file of the cache under a temporary name, then rename it to ``path``: processes
    starting together never read half a file. OSError when the directory cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
