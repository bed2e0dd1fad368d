"""Writers: JSONL or plain text to stdout, a file or a directory, atomically.

Files are written under a temporary name beside the final one and renamed when
the run completes, so a crash or Ctrl-C never leaves a half-written file under
the final name. ``abort()`` removes the temporary files. A symbolic link is
followed (the file it points to is replaced, the link stays); a device, FIFO or
socket is written directly (see ``AtomicFile``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import os
import re
import stat
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from vocclean.errors import VoccleanError
from vocclean.io.compression import strip_compression, wrap_write
from vocclean.io.readers import raw_for_rejects
from vocclean.record import Record

# Output files of a directory output kept open at once. Records come in input order, so a file
# is finished when the next one starts; the open ones hold a 256 KiB buffer and their compressor
# (a zstd context: about 2 MB), so only a few stay open (64 held some 250 MB for .zst outputs).
_MAX_OPEN = 4
# Writes per 256 KiB, not 8 KiB: 60 MB of 3 KB lines took 0.10 s of CPU, now 0.04.
_BUFFER = 1 << 18


# The field of an output record that holds vocclean's notes (--annotate) and, in the rejects
# file, why the record was rejected. An input's own field of that name is merged into when it
# is an object (an earlier run's notes), kept otherwise.
NOTES_FIELD = "vocclean"


def record_fields(record: Record, text_field: str, id_field: str, annotate: bool) -> dict[str, Any]:
    """The output object: input fields in order, id first when it was generated, text replaced."""
    fields = record.fields
    if id_field in fields:
        out = dict(fields)
    else:
        out = {id_field: record.id}
        out.update(fields)
    if record.text is not None:
        out[text_field] = record.text
    if annotate and record.annotations:
        earlier = out.get(NOTES_FIELD)
        if earlier is not None and not isinstance(earlier, dict):
            raise VoccleanError(
                f"{record.source}: the record has a {NOTES_FIELD!r} field of its own, not an object, which "
                "--annotate would replace with its notes: rename that field, or run without --annotate"
            )
        out[NOTES_FIELD] = {**earlier, **record.annotations} if earlier else record.annotations
    return out


def reject_fields(record: Record, text_field: str, id_field: str) -> dict[str, Any]:
    """A rejected record, whole, with why it was rejected under ``NOTES_FIELD``."""
    out = record_fields(record, text_field, id_field, annotate=False)
    if record.raw is not None and record.text is None:
        out.update(raw_for_rejects(record.raw))
    rejection = record.rejection
    earlier = out.get(NOTES_FIELD)
    own: dict[str, Any] = dict(earlier) if isinstance(earlier, dict) else {}
    if earlier is not None and not isinstance(earlier, dict):
        own["input_value"] = earlier  # the record's own field of that name, kept
    own.update(record.annotations)
    if rejection is not None:
        own.update(rejected_by=rejection.step, reason=rejection.reason, source=record.source)
        own.update(rejection.details)
    out[NOTES_FIELD] = own
    return out


def dumps(value: dict[str, Any]) -> bytes:
    """One JSONL line. orjson for speed; stdlib json for what orjson refuses (lone surrogates)."""
    try:
        return orjson.dumps(value) + b"\n"
    except TypeError:
        return _dumps_refused(value)


def _dumps_refused(value: dict[str, Any]) -> bytes:
    """A line orjson refused: integers wider than 64 bits go in as written (a Fragment), so that
    the line keeps orjson's form; what it still refuses (lone surrogates) goes to stdlib json."""
    try:
        return orjson.dumps(_wide_ints_as_fragments(value)) + b"\n"
    except TypeError:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str).encode() + b"\n"


def _wide_ints_as_fragments(value: Any) -> Any:
    if type(value) is int and not -(2**63) <= value < 2**64:
        return orjson.Fragment(str(value))
    if type(value) is dict:
        return {key: _wide_ints_as_fragments(item) for key, item in value.items()}
    if type(value) is list:
        return [_wide_ints_as_fragments(item) for item in value]
    return value


