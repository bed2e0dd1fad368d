"""One run: read the inputs, fold the steps, write output and rejects.

This is the Python API behind every chained command line::

    from vocclean.runner import RunOptions, run
    result = run([FixEncoding(), NormalizeScript()], RunOptions(inputs=("dump/",), output="out.jsonl"))
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from vocclean.engines.local import DEFAULT_CHUNK_RECORDS, ParallelPipeline, default_jobs
from vocclean.errors import VoccleanError
from vocclean.io.compression import strip_compression
from vocclean.io.readers import DEFAULT_MAX_RECORD_BYTES, ByteCounter, ReadOptions, Replay, read_inputs
from vocclean.io.sources import InputFile, expand_inputs, is_url, local_path
from vocclean.io.writers import (
    NOTES_FIELD,
    DirectorySink,
    RecordWriter,
    TextDirectorySink,
    all_or_nothing,
    open_output,
    written_in_place,
)
from vocclean.messages import warn
from vocclean.pipeline import BAD_INPUT_STEPS, Pipeline, StepStats
from vocclean.progress import Progress
from vocclean.record import Record
from vocclean.report.observer import RunObserver
from vocclean.steps.base import Step

MAX_BAD_INPUT_MESSAGES = 50


@dataclass(frozen=True)
class RunOptions:
    inputs: tuple[str, ...] = ("-",)
    output: str = "-"
    rejects: str | None = None
    text_field: str = "text"
    id_field: str = "id"
    annotate: bool = False
    progress: bool | None = None
    strict: bool = False
    format: str = "jsonl"
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    # Execution (vocclean.engines): worker processes (None: all cores), local or dask, the
    # Dask scheduler address (None: a local cluster of `jobs` workers), resume a batch run.
    jobs: int | None = None
    engine: str = "local"
    scheduler: str | None = None
    resume: bool = False
    chunk_records: int = DEFAULT_CHUNK_RECORDS

    def __post_init__(self) -> None:
        """Paths as strings; one path given alone (``inputs="a.jsonl"``) is a tuple of one, not of
        its letters."""
        inputs = (self.inputs,) if isinstance(self.inputs, str | os.PathLike) else self.inputs
        object.__setattr__(self, "inputs", tuple(os.fspath(path) for path in inputs))
        for name in ("output", "rejects"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                object.__setattr__(self, name, os.fspath(value))


@dataclass
class RunResult:
    records_in: int = 0
    written: int = 0
    rejected: int = 0
    bad_input: int = 0
    steps: list[StepStats] = field(default_factory=list)


class StrictStop(VoccleanError):
    """--strict: the first bad input record stops the run (exit 1)."""

    exit_code = 1


def inputs_are_files(options: RunOptions) -> bool:
    """True when every input can be read twice (two-pass steps need it)."""
    return all(argument != "-" for argument in options.inputs)


def resolved(options: RunOptions, reports: Sequence[str] = ()) -> RunOptions:
    """``options`` with ``file://`` URLs as paths, refusing paths this engine cannot reach, and
    outputs (``reports``: the run's reports, if any) that are an input or another output.

    The local engine reads no fsspec URL (``s3://``, ``memory://``...): it would take one for a
    file name. Workers of a ``--scheduler`` cluster do not run in this folder: a relative path
    would name another file there.
    """
    inputs = tuple(local_path(path) for path in options.inputs)
    output = local_path(options.output)
    rejects = None if options.rejects is None else local_path(options.rejects)
    reported = [("--report", report) for report in reports]
    _refuse_shared_files(inputs, [("-o", output), ("--rejects", rejects), *reported])
    for flag, name in (("--text-field", options.text_field), ("--id-field", options.id_field)):
        if name == NOTES_FIELD and (options.annotate or rejects is not None):
            raise VoccleanError(
                f"{flag} {NOTES_FIELD}: --annotate and --rejects write vocclean's notes under that "
                "field; rename the field in the input, or run without them"
            )
    paths = [path for path in (*inputs, output, rejects) if path is not None and path != "-"]
    for path in paths:
        if is_url(path) and options.engine != "dask":
            raise VoccleanError(f"{path}: a URL; fsspec URLs are read and written by --engine dask")
        if options.scheduler and not is_url(path) and not os.path.isabs(path):
            raise VoccleanError(
                f"{path}: a relative path; the workers of --scheduler do not run in this folder: "
                f"give {os.path.abspath(path)} (on a filesystem they share)"
            )
    return replace(options, inputs=inputs, output=output, rejects=rejects)


def _refuse_shared_files(inputs: tuple[str, ...], outputs: list[tuple[str, str | None]]) -> None:
    """An output that is an input file or another output: its rename at the end of the run would
    replace that file (an input lost, or one output under the other's name). Outputs written in
    place (``-o /dev/null`` twice, ``/dev/stderr``) may share."""
    files = [("-i", path) for path in inputs if path != "-" and not is_url(path) and os.path.isfile(path)]
    for flag, path in outputs:
        if path is not None and path != "-" and not is_url(path) and not written_in_place(path):
            files.append((flag, path))
    first: dict[str, tuple[str, str]] = {}
    for flag, path in files:
        earlier = first.setdefault(os.path.realpath(path), (flag, path))
        if earlier != (flag, path) and earlier[0] != flag:
            raise VoccleanError(
                f"{flag} {path} is the same file as {earlier[0]} {earlier[1]}: writing it would replace "
                f"{'the input' if earlier[0] == '-i' else 'that output'}; give {flag} a path of its own"
            )


def run(steps: list[Step], options: RunOptions, observer: RunObserver | None = None) -> RunResult:
    """``observer`` (optional, local engine) sees records read, written and rejected, for reports."""
    options = resolved(options)
    if options.engine == "dask":
        from vocclean.engines.dask_engine import run_dask

        return run_dask(steps, options)
    if options.engine != "local":
        raise VoccleanError(f"unknown engine {options.engine!r}: use local or dask")
    inputs = expand_inputs(options.inputs)
    if _is_directory(options):
        _check_output_names(inputs, options.output, options.format == "text")
    if _batch_mode(steps, options, inputs):
        from vocclean.engines.batch import run_batch

        return run_batch(steps, options, inputs, observer)
    return run_streaming(steps, options, observer)


def run_streaming(
    steps: list[Step],
    options: RunOptions,
    observer: RunObserver | None = None,
    pipeline_factory: Callable[[list[Step], RunOptions], Pipeline] | None = None,
) -> RunResult:
    """Read every input in order through one pipeline (serial, worker processes, or Dask chunks)."""
    inputs = expand_inputs(options.inputs)
    read_options = ReadOptions(options.text_field, options.id_field, options.max_record_bytes)
    counter = ByteCounter()
    rejects = _open_rejects(options)
    sink = open_output(options.output, directory=_is_directory(options), text=options.format == "text")
    if isinstance(sink, DirectorySink) and not isinstance(sink, TextDirectorySink):
        sink.expect([source.relative for source in inputs])
    output = RecordWriter(
        sink,
        options.text_field,
        options.id_field,
        options.annotate,
        text=options.format == "text",
    )
    writers = [w for w in (output, rejects) if w is not None]
    result = RunResult()
    pipeline = (pipeline_factory or make_pipeline)(steps, options)
    pipeline.checks_input = False  # the readers' records are of the right types
    pipeline.keeps_notes = options.annotate or rejects is not None or observer is not None

    def on_reject(record: Record) -> None:
        result.rejected += 1
        assert record.rejection is not None
        if record.rejection.step in BAD_INPUT_STEPS:
            result.bad_input += 1
            if options.strict:
                raise StrictStop(f"{record.source}: {record.rejection.reason} (--strict stops here)")
            if result.bad_input <= MAX_BAD_INPUT_MESSAGES:
                warn(f"{record.source}: {record.rejection.reason}")
        if rejects is not None:
            rejects.write_reject(record)
        if observer is not None:
            observer.rejected(record)

    files = inputs_are_files(options)
    # Spooled (see Pipeline.run): the first pass reads the inputs, the second reads the spool, so the
    # first pass counts the bytes read. Not with an observer: it must see each record as read, next
    # to what the steps made of it.
    spooling = files and observer is None and pipeline.spooled_step() is not None
    factory = Replay(inputs, read_options, counter if spooling else None) if files else None
    progress = Progress(options.progress, counter)
    with all_or_nothing(writers), fewer_collections(), spool_directory(spooling) as spool_dir:
        records = read_inputs(inputs, read_options, counter)
        if observer is not None:
            records = observer.watch(records)
        for record in pipeline.run(records, on_reject, factory, spool_dir):
            output.write(record)
            if observer is not None:
                observer.written(record)
            result.written += 1
            progress.update(result.written)
        progress.finish(result.written)
    result.steps = pipeline.stats
    result.records_in = pipeline.stats[0].records_out + pipeline.stats[0].rejected
    if result.bad_input:
        where = f"written to {options.rejects}" if options.rejects else "pass --rejects PATH to keep them"
        warn(f"{result.bad_input} record(s) rejected as bad input ({where})")
    return result


@contextlib.contextmanager
def spool_directory(spooling: bool) -> Iterator[str | None]:
    """A temporary directory for the spool of a run over files (deleted however the run ends)."""
    if not spooling:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="vocclean-spool-") as directory:
        yield directory


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, for the time of a run, leaves alone what exists before it.

    The objects already there (the steps' tables and rules: they live as long
    as the run) are frozen, so full collections do not walk them again; the youngest
    generation is collected every 20,000 new objects, not 700: records
    rarely make reference cycles. xwlb, clean: collections took 0.19 s of
    CPU with -j 1 and 0.24-0.30 s in the main process with -j 2, now 0.05-0.10 s.
    """
    threshold = gc.get_threshold()
    ours = gc.get_freeze_count() == 0  # a program that froze objects itself keeps them frozen
    if ours:
        gc.freeze()
    gc.set_threshold(20_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if ours:
            gc.unfreeze()


def _batch_mode(steps: list[Step], options: RunOptions, inputs: list[InputFile]) -> bool:
    """Directory to directory with per-article steps: files in parallel, resumable (engines/batch.py)."""
    from vocclean.engines.batch import why_not_batch

    reason = why_not_batch(steps, inputs, _is_directory(options), options.format == "text")
    if options.resume:
        if reason:
            raise VoccleanError(f"--resume needs a batch run, but {reason}")
        return True
    jobs = options.jobs or default_jobs()
    return not reason and jobs > 1 and len(inputs) > 1


def make_pipeline(steps: list[Step], options: RunOptions) -> Pipeline:
    """The serial pipeline for -j 1, the worker-process one otherwise (same output)."""
    jobs = options.jobs or default_jobs()
    if jobs <= 1:
        return Pipeline(steps)
    return ParallelPipeline(steps, jobs=jobs, chunk_records=options.chunk_records)


def _check_output_names(inputs: list[InputFile], directory: str, text: bool, shown: int = 5) -> None:
    """A directory output's file names, one pass over the inputs (a dump has millions).

    Refused: an output file over its own input (``-i dump -o dump/``: a JSONL input keeps its
    name). Warned: inputs that write one output file (``a.txt`` and ``a.jsonl`` both give
    ``a.jsonl``; two ``-i`` folders with an ``x.jsonl`` each): their records go in one after the
    other, which the user should know (``--format text`` names files by id: nothing to warn).
    Each folder's real path is looked up once.
    """
    real: dict[str, str] = {}

    def real_path(folder: str) -> str:
        if folder not in real:
            real[folder] = os.path.realpath(folder)
        return real[folder]

    first: dict[str, InputFile] = {}  # output name -> the first input that writes it
    clashes = []
    for source in inputs:
        name = strip_compression(source.relative) if text else DirectorySink.name_for(source.relative)
        target = Path(directory, name)
        local = not source.is_stdin and not is_url(source.path)
        named_alike = (not text or source.format == "text") and target.name == Path(source.path).name
        if (  # --format text names the files of JSONL records by their ids
            local
            and named_alike
            and real_path(str(target.parent)) == real_path(os.path.dirname(source.path) or ".")
        ):
            raise VoccleanError(
                f"-o {directory} would write {target} over its input {source.path}: "
                "give -o a directory of its own"
            )
        if text:
            continue
        earlier = first.setdefault(name, source)
        if earlier.path != source.path:  # two roots' files of one relative name are named by path
            same = earlier.relative == source.relative
            one, other = (earlier.path, source.path) if same else (earlier.relative, source.relative)
            clashes.append(f"{one} and {other} both write {name}")
    for clash in clashes[:shown]:
        warn(f"{clash} (one output per name: the records of both, in input order)")
    if len(clashes) > shown:
        warn(f"{len(clashes) - shown} more inputs share an output name with an earlier one")


def _is_directory(options: RunOptions) -> bool:
    target = options.output
    return target != "-" and (Path(target).is_dir() or target.endswith("/") or options.format == "text")


def _open_rejects(options: RunOptions) -> RecordWriter | None:
    if options.rejects is None:
        return None
    if options.rejects == "-":
        raise VoccleanError("--rejects needs a file path, not stdout")
    sink = open_output(options.rejects, directory=False, text=False)
    return RecordWriter(sink, options.text_field, options.id_field, annotate=True)
