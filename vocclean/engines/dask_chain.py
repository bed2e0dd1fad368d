"""--engine dask for a chain with dedup across documents: every stage on the workers.

Partitioned by input file (with ``-o`` a directory, the inputs that share
an output file form one partition). The stages run one after the other,
each on every partition, and the partitions stay on the workers between
stages (Dask futures):

- a run of per-article steps: one task per partition (the local engine's
  ``run_chunk``);
- ``dedup-paragraphs --across-docs``: ``dask_paragraphs`` (paragraph
  hashes shuffled);
- ``dedup-articles``: ``dask_articles`` (band keys shuffled, components of
  the candidate graph replayed on workers).

Then each partition writes its output (its own file with ``-o`` a
directory, else a part that the client appends to ``-o`` as bytes) and its
rejects, sorted by the moment the serial pipeline would have routed them;
a worker merges the parts into ``--rejects``. Output, rejects (order
included) and counts are those of the local engine.

The moment of a reject: a step across documents reads its input in
batches (``dedup-paragraphs``: 256 records, ``dedup-articles --keep
first``: ``--batch-size``, other keep policies: the whole input) and
emits a batch only when it has read all of it; what the steps before it
reject is routed as it reads, what it and the steps after it reject as it
emits. So a reject's moment is a tuple, outermost step first, of (batch,
reading or emitting) down to the step whose reading or emitting routes it,
then its place in the input. The batch of a step's read that an inner
batch happens in is found from the first record of that inner batch
(``_round_starts``). Only counts and these small per-batch tables reach
the client.

Tasks leave their inputs as they found them: steps change records in
place, so a task that runs steps first takes its own copies
(``copy_records``). Dask may run a task again (a result released and asked
for once more, a worker lost) on inputs that are still in memory, shared
with other tasks.
"""

from __future__ import annotations

import heapq
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocclean import interrupts
from vocclean.engines.local import is_per_record, run_chunk, stages
from vocclean.io.readers import ByteCounter, ReadOptions, read_input
from vocclean.io.sources import InputFile
from vocclean.io.writers import DirectorySink, RecordWriter, joined, open_output
from vocclean.pipeline import BAD_INPUT_STEPS, Pipeline, run_totals
from vocclean.record import Record
from vocclean.steps.base import Step
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import INDEX_BATCH, DedupParagraphs

__all__ = ["copy_records", "run_distributed", "why_not_distributed"]

LIVE = -1
WHOLE_INPUT = 1 << 62  # the batch of a step that reads everything before it emits
MAX_MESSAGES = 50


def why_not_distributed(steps: list[Step], inputs: list[InputFile], options: Any) -> str:
    """Why the chain cannot run as distributed stages, or "" when it can."""
    if any(source.is_stdin for source in inputs):
        return "stdin is a stream, not a set of files"
    if options.format == "text":
        return "--format text names outputs by record id"
    if options.strict:
        return "--strict stops at the first bad record in stream order"
    whole = [step for step in steps if not is_per_record(step) and getattr(step, "fit", None) is None]
    if not whole:
        return "no step works across documents"
    for step in whole:
        if isinstance(step, DedupArticles) and step.clusters_path is not None:
            return "dedup-articles --clusters writes one file in stream order"
        if not isinstance(step, DedupArticles | DedupParagraphs):
            return f"{step.name} has no distributed plan"
    return ""


def batch_of(step: Step) -> int:
    """How many live records a step across documents reads before it emits them."""
    if isinstance(step, DedupArticles):
        return step.batch_size if step.policy == "first" else WHOLE_INPUT
    return INDEX_BATCH


@dataclass
class _Part:
    """A partition's records (live and rejected, input order) and, per record, who rejected it."""

    records: list[Record]
    rejected_at: list[int]  # index into the pipeline's stats (0: the reader), or LIVE


def _read(sources: list[InputFile], read_options: ReadOptions) -> _Part:
    counter = ByteCounter()
    records = [r for source in sources for r in read_input(source, read_options, counter)]
    return _Part(records, [LIVE if r.rejection is None else 0 for r in records])


def copy_records(records: list[Record]) -> list[Record]:
    """Copies that steps may change (text, annotations, fields, rejection) without touching ``records``."""
    return [
        Record(r.id, r.text, dict(r.fields), r.raw, r.source, r.file, dict(r.annotations), r.rejection)
        for r in records
    ]


def _live(part: _Part) -> list[Record]:
    return [r for r, at in zip(part.records, part.rejected_at, strict=True) if at == LIVE]