class AtomicFile:
    """A binary output file written under a temporary name, renamed on commit.

    A symbolic link is followed to its final target (``os.path.realpath``): the
    temporary file goes beside that target and replaces it, so the link stays a
    link. A target that is (or links to) neither a regular file nor a directory
    (a device such as ``-o /dev/null``, a FIFO, a socket) is opened under the name
    given and written directly, streaming: there is nothing to rename over, and a
    rename would replace the device or FIFO itself with a regular file. A name of
    a descriptor this process inherited (``/dev/stdout``, ``/dev/stderr``, the
    ``/dev/fd/63`` of a shell's ``>(...)``) is written directly too, through a
    copy of the descriptor (``inherited_descriptor``). A failed run may then
    have written part of its output into it, which for /dev/null is harmless.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)  # the name asked for: its extension chooses the compression
        self.descriptor = inherited_descriptor(self.path)
        self.direct = self.descriptor is not None or _is_special_file(self.path)
        if self.direct:
            self.target = self.writing = self.path
        else:
            self.target = Path(os.path.realpath(path))
            self.writing = _temporary_name(self.target)
        with named_path(self.path):
            if not self.direct:
                make_folder(self.target.parent)
            self._open("wb")

    def _open(self, mode: str) -> None:
        if self.descriptor is not None:  # its own copy: closing it leaves the shell's open
            self._raw: IO[bytes] = os.fdopen(os.dup(self.descriptor), mode, buffering=_BUFFER)
        else:
            self._raw = open(self.writing, mode, buffering=_BUFFER)
        self.stream: IO[bytes] = wrap_write(self._raw, self.path)

    def reopen(self) -> None:
        """Open the file again to append (after being closed to save handles)."""
        self._open("ab")

    def suspend(self) -> None:
        """Close the file (again harmlessly), to be reopened or committed."""
        if self.stream is not self._raw:
            self.stream.close()
            # Let the compressor go: a closed zstd writer still holds its context (~0.8 MB), and
            # a directory sink keeps every file it wrote until the run ends (millions of them).
            self.stream = self._raw
        self._raw.close()

    def commit(self) -> None:
        self.suspend()
        if not self.direct:
            with named_path(self.path):
                try:
                    os.replace(self.writing, self.target)
                except OSError:  # a directory of that name, a read-only folder: nothing left behind
                    self.writing.unlink(missing_ok=True)
                    raise

    def abort(self) -> None:
        for stream in (self.stream, self._raw):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        if not self.direct:
            self.writing.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        """A whole file: committed when the block ends, removed when it raises."""
        if kind is None:
            self.commit()
        else:
            self.abort()


def make_folder(folder: Path) -> None:
    """``folder`` and its parents, as ``mkdir -p``; a file in the way is "Not a directory" (mkdir says
    "File exists")."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from exc


@contextlib.contextmanager
def named_path(path: str | Path) -> Iterator[None]:
    """An OSError named by the path the user gave, not by the temporary file or the rename."""
    try:
        yield
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


_temporaries = itertools.count()
_NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs)


def _temporary_name(target: Path) -> Path:
    """A name beside ``target`` no other file of this process uses (two outputs of one run, or of
    one name, never share it), short enough for the file system: a final name of 255 bytes would
    overflow with the suffix, so its start is kept."""
    suffix = f".{os.getpid()}.{next(_temporaries)}.tmp"
    name = os.fsencode(target.name)[: _NAME_MAX - len(suffix) - 1].decode("utf-8", "ignore")
    return target.with_name(f".{name}{suffix}")


# /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N: descriptors this process inherited.
_DESCRIPTOR = re.compile(r"/dev/(?:std(out|err)|fd/(\d+))|/proc/self/fd/(\d+)")


def inherited_descriptor(path: Path) -> int | None:
    """The open descriptor ``path`` names, if any. Written through a copy of it: opening the name
    anew would truncate a file the shell opened to append (``>> log``), and the rename of an
    atomic write would replace that file, not add to it."""
    match = _DESCRIPTOR.fullmatch(str(path))
    if match is None:
        return None
    std, fd, own = match.groups()
    return {"out": 1, "err": 2}[std] if std else int(fd or own)


def written_in_place(path: str | Path) -> bool:
    """Whether an output at ``path`` is written into what is there (a device, FIFO, socket or
    inherited descriptor), not under a temporary name renamed over it."""
    return inherited_descriptor(Path(path)) is not None or _is_special_file(Path(path))


