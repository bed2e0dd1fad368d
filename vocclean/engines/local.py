"""The local engine: per-article steps on every core of one machine, same output as one core.

The chain is cut into stages: a *segment* is a run of consecutive per-article
steps (``per_record`` True), a *whole-stream* step (dedup across documents)
is a stage of its own. Segments run on chunks of records in worker
processes; whole-stream steps run here, in the parent, in stream order, so
their index and decisions stay single and deterministic.

Processes: ``-j N`` works in N processes, ``N - 1`` workers and this one. A
chunk goes to the workers while fewer than ``PENDING_PER_WORKER`` chunks per
worker wait there; otherwise this process cleans it itself, between its own
work (reading, the whole-stream steps, writing), with the code ``-j 1`` runs.
So this process is never idle while the workers are behind, and the chunks
it cleans cost no trip between processes. Each result taken back makes room
at the workers, and the next chunk is sent before the next result is taken:
a worker does not wait while this process hands a run of finished chunks to
the steps after it (a dedup-articles batch). At the end of its input it takes
back the chunks no worker has started (``claim``: whoever renames a chunk's
file first cleans it) rather than wait while the workers work through them.
(Until 2026-11-23 ``-j 2`` started two workers and this process only waited
for them: three processes on two cores, and every chunk's records and
results pickled both ways.) Chunks and results travel as files in the
pool's scratch folder (``PickleFile``), not through the pipes: a worker
never waits for this busy process to fill or empty a pipe.

Order: chunks are submitted in input order and their results taken back in
the same order, and within a chunk every record (live or rejected, by any
step of the segment) keeps its position. Records rejected before a segment
(by the reader or a whole-stream step) wait beside the chunk and are routed
at their position too, so the rejects file is byte-identical to ``-j 1``.

Memory: at most ``PENDING_PER_WORKER`` chunks per worker are in flight, and
one here, each at most ``chunk_records`` records or ``chunk_chars``
characters of text.

Start-up: a pool costs some tens of milliseconds per worker (fork) and more
with spawn; an input of fewer than ``POOL_MIN_CHUNKS`` chunks runs in this
process instead, with the same code, and never starts one.

Stats: workers count into their own copies of the steps; each chunk's
counters come back with it and are added to the parent's step objects, so a
step's ``stats`` read the same after a ``-j 4`` run as after ``-j 1``. A
step's ``seconds`` is its time summed over the workers.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

from vocclean import interrupts
from vocclean.duplicate_finder import PreparedBatch, concatenate
from vocclean.errors import VoccleanError
from vocclean.io.readers import READ, ReadOptions, parse_line
from vocclean.io.spool import (
    Spool,
    SpooledChunk,
    load_chunk,
    load_chunk_apart,
    load_fields,
    pack,
    records_of,
    unpack,
    with_waiting,
    write_chunk,
)
from vocclean.pipeline import CountingIterator, Meter, Pipeline, StepClock, StepStats
from vocclean.record import Record
from vocclean.steps.base import RecordStep, RejectsAside, Step

__all__ = [
    "DEFAULT_CHUNK_CHARS",
    "DEFAULT_CHUNK_RECORDS",
    "POOL_MIN_CHUNKS",
    "ChunkResult",
    "ParallelPipeline",
    "WorkerPool",
    "default_jobs",
    "is_per_record",
    "run_chunk",
    "stages",
]

DEFAULT_CHUNK_RECORDS = 512
DEFAULT_CHUNK_CHARS = 4_000_000
POOL_MIN_CHUNKS = 3
# Chunks waiting at each worker before this process cleans the next one itself: enough that a
# worker never waits for work while this one cleans a chunk (xwlb: about 30 ms a chunk);
# 3, 4, 6 and 8 measured within 2% of each other (bench/LOG.md, 2026-11-23).
PENDING_PER_WORKER = 6
PICKLE_FILE_BUFFER = 1 << 20  # bytes (see PickleFile.write)
LIVE = -1  # reject_step value of a record that left the segment alive
Waiting = list[tuple[int, Record]]  # records rejected earlier, each with the position it comes before


def default_jobs() -> int:
    """All cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def is_per_record(step: Step) -> bool:
    return bool(getattr(step, "per_record", False))


def feeds_of(steps: list[Step]) -> list[Step | None]:
    """For each per-article segment, the step right after it whose ``prepare`` its chunks also run.

    When dedup-articles follows a segment (as in ``clean``), each worker hashes
    its chunk's surviving texts right after cleaning them: the texts never
    cross a pipe a second time, only the arrays come back. The step must say
    its arrays are per text (``prepare_per_text``: chunk pieces join into
    its batches, see ``PreparedFeed``).
    """
    groups = stages(steps)
    feeds: list[Step | None] = []
    for position, group in enumerate(groups):
        if is_per_record(steps[group[0]]):
            after = steps[groups[position + 1][0]] if position + 1 < len(groups) else None
            fed = after is not None and has_prepare(after) and getattr(after, "prepare_per_text", False)
            fed = fed and not is_inline([steps[i] for i in group])
            feeds.append(after if fed else None)
    return feeds


def is_inline(segment: list[Step]) -> bool:
    """A segment whose steps all cost less than a trip to a worker (``Step.inline``): it runs in
    the main process whatever ``-j`` (a lone UTF-8 decode before dedup-articles)."""
    return all(getattr(step, "inline", False) for step in segment)


