"""The Dask engine: the same chain on a Dask cluster, the same output as the local engine.

``--engine dask`` connects to ``--scheduler ADDRESS`` or starts a
``distributed.LocalCluster`` of ``-j`` single-threaded worker processes.
Inputs and outputs may be local paths or fsspec URLs (``s3://``, ``gs://``,
``hdfs://`` with the matching fsspec package installed).

Three plans, chosen from the chain:

- Every step per-article: partitioned by input file. Each input file is one
  Dask task that reads it on a worker, runs the whole chain and writes its
  own output file (one per input, as with the batch engine), so no record
  passes through the client. Needs ``-o`` to be a directory.
- Steps across documents (dedup-articles, dedup-paragraphs --across-docs),
  inputs that are files: the distributed stages of ``dask_chain`` (every
  step on the workers, the dedup steps shuffled; records stay on the
  workers).
- Otherwise (stdin, ``--format text``, ``--strict``, ``dedup-articles
  --clusters``): the client reads the inputs in order, the runs of
  per-article steps go to the workers in chunks (exactly like the local
  engine's worker pool, futures instead of processes), and the steps
  across documents run on the client in stream order (dedup-articles'
  hashing on the workers). Output is byte-identical to the local engine,
  rejects order included.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from vocclean import interrupts
from vocclean.engines.batch import FileResult, FileTask, _add, _tasks, run_file_task, why_not_batch
from vocclean.engines.dask_chain import run_distributed, why_not_distributed
from vocclean.engines.local import (
    DEFAULT_CHUNK_RECORDS,
    ChunkResult,
    ParallelPipeline,
    _pickled_steps,
    default_jobs,
    run_chunk_remotely,
    segments_of,
)
from vocclean.errors import VoccleanError
from vocclean.io.sources import InputFile, expand_inputs, is_url
from vocclean.io.spool import pack, unpack
from vocclean.messages import warn
from vocclean.pipeline import run_totals
from vocclean.record import Record
from vocclean.steps.base import Step

INSTALL_HINT = "the Dask engine needs dask and distributed: pip install 'vocclean[dask]'"


def connect(options: Any, scratch: str | None = None) -> Any:
    """A distributed Client: to ``options.scheduler``, or to a new LocalCluster of ``-j`` workers.

    The local cluster's workers keep their files in ``scratch`` (removed by the caller), not in
    ``$TMPDIR/dask-scratch-space``; its HTTP server takes a free port (8787 may be another
    cluster's: distributed would warn). Its processes ignore SIGINT, so a Ctrl-C is the client's
    alone: it stops them, they do not each print a traceback.
    """
    try:
        from distributed import Client, LocalCluster
        from distributed.gc import disable_gc_diagnosis
    except ImportError as exc:
        raise VoccleanError(INSTALL_HINT) from exc
    if options.scheduler:
        return Client(options.scheduler)
    with interrupts.ignored_by_children():
        cluster = LocalCluster(
            n_workers=options.jobs or default_jobs(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            # Its workers' log lines are noise here: a failed task's error reaches the client,
            # which reports it; on Ctrl-C, the workers stopped mid-task log every broken transfer.
            silence_logs=logging.CRITICAL,
            local_directory=scratch,
            scheduler_kwargs={"local_directory": scratch} if scratch else None,
        )
    # The scheduler (in this process) times every garbage collection in a gc callback, where a
    # KeyboardInterrupt raised is printed and dropped: a Ctrl-C would be lost. Diagnosis only.
    disable_gc_diagnosis(force=True)
    return Client(cluster)


def close(client: Any) -> None:
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def run_dask(steps: list[Step], options: Any, client: Any = None) -> Any:
    """Run the chain on Dask; ``client`` (optional) is an existing distributed Client to use."""
    if options.resume:
        raise VoccleanError(
            "--resume: the Dask engine keeps no manifest of finished files; resume with the local "
            "engine's batch mode (-i DIR -o DIR/ with per-article steps), or run again without it"
        )
    for path in (options.output, options.rejects):
        if path is not None and path != "-" and not is_url(path):
            _can_write(path)
    with ExitStack() as stack:
        staging = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vocclean-dask-")))
        local_options, upload = _localise(options, staging)
        if client is None:
            with interrupts.held():  # a Ctrl-C while the cluster starts is raised once it can be closed
                client = connect(options, str(staging / "workers"))
                stack.callback(close, client)
        inputs = expand_inputs(local_options.inputs)
        directory = _output_is_directory(local_options)
        if not why_not_batch(steps, inputs, directory, local_options.format == "text"):
            result = _run_by_file(client, steps, local_options, inputs)
        elif not why_not_distributed(steps, inputs, local_options):
            result = run_distributed(client, steps, local_options, inputs)
        else:
            result = _run_streaming(client, steps, local_options)
        upload()
        return result


# -- Plan 1: one Dask task per input file ------------------------------------------------------


def _run_by_file(client: Any, steps: list[Step], options: Any, inputs: list[InputFile]) -> Any:
    from vocclean.engines.batch import _join_rejects
    from vocclean.runner import MAX_BAD_INPUT_MESSAGES, RunResult, StrictStop

    pipeline = DaskPipeline(client, steps)
    if any(getattr(step, "fit", None) is not None for step in pipeline.steps):
        pipeline._fit(lambda: _read_all(inputs, options))  # the replay's chunks run on the cluster
    payload = scatter_payload(client, pickle.dumps(steps, protocol=pickle.HIGHEST_PROTOCOL))
    tasks = _tasks(inputs, Path(options.output), options.rejects is not None)
    futures = client.map(
        _file_task_on_worker, tasks, payload=payload, options=options, strict=StrictStop, pure=False
    )
    result = RunResult()
    totals = run_totals(pipeline.stats)
    messages = 0
    for future in futures:
        done: FileResult = future.result()
        _add(result, totals, done)
        for message in done.messages:
            messages += 1
            if messages <= MAX_BAD_INPUT_MESSAGES:
                warn(message)
    if options.rejects is not None:
        _join_rejects(options.rejects, tasks, inputs)
        shutil.rmtree(Path(options.output) / ".vocclean", ignore_errors=True)
    result.steps = totals
    result.records_in = totals[0].records_out + totals[0].rejected
    if result.bad_input:
        where = f"written to {options.rejects}" if options.rejects else "pass --rejects PATH to keep them"
        warn(f"{result.bad_input} record(s) rejected as bad input ({where})")
    return result


def _file_task_on_worker(task: FileTask, payload: bytes, options: Any, strict: type[Exception]) -> FileResult:
    return run_file_task(_steps_on_worker(payload), task, options, strict)


# -- Plan 2: the client streams, workers run chunks --------------------------------------------


def _run_streaming(client: Any, steps: list[Step], options: Any) -> Any:
    from vocclean.runner import run_streaming

    def make_pipeline(chain: list[Step], run_options: Any) -> ParallelPipeline:
        return DaskPipeline(client, chain, chunk_records=run_options.chunk_records)

    return run_streaming(steps, options, pipeline_factory=make_pipeline)


class DaskPipeline(ParallelPipeline):
    """The local engine's pipeline with its worker pool replaced by the Dask cluster.

    No spool: cluster workers may not share this machine's disk, so the steps
    before a two-pass step run in its replay and again in the run.
    """

    spools = False

    def __init__(self, client: Any, steps: list[Step], chunk_records: int = DEFAULT_CHUNK_RECORDS) -> None:
        super().__init__(steps, jobs=_threads(client), chunk_records=chunk_records)
        self.client = client

    def _pool(self, steps: list[Step], notes: bool = True) -> DaskPool:
        return DaskPool(self.client, segments_of(steps))  # notes always come back from Dask


class DaskPool:
    """The segments' steps on a Dask cluster; the same interface as local.WorkerPool."""

    prepare_on_workers_from_jobs = 2  # cluster workers may be other machines: always hash there

    def __init__(self, client: Any, segments: list[list[Step]]) -> None:
        self.client = client
        self.jobs = max(2, _threads(client))  # chunks go to the cluster even with one worker
        self.segments = segments
        self._payload: Any = None

    def submit(self, segment: int, records: list[Record], fields: bool = True) -> Any:
        if self._payload is None:
            self._payload = scatter_payload(self.client, _pickled_steps(self.segments))
        sent = records if fields else unpack(pack(records, fields=False))
        return self.client.submit(_chunk_on_worker, self._payload, segment, sent, pure=False)

    def submit_prepare(self, segment: int, texts: list[str]) -> Any:
        """A whole-stream step's ``prepare`` (dedup-articles' hashing) on a worker."""
        if self._payload is None:
            self._payload = scatter_payload(self.client, _pickled_steps(self.segments))
        return self.client.submit(_prepare_on_worker, self._payload, segment, texts, pure=False)

    def result(self, future: Any) -> Any:
        return future.result()

    def close(self, failed: bool = False) -> None:
        if self._payload is not None:
            self.client.cancel(self._payload)
            self._payload = None

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.close(failed=kind is not None)


# Worker process state: unpickled steps, by digest of their pickle, so that each worker
# unpickles a chain once, not once per chunk. It lives only in Dask worker processes.
_WORKER_STEPS: dict[str, Any] = {}


def _steps_on_worker(payload: bytes) -> Any:
    key = hashlib.sha256(payload).hexdigest()
    steps = _WORKER_STEPS.get(key)
    if steps is None:
        _WORKER_STEPS.clear()
        steps = _WORKER_STEPS[key] = pickle.loads(payload)
    return steps


def scatter_payload(client: Any, payload: bytes) -> Any:
    """``payload`` (pickled steps) on every worker, under a key of its own.

    Not keyed by its content (Dask's default): a run scattering the same bytes
    as an earlier one whose future is being released races with that release,
    and a worker can drop data the scheduler believes it holds; the run then
    waits forever (dask/distributed issues 3703, 8576).
    """
    return client.scatter(payload, broadcast=True, hash=False)


def _chunk_on_worker(payload: bytes, segment: int, records: list[Record]) -> ChunkResult:
    return run_chunk_remotely(_steps_on_worker(payload)[segment], records)


def _prepare_on_worker(payload: bytes, segment: int, texts: list[str]) -> Any:
    return _steps_on_worker(payload)[segment][0].prepare(texts)


def _threads(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


def _can_write(path: str) -> None:
    """Fail now, naming the path, rather than when the output is written after the whole run."""
    folder = Path(path) if path.endswith("/") or os.path.isdir(path) else Path(path).parent
    folder = folder.resolve()
    while not folder.exists():  # made on the way
        folder = folder.parent
    try:  # a probe: permissions alone do not tell (root, read-only or special filesystems)
        with tempfile.TemporaryFile(dir=folder, prefix=".vocclean-probe-"):
            pass
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, path) from exc


# -- fsspec paths --------------------------------------------------------------------------------


def _localise(options: Any, staging: Path) -> tuple[Any, Any]:
    """Options with fsspec URLs replaced by local staging paths, and the function that uploads outputs."""
    inputs = tuple(
        _download(path, staging / f"in{i}") if is_url(path) else path for i, path in enumerate(options.inputs)
    )
    uploads: list[tuple[Path, str]] = []
    output, rejects = options.output, options.rejects
    if is_url(output):
        local = staging / "out" / (Path(output.rstrip("/")).name or "out")
        (local if output.endswith("/") else local.parent).mkdir(parents=True)
        uploads.append((local, output))
        output = f"{local}/" if output.endswith("/") else str(local)
    if rejects is not None and is_url(rejects):
        local = staging / "rejects" / Path(rejects).name
        local.parent.mkdir(parents=True)
        uploads.append((local, rejects))
        rejects = str(local)

    def upload() -> None:
        import fsspec

        for local_path, url in uploads:
            fs, target = fsspec.core.url_to_fs(url)
            if local_path.is_dir():
                fs.put(f"{local_path}/", target.rstrip("/"), recursive=True)
            elif local_path.exists():
                fs.put_file(str(local_path), target)

    return _replace(options, inputs=inputs, output=output, rejects=rejects), upload


def _download(url: str, target: Path) -> str:
    try:
        import fsspec
    except ImportError as exc:
        raise VoccleanError(INSTALL_HINT) from exc
    fs, path = fsspec.core.url_to_fs(url)
    if fs.isdir(path):
        fs.get(path.rstrip("/") + "/", str(target), recursive=True)
        return str(target)
    target.mkdir(parents=True)
    local = target / os.path.basename(path.rstrip("/"))
    fs.get_file(path, str(local))
    return str(local)


def _output_is_directory(options: Any) -> bool:
    target = options.output
    return target != "-" and (Path(target).is_dir() or target.endswith("/") or options.format == "text")


def _replace(options: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(options, **changes)


def _read_all(inputs: list[InputFile], options: Any) -> Iterator[Record]:
    from vocclean.io.readers import ReadOptions, read_inputs

    return read_inputs(inputs, ReadOptions(options.text_field, options.id_field, options.max_record_bytes))