def _is_special_file(path: Path) -> bool:
    """Whether ``path`` is, or links to, a device, FIFO or socket: written directly, never renamed over."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # absent (or unreachable: opening the temporary file says why)
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_all(stream: IO[bytes], data: bytes) -> None:
    """All of ``data`` to ``stream``; BrokenPipeError when stdout's reader has gone.

    Under PYTHONUNBUFFERED (``python -u``, common in containers and CI) ``sys.stdout.buffer``
    is the raw file: one write may take only part of the bytes (to a pipe whose reader
    left mid-write) and say so only in its return value, which ``sys.stdout.write``
    ignores: ``check | head -1`` then ended as if its report had been read whole. The
    next write raises.
    """
    written = stream.write(data)
    while written < len(data):
        data = data[written:]
        written = stream.write(data)


def write_stdout(text: str) -> None:
    """A command's text output (a report, a trace) to stdout as UTF-8, whole or with
    BrokenPipeError (exit 141, see ``write_all``); a lone surrogate is written as its escape."""
    write_all(sys.stdout.buffer, text.encode("utf-8", "backslashreplace"))
    sys.stdout.buffer.flush()


class StdoutSink:
    """Writes lines to stdout."""

    def __init__(self) -> None:
        self.stream = sys.stdout.buffer

    def write(self, record: Record, data: bytes) -> None:
        write_all(self.stream, data)

    def commit(self) -> None:
        self.stream.flush()

    def abort(self) -> None:
        pass


class FileSink:
    """Writes every record to one file (compressed by its extension)."""

    def __init__(self, path: str | Path) -> None:
        self.file = AtomicFile(path)

    def write(self, record: Record, data: bytes) -> None:
        self.file.stream.write(data)

    def commit(self) -> None:
        self.file.commit()

    def abort(self) -> None:
        self.file.abort()


class DirectorySink:
    """One output file per input file, under the same relative name.

    JSONL inputs keep their name (and compression); other inputs get `.jsonl`.
    Files stay open while records arrive in input order; a step that reorders
    (dedup keep-longest) only makes a file be reopened to append.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.files: dict[str, AtomicFile] = {}
        self.open: OrderedDict[str, AtomicFile] = OrderedDict()
        self.expected: list[str] = []
        self.made: set[Path] = set()  # folders its files made: a run that fails takes them back

    def _new_file(self, name: str) -> AtomicFile:
        path = _inside(self.directory, name)
        folder = path.parent
        while not folder.exists():
            self.made.add(folder)
            folder = folder.parent
        return AtomicFile(path)

    def output_name(self, record: Record) -> str:
        return self.name_for(record.file)

    @staticmethod
    def name_for(input_name: str) -> str:
        """The output name of an input file: JSONL inputs keep theirs, others get `.jsonl`."""
        name = input_name or "stdin"
        base = strip_compression(name)
        if base.endswith((".jsonl", ".json", ".ndjson")):
            return name
        return f"{base.rsplit('.', 1)[0] if '.' in Path(base).name else base}.jsonl"

    def expect(self, input_names: list[str]) -> None:
        """Inputs that must each get an output file, empty when all their records were dropped."""
        self.expected = [self.name_for(name) for name in input_names]

    def _file(self, name: str) -> AtomicFile:
        handle = self.open.get(name)
        if handle is not None:
            self.open.move_to_end(name)
            return handle
        handle = self.files.get(name)
        if handle is None:
            handle = self._new_file(name)
            self.files[name] = handle
        else:
            handle.reopen()
        self.open[name] = handle
        if len(self.open) > _MAX_OPEN:
            _, oldest = self.open.popitem(last=False)
            oldest.suspend()
        return handle

    def write(self, record: Record, data: bytes) -> None:
        self._file(self.output_name(record)).stream.write(data)

    def commit(self) -> None:
        for name in self.expected:
            if name not in self.files:
                self.files[name] = self._new_file(name)
                self.open[name] = self.files[name]
        for handle in self.files.values():
            handle.commit()

    def abort(self) -> None:
        """Remove every temporary file, then the folders they made that are left empty (deepest
        first; a folder that holds anything else stays)."""
        for handle in self.files.values():
            handle.abort()
        for folder in sorted(self.made, key=lambda path: len(path.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()


class TextDirectorySink(DirectorySink):
    """Plain-text articles back into files, one per record, named by its id."""

    def __init__(self, directory: str | Path) -> None:
        super().__init__(directory)
        self.ids: dict[str, str] = {}  # file name -> the id of the record written there

    def output_name(self, record: Record) -> str:
        """A plain-text input's relative path; otherwise the id made a safe name, ending in .txt
        (an id such as ``dump/a.jsonl:1`` must not end in ``.jsonl_1``)."""
        if record.file == record.id:
            name = strip_compression(record.id)
            return name if Path(name).suffix else f"{name}.txt"
        name = _safe_name(record.id)
        return name if name.lower().endswith(".txt") else f"{name}.txt"

    def write(self, record: Record, data: bytes) -> None:
        name = self.output_name(record)
        if name in self.files:
            raise VoccleanError(
                f"{name}: records {self.ids[name]!r} and {record.id!r} would be written to the same text "
                "file (their ids give one file name): give them ids that differ in letters or digits"
            )
        handle = self._new_file(name)
        handle.stream.write(data)
        handle.suspend()
        self.files[name] = handle
        self.ids[name] = record.id


_SAFE_NAME_BYTES = 200  # of the 255 a file name may have: room for ".txt" and a temporary suffix


def _safe_name(record_id: str) -> str:
    """The id as a file name: runs of other characters than letters, digits, ``.`` and ``-`` as
    ``_``; a long one cut, with a digest of the whole id so that ids sharing a start stay apart."""
    name = re.sub(r"[^\w.\-]+", "_", record_id).strip("._") or "record"
    if len(name.encode("utf-8", "surrogatepass")) <= _SAFE_NAME_BYTES:
        return name
    digest = hashlib.sha1(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    start = name.encode("utf-8", "surrogatepass")[: _SAFE_NAME_BYTES - len(digest) - 1]
    return f"{start.decode('utf-8', 'ignore')}_{digest}"


def _inside(directory: Path, name: str) -> Path:
    path = (directory / name).resolve()
    if directory.resolve() not in path.parents:
        raise VoccleanError(f"{name}: output name escapes the output directory")
    return path


class RecordWriter:
    """Serialises records to a sink as JSONL (or text)."""

    def __init__(self, sink: Any, text_field: str, id_field: str, annotate: bool, text: bool = False):
        self.sink = sink
        self.text_field = text_field
        self.id_field = id_field
        self.annotate = annotate
        self.text = text
        self.count = 0

    def write(self, record: Record) -> None:
        if self.text:
            data = (record.text or "").encode("utf-8", "surrogatepass")
        else:
            data = dumps(record_fields(record, self.text_field, self.id_field, self.annotate))
        self.sink.write(record, data)
        self.count += 1

    def write_reject(self, record: Record) -> None:
        self.sink.write(record, dumps(reject_fields(record, self.text_field, self.id_field)))
        self.count += 1

    def commit(self) -> None:
        self.sink.commit()

    def abort(self) -> None:
        self.sink.abort()


@contextlib.contextmanager
def all_or_nothing(writers: list[RecordWriter]) -> Iterator[None]:
    """Commit every writer when the block completes; on any error or Ctrl-C, abort them all."""
    try:
        yield
        for writer in writers:
            writer.commit()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise


def join_files(paths: Iterable[str | Path], target: str) -> None:
    """The bytes of ``paths``, in order, into the file ``target`` ("-": stdout), all or nothing."""
    sink = joined(paths, target)
    try:
        sink.commit()
    except BaseException:
        sink.abort()
        raise


def joined(paths: Iterable[str | Path], target: str) -> Any:
    """The sink of ``target`` holding the bytes of ``paths`` in order, not yet committed: the
    caller commits it (with others, at one moment) or aborts it."""
    sink = open_output(target, directory=False, text=False)
    try:
        for path in paths:
            with open(path, "rb") as stream:
                while block := stream.read(1 << 20):
                    sink.write(None, block)
    except BaseException:
        sink.abort()
        raise
    return sink


def open_output(target: str, *, directory: bool, text: bool) -> Any:
    """The sink for -o: "-" is stdout, an existing directory or a path ending in / a directory."""
    if target == "-":
        if text:
            raise VoccleanError("--format text needs -o DIRECTORY (one file per article)")
        return StdoutSink()
    if directory:
        return TextDirectorySink(target) if text else DirectorySink(target)
    if text:
        raise VoccleanError("--format text needs -o DIRECTORY (one file per article)")
    return FileSink(target)