def segments_of(steps: list[Step]) -> list[list[Step]]:
    """The steps of each segment (run of per-article steps), in order.

    Whole-stream steps with a ``prepare`` hook (dedup-articles) follow, one
    per list, after the segments: workers run their ``prepare`` on batches.
    """
    groups = stages(steps)
    segments = [[steps[i] for i in group] for group in groups if is_per_record(steps[group[0]])]
    return segments + [[step] for step in preparers_of(steps)]


# Sending dedup-articles' batches to workers to hash costs pickling texts out and arrays back.
# Measured on 2 cores (bench/scale.py --parts dedup): -j 2 took 2.3 s against 1.1 s for -j 1,
# so with two workers the hashing stays in the main process; from three workers on, the main
# process is the bottleneck the hashing leaves (not measured here: 2-core machines).
PREPARE_ON_WORKERS_FROM_JOBS = 3


def has_prepare(step: Step) -> bool:
    """A whole-stream step whose costly per-batch work can run on workers (``prepare`` + ``run``)."""
    return not is_per_record(step) and callable(getattr(step, "prepare", None)) and hasattr(step, "run")


def preparers_of(steps: list[Step]) -> list[Step]:
    return [step for step in steps if has_prepare(step)]


def stages(steps: list[Step]) -> list[list[int]]:
    """Indices of the steps grouped into stages: runs of per-article steps, and each other step alone."""
    groups: list[list[int]] = []
    for index, step in enumerate(steps):
        if is_per_record(step) and groups and is_per_record(steps[groups[-1][-1]]):
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


@dataclass
class ChunkResult:
    """A processed chunk: every record in input order and, for each, the segment step that rejected it."""

    records: list[Record]
    reject_step: list[int]
    records_in: list[int]
    rejected: list[int]
    seconds: list[float]
    counters: list[Counter[str]] = field(default_factory=list)
    # The next step's ``prepare`` of the records that left the segment alive (a segment that feeds one).
    prepared: Any = None
    # From a worker: per record (id, text, raw, annotations, rejection, fields or None if unchanged).
    changes: list[tuple] = field(default_factory=list)
    # From a worker that read the chunk from a spool file: the records, packed (``pack``), their
    # input fields ``{}`` unless a step set some (the main process has them: ``load_fields``).
    packed: list[tuple] = field(default_factory=list)


def run_chunk(steps: list[Step], records: list[Record], fresh_counters: bool) -> ChunkResult:
    """Run a segment's steps over one chunk, as the serial pipeline would record by record.

    ``fresh_counters``: clear each step's ``stats`` first and return what this
    chunk added (in a worker); otherwise the steps keep counting in place.
    """
    size = len(steps)
    result = ChunkResult(list(records), [LIVE] * len(records), [0] * size, [0] * size, [0.0] * size)
    positions = list(range(len(records)))
    live = records
    clock = time.perf_counter
    for index, step in enumerate(steps):
        if fresh_counters:
            step.stats.clear()
        started = clock()
        out = list(step(iter(live)))
        result.seconds[index] = clock() - started
        if len(out) != len(live):
            raise RuntimeError(f"{step.name}: a per-record step returned {len(out)} records for {len(live)}")
        result.records_in[index] = len(live)
        kept_positions = []
        kept = []
        for position, record in zip(positions, out, strict=True):
            result.records[position] = record
            if record.rejection is None:
                kept_positions.append(position)
                kept.append(record)
            else:
                result.reject_step[position] = index
        result.rejected[index] = len(live) - len(kept)
        positions, live = kept_positions, kept
        if fresh_counters:
            result.counters.append(Counter(step.stats))
    return result


def live_texts(result: ChunkResult) -> list[str]:
    """The texts of a chunk's records that left the segment alive, in order."""
    return [r.text or "" for r, step in zip(result.records, result.reject_step, strict=True) if step == LIVE]


# Worker process state: the segments' steps and the steps they feed, set once by the pool
# initializer. It exists only inside worker processes; the parent never reads or writes it.
_WORKER_SEGMENTS: list[list[Step]] = []
_WORKER_FEEDS: list[Step | None] = []


def _init_worker(segments: list[list[Step]], feeds: list[Step | None]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's Terminated: a quiet end
    interrupts.release()  # forked with SIGINT held (WorkerPool.call); ignored from now on
    _WORKER_SEGMENTS[:] = segments
    _WORKER_FEEDS[:] = feeds
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True, name="parent-watch").start()


def _exit_with(parent: int, every: float = 0.5) -> None:
    """End this worker when its parent is gone: killed alone (kill -9, the OOM killer), the parent
    closes no pipe the worker waits on, and the worker would wait for work for ever."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def _run_in_worker(segment: int, chunk: PickleFile, result_path: str, notes: bool) -> PickleFile | None:
    """None: the parent took the chunk back before this worker started it (``claim``).
    ``notes`` False: the records' annotations stay here (see ``Pipeline.keeps_notes``)."""
    claimed = claim(chunk.path, BY_WORKER)
    if claimed is None:
        return None
    feed = _WORKER_FEEDS[segment] if segment < len(_WORKER_FEEDS) else None
    records = unpack(PickleFile(claimed).read())
    return PickleFile.write(result_path, run_chunk_remotely(_WORKER_SEGMENTS[segment], records, feed, notes))


