"""The local engine: per-article steps on worker processes give exactly what one process gives."""

from __future__ import annotations

import os
import pickle
import threading
import time
from concurrent.futures import Future

import pytest

from tests.fake_steps import BlindPeek, FieldPeek, WorkerFirst
from vocclean.engines import local
from vocclean.engines.local import ParallelPipeline, WorkerPool, stages
from vocclean.errors import VoccleanError
from vocclean.io.spool import Spool, write_chunk
from vocclean.pipeline import DecodeUtf8, Pipeline, StepStats
from vocclean.record import Record
from vocclean.report.observer import RunObserver
from vocclean.runner import RunOptions, make_pipeline, run_streaming
from vocclean.steps.base import RecordStep, Step
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.strip_boilerplate import StripBoilerplate


class DropShort(RecordStep):
    name = "drop-short"

    def process(self, record):
        self.stats["seen/records"] += 1
        return record.reject(self.name, "short") if len(record.text) < 3 else record


class GatedDropShort(WorkerFirst, DropShort):
    pass


class Tag(RecordStep):
    name = "tag"

    def process(self, record):
        record.text = f"<{record.text}>"
        record.annotate(tagged_by=os.getpid())
        self.stats["tagged/records"] += 1
        return record


class FirstCopy(Step):
    """A whole-stream step: rejects a text seen before (state across records)."""

    name = "first-copy"

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def __call__(self, records):
        for record in records:
            if record.text in self.seen:
                self.stats["duplicates/exact"] += 1
                yield record.reject(self.name, "seen")
            else:
                self.seen.add(record.text)
                yield record


class KeepLongest(Step):
    """A whole-stream step that holds every record until the input ends."""

    name = "keep-longest"

    def __call__(self, records):
        held = list(records)
        longest = max((len(r.text) for r in held), default=0)
        for record in held:
            yield record.reject(self.name, "not longest") if len(record.text) < longest - 3 else record


class CountingFit(RecordStep):
    """A two-pass step: counts texts in ``fit``, then marks the common ones."""

    name = "counting-fit"

    def __init__(self):
        super().__init__()
        self.common: set[str] = set()

    def fit(self, replay):
        counts: dict[str, int] = {}
        for record in replay():
            counts[record.text] = counts.get(record.text, 0) + 1
        self.common = {text for text, n in counts.items() if n > 1}

    def process(self, record):
        if record.text in self.common:
            record.annotate(common=True)
        return record


class Unpicklable(RecordStep):
    name = "unpicklable"

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()

    def process(self, record):
        return record


class DiesInWorker(RecordStep):
    name = "dies"

    def process(self, record):
        if record.text == "die" and os.getpid() != self.parent:
            os._exit(3)
        return record

    def __init__(self):
        super().__init__()
        self.parent = os.getpid()


def corpus(size: int = 1500) -> list[Record]:
    records = []
    for i in range(size):
        if i % 97 == 5:
            records.append(Record(id=f"bad{i}", text=None, source=f"in:{i}").reject("read", "invalid JSON"))
        else:
            records.append(Record(id=str(i), text=("x" * (i % 6)) + str(i % 211), source=f"in:{i}"))
    return records


def run(pipeline: Pipeline, records: list[Record]):
    rejected = []
    out = [(r.id, r.text, dict(r.annotations)) for r in pipeline.run(records, rejected.append)]
    rejects = [(r.id, r.rejection.step, r.rejection.reason) for r in rejected]
    stats = [(s.name, s.records_in, s.records_out, s.rejected, dict(s.counters)) for s in pipeline.stats]
    return out, rejects, stats


def without_pids(result):
    out, rejects, stats = result
    pids = ("tagged_by", "prepared_by")
    return [(i, t, {k: v for k, v in a.items() if k not in pids}) for i, t, a in out], rejects, stats


CHAINS = {
    "per-article only": lambda: [DropShort(), Tag()],
    "whole-stream between segments": lambda: [DropShort(), FirstCopy(), Tag(), DropShort()],
    "whole-stream at the end": lambda: [Tag(), FirstCopy()],
    "two whole-stream steps in a row": lambda: [FirstCopy(), KeepLongest(), Tag()],
    "buffering whole-stream step": lambda: [DropShort(), KeepLongest(), DropShort()],
}


