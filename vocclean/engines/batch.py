"""Batch mode: a directory of input files to a directory of outputs, one file per worker at a time.

Used when every step is per-article (after any two-pass ``fit``), every input
is a file and ``-o`` is a directory, with ``-j`` above 1 or ``--resume``.
Each worker reads one input file, runs the whole chain on it and writes its
output file (atomically, under the same relative name as the streaming
engine would); this process only hands out files and keeps the manifest.

The manifest, ``OUT/.vocclean-manifest.jsonl``, gets one line per finished
input (its size and modification time, what was read, written and rejected,
each step's counts) once its output is in place. ``--resume`` skips the
inputs it lists unchanged, and refuses a manifest written by another chain.
A crash between an output's rename and its manifest line only means that
file is done again: nothing is ever duplicated.

Rejects: each input's rejects go to ``OUT/.vocclean/rejects/``; at the end
they are joined in input order into ``--rejects``, so that file is the same
as with the streaming engine, including rejects of files finished by an
earlier, interrupted run. The parts stay for later resumes.

Chains with a step across documents (dedup-articles, dedup-paragraphs
--across-docs) are not run here: their answer for one file depends on every
file before it. They run on the streaming engine (per-article steps still
on ``-j`` workers), and ``--resume`` is refused for them. For a huge dump,
split the job in two commands: the per-article steps in batch mode (resumable),
then the dedup steps over that output (see README.md (Scale)).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vocclean import interrupts
from vocclean.engines.local import ParallelPipeline, WorkerPool, default_jobs, is_per_record
from vocclean.errors import VoccleanError
from vocclean.io.readers import ByteCounter, ReadOptions, Replay, read_input
from vocclean.io.sources import InputFile
from vocclean.io.writers import (
    AtomicFile,
    DirectorySink,
    RecordWriter,
    all_or_nothing,
    join_files,
)
from vocclean.messages import warn
from vocclean.pipeline import BAD_INPUT_STEPS, Pipeline, StepStats, run_totals
from vocclean.progress import Progress
from vocclean.record import Record
from vocclean.report.observer import RunObserver, Sample
from vocclean.steps.base import Step

MANIFEST = ".vocclean-manifest.jsonl"
REJECTS_PARTS = ".vocclean/rejects"
MAX_MESSAGES = 50


def why_not_batch(steps: list[Step], inputs: list[InputFile], output_is_directory: bool, text: bool) -> str:
    """Why this run cannot be a batch run, or "" when it can."""
    if any(source.is_stdin for source in inputs):
        return "stdin is a stream, not a set of files"
    if not output_is_directory:
        return "-o is not a directory (batch mode writes one output per input file)"
    if text:
        return "--format text names outputs by record id, not by input file"
    # A two-pass step (strip-boilerplate --learn) becomes per-article once fitted, before any file runs.
    across = [step.name for step in steps if not is_per_record(step) and getattr(step, "fit", None) is None]
    if across:
        return (
            f"{', '.join(across)} works across documents, so one file's result depends on the files "
            "before it; run the per-article steps with --resume first, then the dedup steps on their output"
        )
    return ""


@dataclass
class FileTask:
    """Inputs sharing one output file (usually one), in input order, and where their rejects go."""

    number: int
    inputs: list[InputFile]
    output: str
    rejects_parts: dict[str, str] | None  # input path -> its rejects part


@dataclass
class FileResult:
    number: int
    read_bytes: int = 0
    records_in: int = 0
    written: int = 0
    rejected: int = 0
    bad_input: int = 0
    messages: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[list[Any]] = field(default_factory=list)  # [step, reason, count], for --report
    samples: list[Sample] = field(default_factory=list)  # this run's, for --report (not in the manifest)


def run_file_task(
    steps: list[Step],
    task: FileTask,
    options: Any,
    strict_error: type[Exception],
    observer: RunObserver | None = None,
) -> FileResult:
    """Run the chain over one task's inputs and commit its output (and rejects part).

    ``observer`` (for ``--report``): a fresh one for this task (``RunObserver.part``), whose
    samples and rejection counts come back in the result.
    """
    for step in steps:
        step.stats.clear()
    pipeline = Pipeline(steps)
    result = FileResult(task.number)
    counter = ByteCounter()
    sink = DirectorySink(options.output)
    sink.expect([source.relative for source in task.inputs])
    output = RecordWriter(sink, options.text_field, options.id_field, options.annotate)
    rejects = (
        RecordWriter(_PartsSink(task.rejects_parts), options.text_field, options.id_field, annotate=True)
        if task.rejects_parts is not None
        else None
    )
    writers = [w for w in (output, rejects) if w is not None]
    read_options = ReadOptions(options.text_field, options.id_field, options.max_record_bytes)

    def on_reject(record: Record) -> None:
        result.rejected += 1
        assert record.rejection is not None
        if record.rejection.step in BAD_INPUT_STEPS:
            result.bad_input += 1
            message = f"{record.source}: {record.rejection.reason}"
            if options.strict:
                raise strict_error(f"{message} (--strict stops here)")
            if len(result.messages) < MAX_MESSAGES:
                result.messages.append(message)
        if rejects is not None:
            rejects.write_reject(record)
        if observer is not None:
            observer.rejected(record)

    with all_or_nothing(writers):
        records = (r for source in task.inputs for r in read_input(source, read_options, counter))
        if observer is not None:
            records = observer.watch(records)
        for record in pipeline.run(records, on_reject):
            output.write(record)
            if observer is not None:
                observer.written(record)
            result.written += 1
    result.read_bytes = counter.bytes
    result.records_in = pipeline.stats[0].records_out + pipeline.stats[0].rejected
    result.steps = [_stats_dict(stats) for stats in pipeline.stats]
    if observer is not None:
        result.rejections = [[step, reason, count] for (step, reason), count in observer.rejections.items()]
        result.samples = observer.samples
    return result


class _PartsSink:
    """One plain JSONL rejects part per input file, each written atomically (empty ones too)."""

    def __init__(self, parts: dict[str, str]) -> None:
        self.files = {name: AtomicFile(path) for name, path in parts.items()}

    def write(self, record: Record, data: bytes) -> None:
        self.files[self._input_of(record)].stream.write(data)

    def _input_of(self, record: Record) -> str:
        """The input path a record came from: its ``source`` is the path, or ``PATH:LINE``.

        A task has more than one input only when inputs share an output name
        (``-i a/ -i b/`` with the same relative name in both).
        """
        if len(self.files) == 1:
            return next(iter(self.files))
        source = record.source
        return max((p for p in self.files if source == p or source.startswith(p + ":")), key=len)

    def commit(self) -> None:
        for handle in self.files.values():
            handle.commit()

    def abort(self) -> None:
        for handle in self.files.values():
            handle.abort()


def _stats_dict(stats: StepStats) -> dict[str, Any]:
    return {
        "name": stats.name,
        "records_in": stats.records_in,
        "records_out": stats.records_out,
        "rejected": stats.rejected,
        "seconds": stats.seconds,
        "counters": dict(stats.counters),
    }


# Worker side: the steps arrive once, pickled, through the pool initializer (see local.WorkerPool).
def _run_in_worker(
    tasks: list[FileTask], options: Any, strict_error: type[Exception], observers: list[RunObserver | None]
) -> list[FileResult]:
    from vocclean.engines import local

    steps = local._WORKER_SEGMENTS[0]
    return [
        run_file_task(steps, task, options, strict_error, observer)
        for task, observer in zip(tasks, observers, strict=True)
    ]


# Small files travel to the workers in groups: a task's trip through the pool costs context
# switches between five threads in three processes, which one-record files paid per file
# (19,876 of them, -j 2: 114,000 voluntary switches and 24-28 s; grouped, 14,000 and 16-17 s).
GROUP_BYTES = 1 << 20
GROUP_TASKS = 256


def _groups(tasks: list[FileTask]) -> Iterator[list[FileTask]]:
    """Consecutive tasks, as many as make GROUP_BYTES of input (at most GROUP_TASKS)."""
    group: list[FileTask] = []
    size = 0
    for task in tasks:
        group.append(task)
        size += sum(_size(source) for source in task.inputs)
        if size >= GROUP_BYTES or len(group) >= GROUP_TASKS:
            yield group
            group, size = [], 0
    if group:
        yield group


def _size(source: InputFile) -> int:
    try:
        return os.stat(source.path).st_size
    except OSError:  # read (and rejected) by the task
        return 0


class Manifest:
    """The finished inputs of a batch run, one JSON line each, appended as they finish."""

    def __init__(self, directory: Path, chain: str, resume: bool, rejects: bool = False) -> None:
        self.path = directory / MANIFEST
        self.chain = chain
        self.rejects = rejects  # this run keeps rejects parts: a file finished without one is redone
        self._stream: IO[str] | None = None
        self.done: dict[str, list[dict[str, Any]]] = {}  # output file -> its task's entries
        directory.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            self._load()
        else:
            self._write_header()

    def _load(self) -> None:
        with open(self.path, encoding="utf-8") as stream:
            lines = [json.loads(line) for line in stream if line.strip()]
        if not lines or lines[0].get("chain") != self.chain:
            raise VoccleanError(
                f"{self.path}: written by a different chain of steps or options; "
                "run without --resume to start over, or rerun the command that wrote it"
            )
        for entry in lines[1:]:  # a task's entries are consecutive lines, its first one first
            if "result" in entry:
                self.done[entry["output"]] = [entry]
            elif entry["output"] in self.done:
                self.done[entry["output"]].append(entry)

    def _write_header(self) -> None:
        with open(self.path, "w", encoding="utf-8") as stream:
            stream.write(json.dumps({"vocclean_manifest": 1, "chain": self.chain}) + "\n")

    def finished(self, task: FileTask) -> dict[str, Any] | None:
        """The counts of ``task`` if an earlier run finished it: the same inputs (path, size and
        time) into the same output, in the same order; else None (redone whole: an input added,
        changed or moved, or two roots' files of one name given in another order)."""
        entries = self.done.get(task.output)
        if entries is None or len(entries) != len(task.inputs):
            return None
        for entry, source in zip(entries, task.inputs, strict=True):
            if entry.get("path") != source.path or entry["identity"] != _identity(source):
                return None
            if self.rejects and not entry.get("rejects"):  # finished by a run without --rejects
                return None
        return entries[0]["result"]

    def add(self, task: FileTask, result: FileResult) -> None:
        entries = []
        for index, source in enumerate(task.inputs):
            entry = {"input": source.relative, "path": source.path, "identity": _identity(source)}
            entry["output"] = task.output
            entry["rejects"] = task.rejects_parts is not None  # its rejects part was kept
            if index == 0:  # a task's counts are recorded once, on its first input
                entry["result"] = {k: v for k, v in vars(result).items() if k not in ("number", "samples")}
            entries.append(entry)
        if self._stream is None:
            self._stream = open(self.path, "a", encoding="utf-8")  # closed by close()
        # ASCII: a file name that is not UTF-8 holds lone surrogates (\udcXX, read back as such).
        # Flushed, not fsynced: a killed run's lines are kept by the kernel, and after a power cut
        # the output files themselves (renamed, never fsynced) may be gone too (0.5 ms a file).
        self._stream.write("".join(json.dumps(e) + "\n" for e in entries))
        self._stream.flush()
        self.done[task.output] = entries

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _identity(source: InputFile) -> list[int]:
    """Size and modification time; a broken link's own (its reject is this run's result for it)."""
    try:
        stat = os.stat(source.path)
    except OSError:
        stat = os.lstat(source.path)
    return [stat.st_size, stat.st_mtime_ns]


def chain_fingerprint(steps: list[Step], options: Any) -> str:
    """The steps, their options and the run options that change output, as a short digest."""
    described = [[type(step).__qualname__, step.name, _options_of(step)] for step in steps] + [
        [options.text_field, options.id_field, options.annotate, options.max_record_bytes]
    ]
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=repr).encode()).hexdigest()[:16]