def _run_file_in_worker(segment: int, path: str, result_path: str, notes: bool) -> PickleFile | None:
    """A chunk the worker reads from a spool file itself (without the input fields, which its
    steps do not read): its records come back whole, their annotations only with ``notes``.
    None: taken back, as in ``_run_in_worker``."""
    claimed = claim(path, BY_WORKER)
    if claimed is None:
        return None
    feed = _WORKER_FEEDS[segment] if segment < len(_WORKER_FEEDS) else None
    result = _run_and_prepare(_WORKER_SEGMENTS[segment], load_chunk_apart(claimed), feed)
    if not notes:
        for record in result.records:
            record.annotations = {}
    result.packed, result.records = pack(result.records), []
    return PickleFile.write(result_path, result)


BY_WORKER, BY_PARENT = ".worker", ".parent"


def claim(path: str, by: str) -> str | None:
    """Take a chunk's file for one process: renamed (``path`` + ``by``), its new path; None if
    the other side renamed it first. A worker claims its chunk before it starts; the parent, at
    the end of its input, claims the chunks no worker has started, to clean them itself."""
    try:
        os.rename(path, path + by)
    except FileNotFoundError:
        return None
    return path + by


@dataclass(frozen=True)
class PickleFile:
    """A chunk on its way to a worker, or its result on its way back, pickled to a file: only
    the path crosses the pool's pipes, which move data only as fast as a thread of this process
    that needs the GIL empties or fills them (64 KB at a time, each up to a 5 ms switch apart)."""

    path: str

    @classmethod
    def write(cls, path: str, value: Any) -> PickleFile:
        # Straight into the file, through a buffer larger than pickle's 64 KB frames: no copy of
        # the whole pickle in memory first, nor a write call per frame.
        with open(path, "wb", buffering=PICKLE_FILE_BUFFER) as stream:
            pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(path)

    def read(self) -> Any:
        """The value, once: the file is deleted."""
        with open(self.path, "rb") as stream:
            data = stream.read()
        os.unlink(self.path)
        return pickle.loads(data)


def _prepare_in_worker(segment: int, texts: list[str]) -> Any:
    return _WORKER_SEGMENTS[segment][0].prepare(texts)


def _run_and_prepare(steps: list[Step], records: list[Record], feed: Step | None) -> ChunkResult:
    """A chunk run in a worker (its counters fresh), with ``feed``'s ``prepare`` of what survived."""
    result = run_chunk(steps, records, fresh_counters=True)
    if feed is not None:
        result.prepared = feed.prepare(live_texts(result))
    return result


def run_chunk_remotely(
    steps: list[Step], records: list[Record], feed: Step | None = None, notes: bool = True
) -> ChunkResult:
    """Run a chunk in a worker and send back what steps change, not the input fields they left alone.

    ``feed``: the whole-stream step after the segment; its ``prepare`` of the
    surviving texts comes back with the chunk. ``notes`` False: not the
    annotations either (``{}``).
    """
    before = [r.fields.copy() for r in records]  # shallow: steps replace values, they do not edit them
    result = _run_and_prepare(steps, records, feed)
    result.changes = [
        (
            r.id,
            r.text,
            r.raw,
            r.annotations if notes else {},
            r.rejection,
            None if r.fields == fields else r.fields,
        )
        for r, fields in zip(result.records, before, strict=True)
    ]
    result.records = []
    return result


def _apply_changes(records: list[Record], result: ChunkResult) -> None:
    """Put a worker's changes into the parent's records (same positions)."""
    for record, change in zip(records, result.changes, strict=True):
        record.id, record.text, record.raw, record.annotations, record.rejection, fields = change
        if fields is not None:
            record.fields = fields
    result.records = records