def _run_segment(part: _Part, payload: bytes, first: int, last: int) -> tuple[_Part, list[tuple]]:
    """Steps ``first``..``last - 1`` of the chain over the partition's live records."""
    from vocclean.engines.dask_engine import _steps_on_worker

    steps = _steps_on_worker(payload)[first:last]
    live = [i for i, at in enumerate(part.rejected_at) if at == LIVE]
    result = run_chunk(steps, copy_records([part.records[i] for i in live]), fresh_counters=True)
    records, rejected_at = list(part.records), list(part.rejected_at)
    for i, record, at in zip(live, result.records, result.reject_step, strict=True):
        records[i] = record
        if at != LIVE:
            rejected_at[i] = first + 1 + at
    stats = list(zip(result.records_in, result.rejected, result.seconds, result.counters, strict=True))
    return _Part(records, rejected_at), stats


def _merge(part: _Part, processed: list[Record], stats_index: int) -> _Part:
    live = [i for i, at in enumerate(part.rejected_at) if at == LIVE]
    records, rejected_at = list(part.records), list(part.rejected_at)
    for i, record in zip(live, processed, strict=True):
        records[i] = record
        if record.rejection is not None:
            rejected_at[i] = stats_index
    return _Part(records, rejected_at)


def _count_live(part: _Part) -> int:
    return part.rejected_at.count(LIVE)


# -- when the serial pipeline routes each reject ----------------------------------------------------


@dataclass
class _Moments:
    """What a partition needs to date its rejects: per step across documents, in chain order."""

    whole: list[int]  # stats index of each step across documents
    batch: list[int]  # its batch (records read before it emits)
    before: list[int]  # its input records in earlier partitions
    total: list[int]  # its input records in all
    round_starts: list[dict[int, int]]  # batch -> the next such step's input records before its first record


def _inputs_before(part: _Part, moments: _Moments, level: int) -> np.ndarray:
    """For each record, how many input records of step ``level`` came before it (all partitions)."""
    at = np.asarray(part.rejected_at, dtype=np.int64)
    reached = (at == LIVE) | (at >= moments.whole[level])
    return moments.before[level] + np.cumsum(reached) - reached