@pytest.mark.parametrize("chain", CHAINS)
def test_output_rejects_order_and_stats_equal_the_serial_pipeline(chain):
    serial = run(Pipeline(CHAINS[chain]()), corpus())
    parallel = run(ParallelPipeline(CHAINS[chain](), jobs=2, chunk_records=40), corpus())
    assert without_pids(parallel) == without_pids(serial)
    assert serial[1], "the corpus must exercise rejects"


class SlowTag(Tag):
    """Tag at about 2 ms a record: the workers fall behind a main process that only reads."""

    name = "slow-tag"

    def process(self, record):
        time.sleep(0.002)
        return super().process(record)


@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_n_cleans_chunks_in_n_processes_this_one_when_the_workers_are_behind(jobs):
    """-j N: N - 1 worker processes and this one, which cleans a chunk itself whenever
    PENDING_PER_WORKER chunks per worker already wait (until 2026-11-23: N workers and this
    process only waiting); the output is the serial pipeline's all the same."""
    serial = run(Pipeline([SlowTag()]), corpus(600))
    result = run(ParallelPipeline([SlowTag()], jobs=jobs, chunk_records=20), corpus(600))
    out = result[0]
    pids = [annotations["tagged_by"] for _, _, annotations in out]
    workers = set(pids) - {os.getpid()}
    assert len(workers) == jobs - 1
    assert os.getpid() in pids, "the main process cleaned no chunk"
    firsts = [pids[i] for i in range(0, len(pids), 20)]
    assert os.getpid() not in firsts[: local.PENDING_PER_WORKER * (jobs - 1)]  # the first go to workers
    assert without_pids(result) == without_pids(serial)


class UnstartedPool:
    """A pool that shares the work (one worker and this process) and whose worker never starts a
    chunk: every chunk sent can be taken back, and asking for a result is an error."""

    jobs, processes, shares_work = 2, 1, True

    def __init__(self, scratch):
        self.scratch, self.files = scratch, {}

    def submit(self, segment, records, fields=True):
        path = self.scratch / f"{len(self.files)}.pickle"
        path.write_bytes(pickle.dumps(records))
        return self._sent(str(path))

    def submit_file(self, segment, path):
        return self._sent(path)

    def _sent(self, path):
        future = Future()
        self.files[future] = path
        return future

    def take_back(self, future):
        return local.claim(self.files[future], local.BY_PARENT)


def tagged_here(records):
    return [(r.id, r.text, r.fields, dict(r.annotations)) for r in Tag()(iter(records))]


def test_at_the_end_this_process_takes_back_the_chunks_a_worker_has_not_started(tmp_path):
    """The input read, this process does not wait for a worker to work through its queue: it
    cleans the chunks the worker has not started itself (here, all of them), in their places."""
    records = [Record(id=str(i), text=f"t{i}", source=f"in:{i}") for i in range(100)]
    pool = UnstartedPool(tmp_path)
    segment = local.Segment(0, [Tag()], [StepStats("tag")], pool, chunk_records=10)
    out = [(r.id, r.text, r.fields, dict(r.annotations)) for r in segment(iter(records))]
    assert len(pool.files) == local.PENDING_PER_WORKER  # the first chunks were sent, the rest cleaned here
    assert out == tagged_here(Record(id=str(i), text=f"t{i}", source=f"in:{i}") for i in range(100))
    assert list(tmp_path.iterdir()) == []  # the files of the chunks taken back are deleted


class BurstPool:
    """A pool that shares the work and whose worker finishes its chunks in bursts: the chunks
    sent are cleaned (in this process, with the workers' code) all at once when as many wait as
    the queue holds. It logs each chunk sent and each result taken."""

    jobs, processes, shares_work = 2, 1, True

    def __init__(self, steps):
        self.steps, self.log, self.queued = steps, [], []

    def submit(self, segment, records, fields=True):
        self.log.append("send")
        future = Future()
        self.queued.append((future, copy_records(records)))
        if len(self.queued) == local.PENDING_PER_WORKER:
            self._burst()
        return future

    def _burst(self):
        for queued, chunk in self.queued:
            queued.set_result(local.run_chunk_remotely(self.steps, chunk))
        self.queued = []

    def take_back(self, future):
        self._burst()  # at the end of the input: the worker has them all
        return None

    def result(self, future):
        self.log.append("take")
        return future.result()


def copy_records(records):
    return [Record(id=r.id, text=r.text, fields=dict(r.fields), source=r.source) for r in records]


