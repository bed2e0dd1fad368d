"""Turn the -i arguments into an ordered list of input files."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from vocclean.errors import VoccleanError
from vocclean.io.compression import strip_compression

STDIN = "-"

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
TEXT_SUFFIXES = (".txt", ".text")
PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True, slots=True)
class InputFile:
    """One input: its path (or "-" for stdin) and its name relative to the -i root.

    ``unlisted``: why a folder of the walk could not be listed (the reader rejects it).
    """

    path: str
    relative: str
    unlisted: str = ""

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN

    @property
    def format(self) -> str:
        """jsonl, text or parquet, from the name; files of other names are sniffed."""
        if self.is_stdin:
            return "jsonl"
        name = strip_compression(self.path.lower())
        if name.endswith(JSONL_SUFFIXES):
            return "jsonl"
        if name.endswith(TEXT_SUFFIXES):
            return "text"
        if name.endswith(PARQUET_SUFFIXES):
            return "parquet"
        return "sniff"


def is_url(path: str) -> bool:
    """An fsspec URL (``s3://``, ``memory://``...); ``file://`` is a local path (see ``local_path``)."""
    return "://" in path and not path.startswith("file://")


def local_path(path: str) -> str:
    """``file:///tmp/x`` (or ``file://localhost/tmp/x``) as ``/tmp/x``; any other path as it is."""
    if not path.startswith("file://"):
        return path
    parsed = urlparse(path)
    if parsed.netloc not in ("", "localhost"):
        raise VoccleanError(f"{path}: a file URL on another host; give a local path")
    return unquote(parsed.path)


def expand_inputs(arguments: list[str] | tuple[str, ...]) -> list[InputFile]:
    """Files, directories (walked recursively, sorted), globs and "-", in argument order."""
    inputs: list[InputFile] = []
    for argument in arguments or (STDIN,):
        if argument == STDIN:
            inputs.append(InputFile(STDIN, "stdin"))
            continue
        path = Path(argument)
        if path.is_dir():
            inputs.extend(InputFile(str(path / name), name, error) for name, error in walk(path))
        elif path.exists():
            inputs.append(InputFile(str(path), path.name))
        elif glob.has_magic(argument):
            matches = sorted(glob.glob(argument, recursive=True))
            files = [m for m in matches if os.path.isfile(m)]
            if not files:
                raise VoccleanError(f"{argument}: the pattern matches no file")
            root = _glob_root(argument)
            inputs.extend(InputFile(m, os.path.relpath(m, root)) for m in files)
        else:
            raise VoccleanError(f"{argument}: no such file or directory")
    return inputs


def walk(root: Path) -> list[tuple[str, str]]:
    """The files under ``root`` (relative name, ""), sorted by path component; hidden files and
    folders skipped.

    Hidden folders hold tools' state (``.git``, an output's ``.vocclean/`` rejects parts), never
    input. Symbolic links to files are files; a broken link is listed, so that reading it
    reports it. Links to folders are not followed. A folder that cannot be listed comes as
    (its relative name, why), so that the run rejects it by name instead of skipping its files.
    """
    found: list[tuple[tuple[str, ...], str]] = []
    unlisted: list[OSError] = []
    for folder, folders, files in os.walk(root, onerror=unlisted.append):
        folders[:] = [name for name in folders if not name.startswith(".")]
        base = Path(folder).relative_to(root).parts
        for name in files:
            full = os.path.join(folder, name)
            if not name.startswith(".") and (os.path.isfile(full) or not os.path.exists(full)):
                found.append(((*base, name), ""))
    for error in unlisted:
        parts = Path(str(error.filename)).relative_to(root).parts
        found.append((parts, error.strerror or str(error)))
    return [("/".join(parts), error) for parts, error in sorted(found)]


def _glob_root(pattern: str) -> str:
    """The directory part of a glob before its first wildcard."""
    parts = Path(pattern).parts
    fixed = [p for p in parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))]]
    return str(Path(*fixed)) if fixed else "."