def _options_of(step: Step) -> dict[str, Any]:
    plain = (str, int, float, bool, type(None))
    return {
        key: value if isinstance(value, plain) else sorted(value, key=repr)
        for key, value in sorted(vars(step).items())
        if not key.startswith("_")
        and key != "stats"
        and (
            isinstance(value, plain)
            or (isinstance(value, tuple | frozenset) and all(isinstance(v, plain) for v in value))
        )
    }


def run_batch(
    steps: list[Step], options: Any, inputs: list[InputFile], observer: RunObserver | None = None
) -> Any:
    """Run a per-article chain file by file on ``-j`` workers; return the runner's RunResult.

    ``observer`` (``--report``) gets each file's samples and rejection counts, in input order,
    as if it had watched the files one after another (files finished by an earlier run: their
    rejection counts, from the manifest, but no samples).
    """
    from vocclean.runner import MAX_BAD_INPUT_MESSAGES, RunResult, StrictStop

    jobs = options.jobs or default_jobs()
    directory = Path(options.output)
    chain = chain_fingerprint(steps, options)
    pipeline = ParallelPipeline(steps, jobs=jobs, chunk_records=options.chunk_records)
    read_options = ReadOptions(options.text_field, options.id_field, options.max_record_bytes)
    if any(getattr(step, "fit", None) is not None for step in pipeline.steps):
        pipeline._fit(Replay(inputs, read_options))  # learn from every input, as streaming does
    unfitted = [step.name for step in pipeline.steps if not is_per_record(step)]
    if unfitted:
        raise VoccleanError(f"{', '.join(unfitted)} still works across documents after learning")
    manifest = Manifest(directory, chain, options.resume, options.rejects is not None)
    if options.resume:  # what a killed run was writing is redone from the start
        _remove_temporary_files(directory)
    tasks = _tasks(inputs, directory, options.rejects is not None)
    result = RunResult()
    totals = run_totals(pipeline.stats)
    todo = []
    for task in tasks:  # each input's size and time read once (a dump has millions of files)
        counts = manifest.finished(task)
        if counts is None:
            todo.append(task)
        else:  # finished by an earlier run: its counts, in input order
            _add(result, totals, FileResult(task.number, **counts), observer)
    progress = Progress(options.progress, ByteCounter())
    messages = 0
    try:
        with closing(_execute(steps, todo, options, jobs, StrictStop, observer)) as results:
            for task, done in results:
                manifest.add(task, done)
                _add(result, totals, done, observer)
                for message in done.messages:
                    messages += 1
                    if messages <= MAX_BAD_INPUT_MESSAGES:
                        warn(message)
                progress.byte_count.bytes += done.read_bytes
                progress.update(result.written)
        progress.finish(result.written)
        if options.rejects is not None:
            _join_rejects(options.rejects, tasks, inputs)
    except BaseException as exc:
        _remove_temporary_files(directory)
        if isinstance(exc, KeyboardInterrupt):
            interrupts.keep_note(
                exc,
                f"the finished files stay in {directory}/ (its manifest lists them): add --resume to go on",
            )
        raise
    finally:
        manifest.close()
    result.steps = totals
    result.records_in = totals[0].records_out + totals[0].rejected if totals else 0
    if result.bad_input:
        where = f"written to {options.rejects}" if options.rejects else "pass --rejects PATH to keep them"
        warn(f"{result.bad_input} record(s) rejected as bad input ({where})")
    return result