def _round_starts(part: _Part, moments: _Moments, level: int) -> dict[int, int]:
    """Batch -> input records of step ``level + 1`` before the first record of that batch of ``level``."""
    at = np.asarray(part.rejected_at, dtype=np.int64)
    reached = (at == LIVE) | (at >= moments.whole[level])
    index = _inputs_before(part, moments, level)
    starts = np.flatnonzero(reached & (index % moments.batch[level] == 0))
    following = _inputs_before(part, moments, level + 1)
    return {int(index[i] // moments.batch[level]): int(following[i]) for i in starts}


def _moment(moments: _Moments, at: int, inputs_before: list[int], number: int, position: int) -> tuple:
    """The serial pipeline's moment of routing a reject of step ``at`` (see the module docstring)."""
    whole = moments.whole
    before = sum(1 for w in whole if w < at)
    if at in whole:  # emitted by a step across documents
        level, phase = whole.index(at), 1
    elif before:  # rejected by a per-article step after one: as that step emits the record
        level, phase = before - 1, 1
    else:  # rejected while the first step across documents reads
        level, phase = 0, 0
    batch = inputs_before[level] // moments.batch[level]
    key: list[tuple] = [(batch, phase, number, position)]
    if phase == 1 and level + 1 < len(whole):  # the next step reads the emitted record itself
        batch = inputs_before[level + 1] // moments.batch[level + 1]
        key.append((batch, 0))
        level += 1
    while level + 1 < len(whole):
        first = moments.round_starts[level].get(batch, moments.total[level + 1])
        batch = first // moments.batch[level + 1]
        key.append((batch, 0))
        level += 1
    return tuple(item for part in reversed(key) for item in part)


def _write(
    part: _Part,
    number: int,
    options: Any,
    output: str,
    expected: list[str] | None,
    rejects: str | None,
    moments: _Moments,
) -> dict[str, Any]:
    """Write a partition's output and its rejects (sorted by moment); its counts and messages.

    ``expected``: with ``-o`` a directory, the partition's input names (each gets an output).
    """
    if expected is not None:
        sink = DirectorySink(output)
        sink.expect(expected)
    else:
        sink = open_output(output, directory=False, text=False)
    writer = RecordWriter(sink, options.text_field, options.id_field, options.annotate)
    done: dict[str, Any] = {"written": 0, "rejected": 0, "bad_input": 0, "messages": []}
    dated = []
    levels = [_inputs_before(part, moments, level) for level in range(len(moments.whole))]
    try:
        for position, (record, at) in enumerate(zip(part.records, part.rejected_at, strict=True)):
            if at == LIVE:
                writer.write(record)
                done["written"] += 1
                continue
            done["rejected"] += 1
            assert record.rejection is not None
            if record.rejection.step in BAD_INPUT_STEPS:
                done["bad_input"] += 1
                if len(done["messages"]) < MAX_MESSAGES:
                    done["messages"].append(f"{record.source}: {record.rejection.reason}")
            if rejects is not None:
                dated.append(
                    (_moment(moments, at, [int(c[position]) for c in levels], number, position), record)
                )
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    if rejects is not None:
        dated.sort(key=lambda item: item[0])
        out = RecordWriter(open_output(rejects, directory=False, text=False), options.text_field,
                           options.id_field, annotate=True)  # fmt: skip
        for _, record in dated:
            out.write_reject(record)
        out.commit()
        with open(rejects + ".moments", "wb") as stream:
            pickle.dump([moment for moment, _ in dated], stream, protocol=pickle.HIGHEST_PROTOCOL)
    return done


def _join_rejects(parts: list[str], target: str) -> None:
    """The partitions' rejects, merged by moment into one file (on a worker)."""

    def lines(path: str):
        with open(path + ".moments", "rb") as stream:
            moments = pickle.load(stream)
        with open(path, "rb") as stream:
            yield from zip(moments, stream, strict=True)

    sink = open_output(target, directory=False, text=False)
    try:
        for _, line in heapq.merge(*(lines(path) for path in parts), key=lambda item: item[0]):
            sink.write(None, line)
        sink.commit()
    except BaseException:
        sink.abort()
        raise


# -- the plan ----------------------------------------------------------------------------------


def run_distributed(client: Any, steps: list[Step], options: Any, inputs: list[InputFile]) -> Any:
    """Run the chain as distributed stages; return the runner's RunResult."""
    from vocclean.engines.batch import _tasks
    from vocclean.engines.dask_articles import dedup_articles_distributed
    from vocclean.engines.dask_engine import DaskPipeline, _output_is_directory, _read_all, scatter_payload
    from vocclean.engines.dask_paragraphs import dedup_paragraphs_distributed
    from vocclean.messages import warn
    from vocclean.runner import MAX_BAD_INPUT_MESSAGES, RunResult

    pipeline: Pipeline = DaskPipeline(client, steps)
    if any(getattr(step, "fit", None) is not None for step in pipeline.steps):
        pipeline._fit(lambda: _read_all(inputs, options))  # the replay's chunks run on the cluster
    chain = pipeline.steps
    directory = _output_is_directory(options)
    groups = (
        [task.inputs for task in _tasks(inputs, Path(options.output), False)]
        if directory
        else [[source] for source in inputs]
    )
    read_options = ReadOptions(options.text_field, options.id_field, options.max_record_bytes)
    totals = run_totals(pipeline.stats)
    parts = client.map(_read, groups, read_options=read_options, pure=False)
    payload = scatter_payload(client, pickle.dumps(chain, protocol=pickle.HIGHEST_PROTOCOL))
    whole: list[int] = []
    for group in stages(chain):
        first = group[0]
        if is_per_record(chain[first]):
            done = client.map(
                _run_segment, parts, payload=payload, first=first, last=group[-1] + 1, pure=False
            )
            parts = client.map(_first, done, pure=False)
            for segment_stats in client.gather(client.map(_second, done, pure=False)):
                for offset, (records_in, rejected, seconds, counters) in enumerate(segment_stats):
                    stats = totals[first + 1 + offset]
                    stats.records_in += records_in
                    stats.rejected += rejected
                    stats.records_out += records_in - rejected
                    stats.seconds += seconds
                    stats.counters.update(counters)
            continue
        step, stats = chain[first], totals[first + 1]
        whole.append(first + 1)
        started = time.perf_counter()
        live = client.map(_live, parts, pure=False)
        if isinstance(step, DedupArticles):
            processed, counters = dedup_articles_distributed(client, step, live)
        else:
            processed, counters = dedup_paragraphs_distributed(client, step, live)
        before = sum(client.gather(client.map(_count_live, parts, pure=False)))
        parts = [
            client.submit(_merge, p, done, first + 1, pure=False)
            for p, done in zip(parts, processed, strict=True)
        ]
        after = sum(client.gather(client.map(_count_live, parts, pure=False)))
        stats.records_in += before
        stats.records_out += after
        stats.rejected += before - after
        stats.seconds += time.perf_counter() - started
        stats.counters.update(counters)
    reads = client.gather(client.map(_read_counts, parts, pure=False))
    totals[0].records_out = sum(r[0] for r in reads)
    totals[0].rejected = sum(r[1] for r in reads)
    totals[0].records_in = totals[0].records_out + totals[0].rejected
    moments = _date_rejects(client, parts, whole, [batch_of(chain[w - 1]) for w in whole])
    result = RunResult(steps=totals, records_in=totals[0].records_in)
    messages = 0
    for done in _write_all(client, parts, groups, options, directory, moments):
        result.written += done["written"]
        result.rejected += done["rejected"]
        result.bad_input += done["bad_input"]
        for message in done["messages"]:
            messages += 1
            if messages <= MAX_BAD_INPUT_MESSAGES:
                warn(message)
    if result.bad_input:
        where = f"written to {options.rejects}" if options.rejects else "pass --rejects PATH to keep them"
        warn(f"{result.bad_input} record(s) rejected as bad input ({where})")
    return result


def _date_rejects(client: Any, parts: list[Any], whole: list[int], batches: list[int]) -> _Moments:
    """Input counts per partition of each step across documents, and the first records of their batches."""
    moments = _Moments(whole, batches, [], [], [])
    for stats_index in whole:
        counts = client.gather(client.map(_count_reached, parts, stats_index=stats_index, pure=False))
        moments.before.append(np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64))
        moments.total.append(int(sum(counts)))
    for level in range(len(whole) - 1):
        starts: dict[int, int] = {}
        for found in client.gather(client.map(_round_starts_of, parts, range(len(parts)), moments=moments,
                                              level=level, pure=False)):  # fmt: skip
            starts.update(found)
        moments.round_starts.append(starts)
    return moments


def _count_reached(part: _Part, stats_index: int) -> int:
    return sum(1 for at in part.rejected_at if at == LIVE or at >= stats_index)


def _round_starts_of(part: _Part, number: int, moments: _Moments, level: int) -> dict[int, int]:
    return _round_starts(part, _for_partition(moments, number), level)


def _for_partition(moments: _Moments, number: int) -> _Moments:
    before = [int(b[number]) for b in moments.before]
    return _Moments(moments.whole, moments.batch, before, moments.total, moments.round_starts)


def _write_all(
    client: Any,
    parts: list[Any],
    groups: list[list[InputFile]],
    options: Any,
    directory: bool,
    moments: _Moments,
) -> list[dict[str, Any]]:
    """Each partition writes on its worker; one output file and the rejects file are joined at the end."""
    target = Path(options.output)
    if options.output != "-":
        target.parent.mkdir(parents=True, exist_ok=True)  # as the local engine does
    staging = Path(
        tempfile.mkdtemp(prefix=".vocclean-dask-", dir=target.parent if options.output != "-" else None)
    )
    sinks: list[Any] = []  # joined, to be committed together
    try:
        futures = []
        for number, (part, group) in enumerate(zip(parts, groups, strict=True)):
            output = options.output if directory else str(staging / f"out-{number}.jsonl")
            expected = [source.relative for source in group] if directory else None
            rejects = str(staging / f"rejects-{number}.jsonl") if options.rejects is not None else None
            futures.append(client.submit(_write, part, number, options, output, expected, rejects,
                                         _for_partition(moments, number), pure=False))  # fmt: skip
        done = client.gather(futures)
        if options.rejects is not None:
            paths = [str(staging / f"rejects-{n}.jsonl") for n in range(len(parts))]
            client.submit(_join_rejects, paths, str(staging / "rejects.jsonl"), pure=False).result()
            sinks.append(joined([staging / "rejects.jsonl"], options.rejects))
        if not directory:
            sinks.append(joined([staging / f"out-{n}.jsonl" for n in range(len(parts))], options.output))
        with interrupts.held():  # the output and the rejects, both or neither
            for sink in sinks:
                sink.commit()
            sinks.clear()
        return done
    finally:
        for sink in sinks:
            sink.abort()
        shutil.rmtree(staging, ignore_errors=True)


def _first(pair: tuple) -> Any:
    return pair[0]


def _second(pair: tuple) -> Any:
    return pair[1]


def _read_counts(part: _Part) -> tuple[int, int]:
    rejected = part.rejected_at.count(0)
    return len(part.records) - rejected, rejected