class WorkerPool:
    """Worker processes holding copies of the segments' steps, started on first use.

    ``processes``: how many (default ``jobs``). ``shares_work``: fewer than
    ``jobs``, the caller cleaning chunks too (``Segment``). ``notes`` False:
    chunks come back without their records' annotations (nothing reads them).
    """

    prepare_on_workers_from_jobs = PREPARE_ON_WORKERS_FROM_JOBS

    def __init__(
        self,
        jobs: int,
        segments: list[list[Step]],
        feeds: list[Step | None] | None = None,
        processes: int | None = None,
        notes: bool = True,
    ) -> None:
        self.jobs = jobs
        self.notes = notes
        self.processes = max(1, processes if processes is not None else jobs)
        self.shares_work = self.processes < jobs
        self.segments = segments
        self.feeds = feeds or []
        self._executor: ProcessPoolExecutor | None = None
        self._scratch: str | None = None  # chunks and results on their way (PickleFile)
        self._files = 0
        self._chunk_files: dict[Future[Any], str] = {}  # the chunk file of each future not taken

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # A step that does not pickle fails now, with its name (it could not run with spawn
            # or on Dask). Forked workers (Linux; all forked at the first submit) inherit the steps
            # as they are then, unpickled: the arguments of a forked process are not pickled, so
            # rule packs, converters and tables are not rebuilt in every worker of every pool.
            _pickled_steps(self.segments + [[feed] for feed in self.feeds if feed is not None])
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context(method),
                initializer=_init_worker,
                initargs=(self.segments, self.feeds),
            )
        return self._executor

    def submit(self, segment: int, records: list[Record], fields: bool = True) -> Future[PickleFile]:
        """``fields`` False: the records' input fields stay here (the segment's steps do not read
        them; half the bytes of xwlb)."""
        chunk = PickleFile.write(self._scratch_path(), pack(records, fields))
        future = self.call(_run_in_worker, segment, chunk, self._scratch_path(), self.notes)
        self._chunk_files[future] = chunk.path
        return future

    def submit_file(self, segment: int, path: str) -> Future[PickleFile]:
        future = self.call(_run_file_in_worker, segment, path, self._scratch_path(), self.notes)
        self._chunk_files[future] = path
        return future

    def take_back(self, future: Future[Any]) -> str | None:
        """The chunk file of ``future`` (renamed) if no worker has started it: that worker will
        skip it, and its result is never to be read. None: a worker has it."""
        path = self._chunk_files.pop(future, None)
        return None if path is None else claim(path, BY_PARENT)

    def _scratch_path(self) -> str:
        """A new file name in the pool's scratch folder (made on first use, removed at close)."""
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="vocclean-pool-")
        self._files += 1
        return os.path.join(self._scratch, f"{self._files}.pickle")

    def submit_prepare(self, segment: int, texts: list[str]) -> Future[Any]:
        return self.call(_prepare_in_worker, segment, texts)

    def call(self, function: Callable[..., Any], *args: Any) -> Future[Any]:
        """``function(*args)`` on a worker (a module-level function: it is pickled by name)."""
        with _worker_deaths():  # a worker that died breaks the pool: no submit either
            if self._executor is not None:
                return self._executor.submit(function, *args)
            with interrupts.held():  # the first submit forks the workers; each sets SIGINT aside
                return self.executor().submit(function, *args)

    def result(self, future: Future[Any]) -> Any:
        chunk = self._chunk_files.pop(future, None)
        with _worker_deaths():
            value = future.result()
        if value is None and chunk is not None:  # not taken back (see take_back): it was gone
            raise VoccleanError(
                f"{chunk}: a chunk file of this run was gone before a worker read it (deleted from "
                "the temporary folder while the run went on?); no partial output was kept. Run "
                "again with TMPDIR set to a folder nothing cleans up"
            )
        return value.read() if isinstance(value, PickleFile) else value

    def close(self, failed: bool = False) -> None:
        executor, self._executor = self._executor, None
        scratch, self._scratch = self._scratch, None
        if executor is not None:
            # A run that is over (Ctrl-C, | head, a full disk) drops the chunks not started and
            # waits for the few in flight. Workers are not killed: one killed while sending its
            # result leaves the executor's manager thread blocked on a half-read message, and the
            # process hangs at exit. Workers ignore SIGINT, so in-flight chunks always finish.
            executor.shutdown(wait=True, cancel_futures=failed)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)  # chunks and results not taken (a failed run)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.close(failed=kind is not None)


@contextmanager
def _worker_deaths() -> Iterator[None]:
    try:
        yield
    except BrokenProcessPool as exc:
        raise VoccleanError(
            "a worker process died (killed, or out of memory?); no partial output was kept. "
            "Run with -j 1 to see which record fails"
        ) from exc