def _tasks(inputs: list[InputFile], directory: Path, with_rejects: bool) -> list[FileTask]:
    """One task per output file, its inputs in input order (two inputs may share an output name)."""
    naming = DirectorySink(directory)
    by_output: dict[str, FileTask] = {}
    seen: Counter[str] = Counter()  # inputs so far of each relative name
    for number, source in enumerate(inputs):
        name = naming.output_name(Record(id="", text=None, file=source.relative))
        task = by_output.get(name)
        if task is None:
            task = by_output[name] = FileTask(number, [], name, {} if with_rejects else None)
        task.inputs.append(source)
        if task.rejects_parts is not None:
            task.rejects_parts[source.path] = str(_rejects_part(directory, source, seen[source.relative]))
        seen[source.relative] += 1
    return list(by_output.values())


def _rejects_part(directory: Path, source: InputFile, twin: int) -> Path:
    """The part of one input, named by its relative name (and which input of that name it is, after
    the first), so that a resumed run finds it again."""
    name = source.relative if not twin else f"{source.relative}\0{twin}"
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    return directory / REJECTS_PARTS / f"{digest}.jsonl"


def _execute(
    steps: list[Step],
    tasks: list[FileTask],
    options: Any,
    jobs: int,
    strict_error: type[Exception],
    observer: RunObserver | None = None,
) -> Iterator[tuple[FileTask, FileResult]]:
    """Results in task order; tasks run on ``jobs`` workers (here when there is one task or one job)."""
    part = observer.part if observer is not None else lambda: None
    if jobs <= 1 or len(tasks) <= 1:
        own = pickle.loads(pickle.dumps(steps))  # the run's step objects stay as they were
        for task in tasks:
            yield task, run_file_task(own, task, options, strict_error, part())
        return
    with WorkerPool(jobs, [steps]) as pool:
        waiting: dict[int, FileResult] = {}
        running: dict[Future[list[FileResult]], list[FileTask]] = {}
        queue = _groups(tasks)
        order = iter(tasks)
        expected = next(order, None)
        while expected is not None:
            while len(running) < 2 * jobs and (group := next(queue, None)) is not None:
                observers = [part() for _ in group]
                running[pool.call(_run_in_worker, group, options, strict_error, observers)] = group
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                group = running.pop(future)
                for task, done in zip(group, future.result(), strict=True):
                    waiting[task.number] = done
            while expected is not None and expected.number in waiting:
                yield expected, waiting.pop(expected.number)
                expected = next(order, None)


def _add(result: Any, totals: list[StepStats], done: FileResult, observer: RunObserver | None = None) -> None:
    if observer is not None:
        observer.merge(done.samples, done.rejections)
    result.written += done.written
    result.rejected += done.rejected
    result.bad_input += done.bad_input
    for stats, step in zip(totals, done.steps, strict=True):
        stats.records_in += step["records_in"]
        stats.records_out += step["records_out"]
        stats.rejected += step["rejected"]
        stats.seconds += step["seconds"]
        stats.counters.update(step["counters"])


def _join_rejects(target: str, tasks: list[FileTask], inputs: list[InputFile]) -> None:
    """Every input's rejects part, in input order, into the --rejects file (atomically)."""
    parts = {name: path for task in tasks for name, path in (task.rejects_parts or {}).items()}
    paths = (parts.get(source.path) for source in inputs)
    join_files([path for path in paths if path is not None and os.path.exists(path)], target)


def _remove_temporary_files(directory: Path) -> None:
    """Workers stopped mid-file leave `.NAME.PID.N.tmp` files; a failed run keeps no partial output."""
    for path in directory.rglob(".*.tmp"):
        path.unlink(missing_ok=True)