def test_the_workers_queue_is_topped_up_between_results_taken():
    """While input is left, this process sends the next chunk as soon as a result it took leaves
    room at the workers, before it takes the next result: a worker is not left idle while this
    process hands a run of finished chunks to the steps after (until 2026-11-23 it took every
    finished result first, and a worker waited 25-80 ms at a time on the 200 MB corpus)."""
    records = [Record(id=str(i), text=f"t{i}", source=f"in:{i}") for i in range(200)]
    pool = BurstPool([Tag()])
    segment = local.Segment(0, [Tag()], [StepStats("tag")], pool, chunk_records=10)
    out = [(r.id, r.text) for r in segment(iter(copy_records(records)))]
    assert out == [(r.id, r.text) for r in Tag()(iter(copy_records(records)))]
    sends = pool.log.count("send")
    assert sends >= 20 - local.PENDING_PER_WORKER  # the worker was behind only at the end
    before_last_send = pool.log[: len(pool.log) - pool.log[::-1].index("send")]
    assert "take,take" not in ",".join(before_last_send)
    assert pool.log.count("take") == sends


class Preparer(Step):
    """The step a segment feeds: logs what it prepares (one entry per text)."""

    name, batch_size = "preparer", 4

    def __init__(self):
        super().__init__()
        self.prepared = []

    def prepare(self, texts):
        self.prepared.append(list(texts))
        return list(texts)


def test_a_chunk_cleaned_here_is_prepared_for_the_next_step_then_and_handed_over_when_taken():
    """The arrays of a chunk this process cleans are computed with the cleaning, so that at the
    end of a pass, when the workers are done, only the whole-stream steps and writing are left;
    the feed gets them when the chunk's records are taken, in stream order."""
    step = Preparer()
    segment = local.Segment(0, [Tag()], [StepStats("tag")], UnstartedPool(None), feeds=step)
    records = segment._clean_here([Record(id="1", text="a"), Record(id="2", text="b")], [])
    assert step.prepared == [["<a>", "<b>"]]
    assert segment.feed.available == 0  # not handed over before the records
    assert [r.text for r in records] == ["<a>", "<b>"]
    assert segment.feed.available == 2 and step.prepared == [["<a>", "<b>"]]


class FieldBlindTag(Tag):
    reads_fields = False  # its chunks go to workers as spool files, by path


def test_a_spool_chunk_taken_back_from_a_worker_keeps_its_input_fields(tmp_path):
    """The second pass sends a worker a chunk file's path and reads its fields (deleting their
    file); a chunk taken back gets those fields, not the empty ones of the chunk file."""

    def made():
        return [Record(id=str(i), text=f"t{i}", fields={"id": str(i), "n": i}) for i in range(100)]

    spool = Spool(str(tmp_path))
    for start in range(0, 100, 10):
        path = write_chunk(str(tmp_path), made()[start : start + 10])
        for _ in range(10):
            spool.add_chunk(path)
    spool.close()
    pool = UnstartedPool(tmp_path)
    segment = local.Segment(0, [FieldBlindTag()], [StepStats("tag")], pool)
    out = [(r.id, r.text, r.fields, dict(r.annotations)) for r in segment.from_spool(spool.chunks())]
    assert len(pool.files) == local.PENDING_PER_WORKER
    assert out == tagged_here(made())
    assert list(tmp_path.iterdir()) == []


def test_worker_counters_are_merged_into_the_parents_step_objects():
    step = DropShort()
    run(ParallelPipeline([step], jobs=2, chunk_records=40), corpus())
    assert step.stats["seen/records"] == sum(1 for r in corpus() if not r.rejected)


def test_an_input_of_few_chunks_runs_in_this_process_without_starting_workers(monkeypatch):
    def no_pool(self):
        raise AssertionError("a pool was started for a small input")

    monkeypatch.setattr(WorkerPool, "executor", no_pool)
    size = (local.POOL_MIN_CHUNKS - 1) * 40
    serial = run(Pipeline([Tag()]), corpus(size))
    parallel = run(ParallelPipeline([Tag()], jobs=2, chunk_records=40), corpus(size))
    assert parallel == serial