def _pickled_steps(segments: list[list[Step]]) -> bytes:
    try:
        return pickle.dumps(segments, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        for step in (step for segment in segments for step in segment):
            try:
                pickle.dumps(step)
            except (pickle.PicklingError, TypeError, AttributeError) as error:
                raise TypeError(
                    f"step {step.name} ({type(step).__qualname__}) cannot be sent to worker processes: "
                    f"{error}. Give it __getstate__/__setstate__, or run with -j 1"
                ) from error
        raise TypeError(f"the steps cannot be sent to worker processes: {exc}") from exc


class Segment:
    """Runs one segment's steps over a stream in chunks, in workers or here.

    The stream carries live records and records already rejected (by the
    reader or an earlier stage) that are not routed yet: those pass through
    at their position, and this segment's own rejects join them there, so the
    output is the serial pipeline's sequence of live and rejected records.
    """

    def __init__(
        self,
        number: int,
        steps: list[Step],
        stats: list[StepStats],
        pool: Any,
        chunk_records: int = DEFAULT_CHUNK_RECORDS,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        feeds: Step | None = None,
    ) -> None:
        self.number, self.steps, self.stats, self.pool = number, steps, stats, pool
        self.chunk_records, self.chunk_chars = chunk_records, chunk_chars
        self.feed = PreparedFeed(feeds) if feeds is not None else None
        self.send_fields = any(step.reads_fields for step in steps)
        self.here = is_inline(steps)  # never sent to workers

    def __call__(self, stream: Iterable[Record]) -> Iterator[Record]:
        def here(item: tuple[list[Record], Waiting]) -> Iterator[Record]:
            return self._clean_here(*item)

        chunks = _chunks(iter(stream), self.chunk_records, self.chunk_chars)
        head = list(islice(chunks, POOL_MIN_CHUNKS))
        if self.pool.jobs <= 1 or self.here or len(head) < POOL_MIN_CHUNKS:
            for item in chain(head, chunks):
                yield from here(item)
            return

        def send(item: tuple[list[Record], Waiting]) -> tuple[Any, Any]:
            live, waiting = item
            return self.pool.submit(self.number, live, self.send_fields), (live, waiting)

        def collect(future: Any, sent: tuple[list[Record], Waiting]) -> Iterator[Record]:
            return self._collect(future, *sent)

        def reclaim(sent: tuple[list[Record], Waiting], path: str) -> Iterator[Record]:
            os.unlink(path)  # the records are still here
            return here(sent)

        yield from self._in_order(chain(head, chunks), send, here, collect, reclaim)

    def from_spool(self, chunks: Iterable[SpooledChunk]) -> Iterator[Record]:
        """``self(spool.records())``, but each chunk file goes to a worker by its path: the worker
        reads it and sends back the records it cleaned, and this process reads only their input
        fields, so it never decodes the texts only to send them on. The records spooled inline
        (rejected before) wait at their positions. Steps that read the input fields get the
        records sent as ``__call__`` sends them."""
        chunks = iter(chunks)
        if self.send_fields:
            yield from self(records_of(chunks))
            return

        def here(chunk: SpooledChunk) -> Iterator[Record]:
            # A chunk of only inline records (every record rejected in the first pass) has no file.
            live = load_chunk(chunk.path) if chunk.path is not None else []
            return self._clean_here(live, chunk.waiting)

        head = list(islice(chunks, POOL_MIN_CHUNKS))
        if self.pool.jobs <= 1 or self.here or len(head) < POOL_MIN_CHUNKS:
            for chunk in chain(head, chunks):
                yield from here(chunk)
            return

        def send(chunk: SpooledChunk) -> tuple[Any, Any]:
            future = self.pool.submit_file(self.number, chunk.path)
            return future, (load_fields(chunk.path), chunk.waiting)

        def collect(future: Any, sent: tuple[list[dict[str, Any]], Waiting]) -> Iterator[Record]:
            return self._collect_file(future, *sent)

        def reclaim(sent: tuple[list[dict[str, Any]], Waiting], path: str) -> Iterator[Record]:
            fields, waiting = sent  # ``send`` read them (and deleted their file)
            return self._clean_here(load_chunk(path, fields), waiting)

        yield from self._in_order(
            chain(head, chunks), send, here, collect, reclaim, local=lambda chunk: chunk.path is None
        )

    def _in_order(
        self,
        items: Iterable[Any],
        send: Callable[[Any], tuple[Any, Any]],
        here: Callable[[Any], Iterator[Record]],
        collect: Callable[[Any, Any], Iterator[Record]],
        reclaim: Callable[[Any, str], Iterator[Record]],
        local: Callable[[Any], bool] = lambda item: False,
    ) -> Iterator[Record]:
        """The records of ``items`` (chunks) in order: each ``send`` to the workers, or cleaned
        ``here`` when the pool shares the work and enough chunks already wait there (see the
        module's docstring), or when ``local`` says it needs no worker. A pool that does not
        share (Dask's) takes the oldest result back first instead.

        At the end of the items, while the oldest result is not back, this process takes back
        the newest chunk no worker has started (``reclaim``: what ``send`` gave and the chunk's
        file, cleaned here) instead of waiting for the workers to work through their queue."""
        shares = getattr(self.pool, "shares_work", False)
        limit = PENDING_PER_WORKER * self.pool.processes if shares else 2 * self.pool.jobs + 1
        # [future, what ``collect`` needs], or [None, the records of a chunk cleaned here: a
        # generator, so that its arrays reach the next step's feed in order, when taken].
        in_flight: deque[list[Any]] = deque()
        pending = 0  # chunks sent and not taken back

        def take() -> Iterator[Record]:
            nonlocal pending
            future, value = in_flight.popleft()
            if future is None:
                return value
            pending -= 1
            return collect(future, value)

        def reclaim_newest() -> bool:
            """Clean here the newest chunk sent and not started (False: none is left)."""
            nonlocal pending
            for entry in reversed(in_flight):
                future, value = entry
                if future is None:
                    continue
                path = self.pool.take_back(future)
                if path is None:  # a worker has it, and the older ones (workers take them in order)
                    return False
                entry[:] = [None, reclaim(value, path)]
                pending -= 1
                return True
            return False

        for item in items:
            if local(item) or (shares and pending >= limit):
                in_flight.append([None, here(item)])
            else:
                while pending >= limit:  # a pool that does not share: wait for the oldest chunk
                    yield from take()
                in_flight.append(list(send(item)))
                pending += 1
            while in_flight and _ready(in_flight[0][0]):
                yield from take()
                if shares and pending < limit:
                    break
        while in_flight:
            while shares and not _ready(in_flight[0][0]) and reclaim_newest():
                pass
            yield from take()

    def _clean_here(self, live: list[Record], waiting: Waiting) -> Iterator[Record]:
        """A chunk cleaned in this process, with the code ``-j 1`` runs, and its arrays for the
        next step prepared now (handed to it when the records are taken, in order): at the end
        of a pass the chunks cleaned here wait for the workers' older ones, and what is left to
        do once the workers are done is then only the whole-stream steps and writing."""
        result = run_chunk(self.steps, live, fresh_counters=False)
        if self.feed is not None:
            result.prepared = self.feed.step.prepare(live_texts(result))
        return self._emit(result, waiting)

    def _collect(self, future: Any, live: list[Record], waiting: Waiting) -> Iterator[Record]:
        result = self.pool.result(future)
        _apply_changes(live, result)
        yield from self._emit(result, waiting, merge=True)

    def _collect_file(self, future: Any, fields: list[dict[str, Any]], waiting: Waiting) -> Iterator[Record]:
        result = self.pool.result(future)
        # A step that set fields replaces the input fields, as in ``_apply_changes``.
        result.records = [
            kind(id, text, own or input_fields, *rest)
            for (kind, id, text, own, *rest), input_fields in zip(result.packed, fields, strict=True)
        ]
        yield from self._emit(result, waiting, merge=True)

    def _emit(self, result: ChunkResult, waiting: Waiting, merge: bool = False) -> Iterator[Record]:
        if self.feed is not None:  # before the records: the next step asks for a batch's arrays after them
            self.feed.push(result.prepared)
        for index, stats in enumerate(self.stats):
            stats.records_in += result.records_in[index]
            stats.rejected += result.rejected[index]
            stats.records_out += result.records_in[index] - result.rejected[index]
            stats.seconds += result.seconds[index]
            if merge:
                self.steps[index].stats.update(result.counters[index])
        yield from with_waiting(result.records, waiting) if waiting else result.records


def _ready(future: Any) -> bool:
    return future is None or future.done()


def _chunks(
    stream: Iterator[Record], max_records: int, max_chars: int
) -> Iterator[tuple[list[Record], Waiting]]:
    """Live records in chunks, each with the already-rejected records that came before each position."""
    live: list[Record] = []
    waiting: Waiting = []
    chars = 0
    for record in stream:
        if record.rejection is not None:
            waiting.append((len(live), record))
            continue
        live.append(record)
        text = record.text
        chars += len(text) if text is not None else len(record.raw or b"")
        if len(live) >= max_records or chars >= max_chars:
            yield live, waiting
            live, waiting, chars = [], [], 0
    if live or waiting:
        yield live, waiting


class PreparedFeed:
    """The arrays a segment's chunks prepared for the next step, handed out in that step's batches.

    The step pulls a batch of records, then asks for its arrays: every
    record it pulled came out of a chunk whose arrays were pushed first, so
    the arrays of a whole batch (or, at the end, of the rest) are here.
    """

    def __init__(self, step: Step) -> None:
        self.step = step
        self.parts: deque[PreparedBatch] = deque()
        self.offset = 0  # texts of parts[0] already handed out
        self.available = 0

    def push(self, arrays: PreparedBatch) -> None:
        if len(arrays):
            self.parts.append(arrays)
            self.available += len(arrays)

    def batches(self) -> Iterator[PreparedBatch]:
        while True:
            if not self.available:
                raise RuntimeError(f"{self.step.name}: a batch was asked for before its chunks were prepared")
            yield self._take(min(self.step.batch_size, self.available))

    def _take(self, count: int) -> PreparedBatch:
        pieces = []
        self.available -= count
        while count:
            head = self.parts[0]
            end = min(len(head), self.offset + count)
            pieces.append(head if self.offset == 0 and end == len(head) else head.take(self.offset, end))
            count -= end - self.offset
            if end == len(head):
                self.parts.popleft()
                self.offset = 0
            else:
                self.offset = end
        return concatenate(pieces)


class PreparedAhead:
    """Feeds a whole-stream step with a ``prepare`` hook (dedup-articles) so its hashing runs on workers.

    It reads the stream ahead in the step's batches (``batch_size`` live
    records), sends each batch's texts to the pool's workers for
    ``prepare`` (at most ``2 * jobs + 1`` in flight), and replays the
    records it read to the step exactly as the stream would have come:
    rejected records reach ``whole.pulled`` at the point the step pulls
    past them, so they are routed where the serial pipeline routes them.
    ``prepared()`` gives the arrays of each batch in order.

    An input of fewer than ``POOL_MIN_CHUNKS`` batches is prepared here.
    Memory: the records of the batches in flight.
    """

    def __init__(self, stream: Iterator[Record], whole: _WholeStream, pool: Any, segment: int) -> None:
        self.stream, self.whole, self.pool, self.segment = stream, whole, pool, segment
        self.step = whole.step
        self.read: deque[Record] = deque()  # read ahead, live and rejected, in stream order
        self.pending: deque[Any] = deque()  # a future, or (None, arrays) when prepared here
        self.limit = 2 * pool.jobs + 1
        self.started = False
        self.ended = False

    def live(self) -> Iterator[Record]:
        while True:
            if not self.read:
                self._fill(need_records=True)
                if not self.read:
                    return
            record = self.read.popleft()
            if record.rejection is None:
                yield record
            else:
                self.whole.pulled.append(record)

    def prepared(self) -> Iterator[Any]:
        while True:
            if not self.pending:
                self._fill()
                if not self.pending:
                    return
            yield self._result(self.pending.popleft())

    def _fill(self, need_records: bool = False) -> None:
        """Read and submit batches up to the in-flight limit (at least one when the step needs records)."""
        if not self.started:
            self.started = True
            head = [self._read_batch() for _ in range(POOL_MIN_CHUNKS)]
            head = [texts for texts in head if texts]
            here = len(head) < POOL_MIN_CHUNKS
            for texts in head:
                self.pending.append((None, self.step.prepare(texts)) if here else self._submit(texts))
        while not self.ended and (len(self.pending) < self.limit or (need_records and not self.read)):
            texts = self._read_batch()
            if texts:
                self.pending.append(self._submit(texts))

    def _read_batch(self) -> list[str]:
        texts: list[str] = []
        size = self.step.batch_size
        for record in self.stream:
            self.read.append(record)
            if record.rejection is None:
                texts.append(record.text or "")
                if len(texts) == size:
                    return texts
        self.ended = True
        return texts

    def _submit(self, texts: list[str]) -> Any:
        return self.pool.submit_prepare(self.segment, texts)

    def _result(self, pending: Any) -> Any:
        if isinstance(pending, tuple):
            return pending[1]
        return self.pool.result(pending)


def _count(records: Iterator[Record], stats: StepStats) -> Iterator[Record]:
    """Count a stage's output (live and rejected) and pass every record on."""
    for record in records:
        if record.rejection is None:
            stats.records_out += 1
        else:
            stats.rejected += 1
        yield record


class _WholeStream(RejectsAside):
    """A whole-stream step of the chain, run on the live records of a stream that also carries
    unrouted rejects (``RejectsAside``: each is put back where the serial pipeline routes it)."""

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step


class FitMap(RecordStep):
    """The last step of a replay on workers: a record becomes its ``fit_map`` result, nothing else."""

    name = "fit-map"
    key = "fit_map"
    reads_fields = False

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def process(self, record: Record) -> Record:
        result = self.step.fit_map(record)  # type: ignore[attr-defined]
        record.text = record.raw = None
        record.fields, record.annotations = {}, {self.key: result}
        return record


class SpoolFitMap(FitMap):
    """A ``FitMap`` that first writes its chunk's records to a chunk file of the spool.

    A record becomes its ``fit_map`` result and the chunk file's path: the
    text stays in the worker that cleaned it, and the second pass reads it
    from the file.
    """

    def __init__(self, step: Step, directory: str, text_field: str | None = None) -> None:
        super().__init__(step)
        self.directory = directory
        self.text_field = text_field  # see spool.spooled_fields

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        chunk = list(records)
        if not chunk:
            return
        path = write_chunk(self.directory, chunk, self.text_field)
        for record in chunk:  # not RecordStep's guard: a record must not be both spooled and rejected
            self.process(record)
            record.annotations[self.key] = (record.annotations[self.key], path)
            yield record


def _parsed_on_workers(chain: list[Step], records_factory: Any) -> tuple[list[Step], Any, bool]:
    """A replay that can give its JSONL lines unparsed (``Replay.lines``) sends them so, with
    ``ParseLines`` first in the chain; else the chain and the replay as they are. The third value
    says which."""
    lines = getattr(records_factory, "lines", None)
    if lines is None or not is_per_record(chain[0]):
        return chain, records_factory, False
    return [ParseLines(records_factory.options), *chain], lines, True


class ParseLines(RecordStep):
    """The first step of a replay on workers: JSONL lines (JsonLine records) become records there."""

    name = READ
    reads_fields = False

    def __init__(self, options: ReadOptions) -> None:
        super().__init__()
        self.options = options

    def process(self, record: Record) -> Record:
        return parse_line(record, self.options)


class ParallelPipeline(Pipeline):
    """A ``Pipeline`` whose per-article steps run on ``jobs`` worker processes.

    Same output, same rejects in the same order, same stats as ``Pipeline``.
    Rejected records travel with the stream to its end, where they are routed
    in the order the serial pipeline routes them.
    """

    def __init__(
        self,
        steps: Iterable[Step],
        jobs: int | None = None,
        chunk_records: int = DEFAULT_CHUNK_RECORDS,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        super().__init__(steps)
        self.jobs = jobs or default_jobs()
        self.chunk_records = chunk_records
        self.chunk_chars = chunk_chars

    def run(
        self,
        records: Iterable[Record],
        on_reject: Callable[[Record], None],
        records_factory: Callable[[], Iterator[Record]] | None = None,
        spool_dir: str | None = None,
    ) -> Iterator[Record]:
        read = self.stats[0]
        spooled = self._spooled_fit(records_factory, spool_dir)
        spool: Spool | None = None
        if spooled is not None:  # the steps before ``start`` ran in the first pass
            start, spool = spooled
            source = Meter(iter(()))  # the first segment reads the spool's chunk files (see _fold)
        else:
            if records_factory is not None:
                self._fit(records_factory)
            start, source = 0, Meter(_count(iter(records), read))
        steps = self.steps[start:]
        with self._pool(steps, notes=self.keeps_notes) as pool:
            stream = self._fold(source, steps, pool, self.stats[start + 1 :], spool)
            for record in stream:
                if record.rejection is None:
                    yield record
                else:
                    on_reject(record)
        if spooled is None:
            read.seconds = source.seconds
            read.records_in = read.records_out + read.rejected

    def _spooled_fit(
        self, records_factory: Callable[[], Iterator[Record]] | None, spool_dir: str | None
    ) -> tuple[int, Spool] | None:
        """First pass, in parallel: the steps before the two-pass step, for real, their output spooled.

        Workers write the records their chunks leave alive to chunk files and
        send back only ``fit_map`` results (see ``SpoolFitMap``); the records
        rejected on the way come here and are spooled at their position. A
        replay that gives its JSONL lines unparsed has them parsed on the workers.
        """
        index = None if records_factory is None or spool_dir is None else self.spooled_step()
        if index is None:
            return None
        step = self.steps[index]
        text_field = self.spool_text_field(index, records_factory)
        chain: list[Step] = [*self.steps[:index], SpoolFitMap(step, spool_dir, text_field)]
        parse = StepStats(READ)
        stats = [*self.stats[1 : index + 1], StepStats(FitMap.name)]
        chain, records_factory, parsed = _parsed_on_workers(chain, records_factory)
        if parsed:
            stats = [parse, *stats]
        read = self.stats[0]
        source = Meter(_count(records_factory(), read))
        spool = Spool(spool_dir, text_field)

        def digests(stream: Iterator[Record]) -> Iterator[Any]:
            for record in stream:
                if record.rejection is not None:
                    spool.add(record)
                    continue
                digest, path = record.annotations[FitMap.key]
                spool.add_chunk(path)
                yield digest

        with self._pool(chain) as pool:
            mapped = digests(self._fold(source, chain, pool, stats))
            step.fit_reduce(mapped)  # type: ignore[attr-defined]
            deque(mapped, maxlen=0)  # the spool holds the whole stream, however much the step read
        spool.close()
        # The lines parsed on the workers: their rejects are the reader's.
        read.records_out -= parse.rejected
        read.rejected += parse.rejected
        read.seconds = source.seconds + parse.seconds
        read.records_in = read.records_out + read.rejected
        return index, spool

    def _pool(self, steps: list[Step], notes: bool = True) -> Any:
        """Where segments run: a WorkerPool (started on first use) or, on Dask, the cluster.
        This process cleans chunks too (``Segment``): ``jobs - 1`` workers. ``notes``: see
        ``WorkerPool`` (the passes before the last read what their workers noted)."""
        return WorkerPool(
            self.jobs, segments_of(steps), feeds_of(steps), processes=self.jobs - 1, notes=notes
        )

    def _fold(
        self,
        source: Meter,
        steps: list[Step],
        pool: Any,
        all_stats: list[StepStats],
        spool: Spool | None = None,
    ) -> Iterator[Record]:
        """Chain the stages of ``steps`` over ``source`` (live and rejected records), or over the
        ``spool`` when given: its chunk files go to the first stage's workers by path."""
        stream: Iterator[Record] = iter(source)
        previous = source
        segment_number = 0
        feeds = getattr(pool, "feeds", [])  # a pool whose workers also prepare (not Dask's)
        feeding: PreparedFeed | None = None
        for group in stages(steps):
            if is_per_record(steps[group[0]]):
                segment = Segment(
                    segment_number,
                    [steps[i] for i in group],
                    [all_stats[i] for i in group],
                    pool,
                    self.chunk_records,
                    self.chunk_chars,
                    feeds[segment_number] if segment_number < len(feeds) else None,
                )
                feeding = segment.feed
                segment_number += 1
                out = Meter(segment.from_spool(spool.chunks()) if spool is not None else segment(stream))
                spool = None
                stream = iter(out)
            else:
                if spool is not None:
                    raise RuntimeError("a spooled run starts with the two-pass step, a per-article one")
                step, stats = steps[group[0]], all_stats[group[0]]
                whole = _WholeStream(step)
                if feeding is not None and feeding.step is step:
                    stats_in = CountingIterator(whole.live(stream))
                    output = step.run(stats_in, feeding.batches())
                elif has_prepare(step) and pool.jobs >= pool.prepare_on_workers_from_jobs:
                    # Preparers are numbered after the per-article segments (see segments_of).
                    preparers = preparers_of(steps)
                    number = len(segments_of(steps)) - len(preparers) + preparers.index(step)
                    ahead = PreparedAhead(stream, whole, pool, number)
                    stats_in = CountingIterator(ahead.live())
                    output = step.run(stats_in, ahead.prepared())
                else:
                    stats_in = CountingIterator(whole.live(stream))
                    output = step(stats_in)
                out = Meter(_count(iter(output), stats))
                stream = whole.merge(iter(StepClock(out, previous, stats, stats_in)))
                feeding = None
            previous = out
        return stream

    def _fit(self, records_factory: Callable[[], Iterator[Record]]) -> None:
        """Fit two-pass steps, replaying the input through the steps before them, in parallel.

        A step with ``fit_map`` (per record, pure) and ``fit_reduce`` (in input
        order) has the map run on the workers too, at the end of the replay's
        chunks: only its results come back (strip-boilerplate: a fingerprint
        and the short lines' keys, not the text). A replay that can give its
        JSONL lines unparsed (``Replay.lines``) sends them so: the workers
        parse them, the main process only splits lines.
        """
        for index, step in enumerate(self.steps):
            fit = getattr(step, "fit", None)
            if fit is None:
                continue
            # The replay is not the run: it goes through fresh copies of the earlier steps, so
            # neither their counters nor their state (a dedup index) remember the replay.
            before = copy.deepcopy(self.steps[:index])
            mapped = hasattr(step, "fit_map") and hasattr(step, "fit_reduce")
            chain = [*before, FitMap(step)] if mapped else before
            source = records_factory
            if mapped:
                chain, source, _ = _parsed_on_workers(chain, records_factory)
            with self._pool(chain) as pool:

                def replay(
                    chain: list[Step] = chain, pool: Any = pool, source: Any = source
                ) -> Iterator[Record]:
                    scratch = [StepStats(s.name) for s in chain]
                    stream = self._fold(Meter(source()), chain, pool, scratch)
                    return (r for r in stream if r.rejection is None)

                if mapped:
                    step.fit_reduce(r.annotations[FitMap.key] for r in replay())
                else:
                    fit(replay)