def test_a_two_pass_step_learns_from_a_parallel_replay_and_earlier_counts_are_not_doubled():
    serial = Pipeline([DropShort(), CountingFit()])
    serial_out = list(serial.run(corpus(), lambda r: None, records_factory=lambda: iter(corpus())))
    steps = [DropShort(), CountingFit()]
    parallel = ParallelPipeline(steps, jobs=2, chunk_records=40)
    out = list(parallel.run(corpus(), lambda r: None, records_factory=lambda: iter(corpus())))
    assert [(r.id, r.annotations) for r in out] == [(r.id, r.annotations) for r in serial_out]
    assert steps[1].common and steps[1].common == serial.steps[2].common
    assert steps[0].stats["seen/records"] == sum(1 for r in corpus() if not r.rejected)


def test_stages_group_consecutive_per_article_steps():
    steps = [DropShort(), Tag(), FirstCopy(), KeepLongest(), Tag()]
    assert stages(steps) == [[0, 1], [2], [3], [4]]


def test_an_unpicklable_step_is_refused_before_any_work_with_its_name():
    with pytest.raises(TypeError, match="unpicklable"):
        run(ParallelPipeline([Unpicklable()], jobs=2, chunk_records=40), corpus())


class GatedDiesInWorker(WorkerFirst, DiesInWorker):
    pass


def test_a_worker_that_dies_stops_the_run_with_an_error_not_a_hang(tmp_path):
    records = corpus()
    records[10] = Record(id="x", text="die")  # in the first chunk, sent to the worker, which starts it
    GatedDiesInWorker.armed(tmp_path)
    with pytest.raises(VoccleanError, match="worker process died"):
        run(ParallelPipeline([GatedDiesInWorker()], jobs=2, chunk_records=40), records)


def test_a_chunk_sent_after_a_worker_died_stops_the_run_with_the_same_error():
    with WorkerPool(2, [[DiesInWorker()]], processes=1) as pool:
        first = pool.submit(0, [Record(id="x", text="die")])
        with pytest.raises(VoccleanError, match="worker process died"):
            pool.result(first)
        with pytest.raises(VoccleanError, match="worker process died"):
            pool.submit(0, [Record(id="y", text="fine")])


def test_a_chunk_file_gone_before_a_worker_read_it_stops_the_run_with_a_clear_error(tmp_path):
    with WorkerPool(2, [[Tag()]], processes=1) as pool:
        future = pool.submit_file(0, str(tmp_path / "deleted.chunk"))
        with pytest.raises(VoccleanError, match=r"deleted\.chunk: a chunk file of this run was gone"):
            pool.result(future)


def test_records_sent_to_workers_round_trip_through_pickle():
    record = Record(
        id="1", text="正文", fields={"id": "1", "text": "正文", "url": "u"}, source="f:1", file="f"
    )
    record.annotate(script="simplified")
    copy = pickle.loads(pickle.dumps(record))
    assert (copy.id, copy.text, copy.fields, copy.annotations, copy.source) == (
        "1",
        "正文",
        record.fields,
        {"script": "simplified"},
        "f:1",
    )


class PreparedFirstCopy(Step):
    """A whole-stream step with a ``prepare`` hook: batches hashed wherever the engine likes."""

    name = "prepared-first-copy"
    batch_size = 25

    def prepare(self, texts):
        return [(os.getpid(), hash(text)) for text in texts]

    def __call__(self, records):
        return self.run(records)

    def run(self, records, prepared=None):
        seen: set[str] = set()
        batch: list[Record] = []
        for record in [*records, None]:
            if record is not None:
                batch.append(record)
            if batch and (record is None or len(batch) == self.batch_size):
                arrays = self.prepare([r.text for r in batch]) if prepared is None else next(prepared)
                for item, (pid, _) in zip(batch, arrays, strict=True):
                    item.annotate(prepared_by=pid)
                    if item.text in seen:
                        yield item.reject(self.name, "seen")
                    else:
                        seen.add(item.text)
                        yield item
                batch = []


def test_a_whole_stream_steps_prepare_runs_on_workers_and_rejects_keep_their_places():
    chain = lambda: [DropShort(), PreparedFirstCopy(), Tag()]  # noqa: E731
    serial = run(Pipeline(chain()), corpus())
    parallel = run(ParallelPipeline(chain(), jobs=3, chunk_records=40), corpus())  # 3: see local.py
    assert without_pids(parallel) == without_pids(serial)
    assert any(reason == "seen" for _, _, reason in serial[1]) and any(s == "read" for _, s, _ in serial[1])
    pids = {annotations["prepared_by"] for _, _, annotations in parallel[0]}
    assert pids and os.getpid() not in pids


class CountedDedup(DedupArticles):
    """dedup-articles counting the batches it hashes in this process."""

    prepared_here = 0

    def prepare(self, texts):
        CountedDedup.prepared_here += 1
        return super().prepare(texts)


def stories(size: int = 900) -> list[Record]:
    """Paragraph-long texts, a third of them repeats (some with a changed word) of earlier ones."""
    words = ["经济", "会议", "发展", "合作", "北京", "代表", "国家", "人民", "改革", "企业", "市场", "科技"]
    records = []
    for i in range(size):
        base = i if i % 3 else i // 3
        text = "".join(words[(base * 7 + k * k) % len(words)] for k in range(60)) + f"第{base}号"
        if i % 6 == 3:
            text = text.replace("会议", "大会", 1)
        records.append(Record(id=str(i), text=text, source=f"in:{i}"))
    return records


def test_dedup_articles_after_a_segment_is_hashed_by_the_workers_with_the_same_output(tmp_path):
    serial = run(Pipeline([DropShort(), CountedDedup(batch_size=70)]), stories())
    CountedDedup.prepared_here = 0
    GatedDropShort.armed(tmp_path)
    chain = [GatedDropShort(), CountedDedup(batch_size=70)]
    parallel = run(ParallelPipeline(chain, jobs=2, chunk_records=40), stories())
    assert parallel == serial
    assert any(step == "dedup-articles" for _, step, _ in serial[1])
    # A chunk is hashed where it was cleaned: by the worker, or here (when PENDING_PER_WORKER
    # chunks already wait at the worker, or taken back at the end).
    chunks = -(-sum(1 for r in stories() if len(r.text) >= 3) // 40)
    assert CountedDedup.prepared_here < chunks


def test_a_segment_of_inline_steps_runs_here_and_feeds_nothing(monkeypatch):
    """dedup-articles alone: the pipeline's UTF-8 decode is its only per-article step; with -j 2
    the records must not travel to workers for it (nor for the hashing: two workers keep it here)."""

    def no_pool(self):
        raise AssertionError("a pool was started for a segment of inline steps")

    chain = lambda: [CountedDedup(batch_size=70)]  # noqa: E731
    serial = run(Pipeline(chain()), stories())
    monkeypatch.setattr(WorkerPool, "executor", no_pool)
    CountedDedup.prepared_here = 0
    pipeline = ParallelPipeline(chain(), jobs=2, chunk_records=40)
    assert [type(step).__name__ for step in pipeline.steps] == ["DecodeUtf8", "CountedDedup"]
    assert run(pipeline, stories()) == serial
    assert CountedDedup.prepared_here == -(-len(stories()) // 70)  # every batch hashed here
    assert local.feeds_of([DecodeUtf8(), CountedDedup()]) == [None]
    fed = local.feeds_of([DecodeUtf8(), Tag(), CountedDedup()])
    assert isinstance(fed[0], CountedDedup)  # a segment with real work still feeds the hashing


def test_chunks_prepared_in_pieces_join_into_the_steps_batches():
    step = DedupArticles()
    texts = [r.text for r in stories(300)]
    feed = local.PreparedFeed(step)
    for start in range(0, 300, 45):
        feed.push(step.prepare(texts[start : start + 45]))
    step.batch_size = 100
    batches = feed.batches()
    for start in range(0, 300, 100):
        joined, whole = next(batches), step.prepare(texts[start : start + 100])
        assert all(
            (getattr(joined, f) == getattr(whole, f)).all() for f in ("hashes", "offsets", "sig", "band_keys")
        )


class FieldPeekWhere(FieldPeek):
    def process(self, record):
        record.annotate(pid=os.getpid())
        return super().process(record)


class BlindPeekWhere(FieldPeekWhere, BlindPeek):
    pass


class GatedFieldPeekWhere(WorkerFirst, FieldPeekWhere):
    pass


class GatedBlindPeekWhere(WorkerFirst, BlindPeekWhere):
    pass


@pytest.mark.parametrize(
    ("step", "seen"), [(GatedFieldPeekWhere, ["id", "text", "url"]), (GatedBlindPeekWhere, [])]
)
def test_workers_get_the_fields_only_of_steps_that_read_them_and_every_field_comes_back(step, seen, tmp_path):
    records = [
        Record(id=str(i), text=f"t{i}", fields={"id": str(i), "text": f"t{i}", "url": f"u{i}"})
        for i in range(300)
    ]
    step.armed(tmp_path)
    out = list(ParallelPipeline([step()], jobs=2, chunk_records=40).run(records, lambda r: None))
    in_workers = [r.annotations["seen"] for r in out if r.annotations["pid"] != os.getpid()]
    assert len(in_workers) >= 40 and in_workers == [seen] * len(in_workers)
    # A chunk cleaned in this process (the worker behind) has its records as they are, fields and all.
    here = [r.annotations["seen"] for r in out if r.annotations["pid"] == os.getpid()]
    assert here == [["id", "text", "url"]] * len(here)
    assert [r.fields for r in out] == [{"id": str(i), "text": f"t{i}", "url": f"u{i}"} for i in range(300)]


class GatedTag(WorkerFirst, Tag):
    pass


@pytest.mark.parametrize("keeps", [True, False])
def test_workers_send_back_the_records_notes_only_when_they_are_kept(tmp_path, keeps):
    """``keeps_notes`` False (a run that writes no notes, no rejects, no report): the chunks
    cleaned on workers come back without their annotations; the rest is the same."""
    serial = run(Pipeline([Tag()]), corpus(600))
    GatedTag.armed(tmp_path)
    pipeline = ParallelPipeline([GatedTag()], jobs=2, chunk_records=40)
    pipeline.keeps_notes = keeps
    out, rejects, stats = run(pipeline, corpus(600))
    on_workers = [notes for _, _, notes in out if notes.get("tagged_by") != os.getpid()]
    assert len(on_workers) >= 40
    if keeps:
        assert all(notes["tagged_by"] != os.getpid() for notes in on_workers)
    else:
        assert on_workers == [{}] * len(on_workers)
    assert [(i, t) for i, t, _ in out] == [(i, t) for i, t, _ in serial[0]]
    assert (rejects, stats) == serial[1:]


@pytest.mark.parametrize(
    ("options", "observed", "keeps"),
    [
        ({}, False, False),
        ({"annotate": True}, False, True),
        ({"rejects": "r.jsonl"}, False, True),
        ({}, True, True),
    ],
)
def test_a_run_keeps_the_notes_only_where_something_reads_them(tmp_path, options, observed, keeps):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "text": "正文"}\n', encoding="utf-8")
    if "rejects" in options:
        options = {"rejects": str(tmp_path / options["rejects"])}
    made = []

    def factory(steps, run_options):
        made.append(make_pipeline(steps, run_options))
        return made[-1]

    run_options = RunOptions(inputs=(str(source),), output=str(tmp_path / "out.jsonl"), jobs=2, **options)
    run_streaming([Tag()], run_options, RunObserver() if observed else None, factory)
    assert made[0].keeps_notes is keeps


class CountedLearning(StripBoilerplate):
    """strip-boilerplate counting the records it digests for learning in this process."""

    mapped_here = 0

    def fit_map(self, record):
        CountedLearning.mapped_here += 1
        return super().fit_map(record)


def test_the_learning_pass_digests_records_on_the_workers_and_learns_what_one_process_learns(tmp_path):
    def corpus():
        body = "第{}号议题的讨论持续了整整一个上午代表们发言踊跃气氛热烈"
        return [
            Record(id=str(i), text=body.format(i) + ("\n甲乙丙丁戊己庚辛壬癸" if i % 5 == 0 else ""))
            for i in range(600)
        ]

    def learned(pipeline):
        texts = [
            r.text
            for r in pipeline.run(iter(corpus()), lambda r: None, records_factory=lambda: iter(corpus()))
        ]
        step = pipeline.steps[-1]
        return texts, step.learned.counts, dict(step.stats)

    serial = learned(Pipeline([DropShort(), CountedLearning(learn=True)]))
    CountedLearning.mapped_here = 0
    GatedDropShort.armed(tmp_path)
    chain = [GatedDropShort(), CountedLearning(learn=True)]
    parallel = learned(ParallelPipeline(chain, jobs=2, chunk_records=40))
    assert parallel == serial
    assert "甲乙丙丁戊己庚辛壬癸" in serial[1] and not any("甲乙" in text for text in serial[0])
    # Digested where they were cleaned: at least one chunk by the worker.
    assert CountedLearning.mapped_here <= 600 - 40
