"""The spool between the two passes of a learning run: records come back as they went in, no file stays."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fake_steps import BlindPeek, FieldPeek, WorkerFirst
from vocclean.engines.local import ParallelPipeline
from vocclean.io.readers import ReadOptions, Replay
from vocclean.io.sources import expand_inputs
from vocclean.io.spool import Spool, load_fields, records_of, spooled_fields, write_chunk
from vocclean.io.writers import record_fields, reject_fields
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.runner import RunOptions, run
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.strip_boilerplate import StripBoilerplate


def as_tuple(record: Record) -> tuple:
    return (record.id, record.text, record.fields, record.raw, record.source, record.file,
            record.annotations, record.rejection)  # fmt: skip


def as_written(record: Record) -> tuple:
    """What the writers make of a record (the spool may leave the input's copy of the text out:
    the writers replace it), and where it came from."""
    if record.rejection is None:
        return record_fields(record, "text", "id", annotate=True), record.source, record.file
    return reject_fields(record, "text", "id"), record.file


def test_records_come_back_in_order_with_what_json_would_not_keep(tmp_path):
    odd = {"inf": math.inf, "big": 2**80, "lone": "\ud800", "nested": [{"a": 1}]}
    records = [Record(f"r{n}", f"text {n}", fields=dict(odd, n=n), source=f"f:{n}") for n in range(1200)]
    records[3].reject("read", "bad line")
    records[700].raw = b"\xff\xfe"
    between = Record("x", None, raw=b"{broken").reject("read", "invalid JSON")
    spool = Spool(str(tmp_path))
    chunk = write_chunk(str(tmp_path), records[10:19])
    for record in records[:10]:
        spool.add(record)
    for _ in range(5):
        spool.add_chunk(chunk)
    spool.add(between)  # a reject between two runs of the same chunk file
    for _ in range(4):
        spool.add_chunk(chunk)
    for record in records[19:]:
        spool.add(record)
    spool.close()
    expected = [*records[:15], between, *records[15:]]
    assert [as_tuple(r) for r in spool.records()] == [as_tuple(r) for r in expected]
    assert list(tmp_path.iterdir()) == []  # every file deleted once read


def spool_with_rejects_around_chunks(directory: Path) -> tuple[Spool, list[Record]]:
    """Inline rejects before, between (also inside one chunk file's run) and after two chunk files."""
    records = [
        Record(f"r{n}", f"text {n}", fields={"n": n, "html": f"<p>{n}</p>"}, source=f"f:{n}")
        for n in range(40)
    ]
    rejected = [
        Record(f"x{n}", None, raw=b"{broken", source=f"f:x{n}").reject("read", "invalid JSON")
        for n in range(4)
    ]
    spool = Spool(str(directory))
    first, second = write_chunk(str(directory), records[:20]), write_chunk(str(directory), records[20:])
    spool.add(rejected[0])
    for _ in range(7):
        spool.add_chunk(first)
    spool.add(rejected[1])  # inside the first file's run
    for _ in range(13):
        spool.add_chunk(first)
    spool.add(rejected[2])  # between the files
    for _ in range(20):
        spool.add_chunk(second)
    spool.add(rejected[3])
    spool.close()
    expected = [
        rejected[0],
        *records[:7],
        rejected[1],
        *records[7:20],
        rejected[2],
        *records[20:],
        rejected[3],
    ]
    return spool, expected


def test_chunks_give_each_file_once_with_the_inline_records_at_their_positions(tmp_path):
    spool, expected = spool_with_rejects_around_chunks(tmp_path)
    chunks = list(spool.chunks())
    assert [c.count for c in chunks] == [20, 20]
    assert [[(p, r.id) for p, r in c.waiting] for c in chunks] == [
        [(0, "x0"), (7, "x1"), (20, "x2")],
        [(20, "x3")],
    ]
    assert [as_tuple(r) for r in records_of(chunks)] == [as_tuple(r) for r in expected]
    assert list(tmp_path.iterdir()) == []


def test_only_inline_records_make_one_chunk_without_a_file(tmp_path):
    spool = Spool(str(tmp_path))
    rejects = [Record(f"x{n}", None, raw=b"{", source="f").reject("read", "invalid JSON") for n in range(3)]
    for record in rejects:
        spool.add(record)
    spool.close()
    (chunk,) = spool.chunks()
    assert chunk.path is None and chunk.count == 0 and [r.id for _, r in chunk.waiting] == ["x0", "x1", "x2"]


LINE = '{{"id": "{n}", "text": "{body}。\\n本报记者 王明\\n责任编辑：李华"}}\n'
CORPUS = (
    "".join(
        LINE.format(n=n, body="".join(chr(0x4E00 + (n * 37 + i * 11) % 5000) for i in range(40)))
        for n in range(300)
    )
    + "{broken\n"
)


@pytest.fixture
def corpus_and_spool_root(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """CORPUS in a file, and the directory temporary files (the spool) go to."""
    source = tmp_path / "in.jsonl"
    source.write_text(CORPUS, encoding="utf-8")
    spool_root = tmp_path / "tmp"
    spool_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_root))
    return source, spool_root


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_learning_run_over_files_spools_once_and_leaves_no_file(tmp_path, corpus_and_spool_root, jobs):
    source, spool_root = corpus_and_spool_root
    results = {}
    for spooled in (True, False):
        steps = [FixEncoding(), StripBoilerplate(learn=True, learn_min_docs=3)]
        pipeline = Pipeline(steps) if jobs == 1 else ParallelPipeline(steps, jobs=jobs, chunk_records=16)
        rejects: list[Record] = []
        replay = Replay(expand_inputs((str(source),)), ReadOptions())
        out = pipeline.run(iter(replay()), rejects.append, replay, str(spool_root) if spooled else None)
        results[spooled] = (
            [as_written(r) for r in out],
            [as_written(r) for r in rejects],
            [(s.name, s.records_in, s.records_out, s.rejected, dict(s.counters)) for s in pipeline.stats],
        )
    assert results[True] == results[False]
    assert [r[0]["vocclean"]["rejected_by"] for r in results[True][1]] == ["read"]  # the broken line
    assert list(spool_root.iterdir()) == []
    result = run([FixEncoding(), StripBoilerplate(learn=True)], RunOptions(inputs=(str(source),),
                 output=str(tmp_path / "out.jsonl"), jobs=jobs, chunk_records=16))  # fmt: skip
    assert result.written == 300
    assert list(spool_root.iterdir()) == []


class GatedFieldPeek(WorkerFirst, FieldPeek):
    pass


class GatedBlindPeek(WorkerFirst, BlindPeek):
    pass


@pytest.mark.parametrize(("peek", "seen"), [(GatedFieldPeek, ["id", "text"]), (GatedBlindPeek, [])])
def test_the_second_pass_on_workers_reads_fields_only_for_steps_that_read_them(
    tmp_path, corpus_and_spool_root, peek, seen
):
    """Workers read the chunk files without the input fields; a step that reads fields gets them
    all, the input's text included; either way every field comes back and the output is the
    unspooled run's."""
    source, spool_root = corpus_and_spool_root
    peek.armed(tmp_path)  # at least one chunk is cleaned on the worker
    results = {}
    for spooled in (True, False):
        pipeline = ParallelPipeline(
            [StripBoilerplate(learn=True, learn_min_docs=3), peek()], jobs=2, chunk_records=16
        )
        replay = Replay(expand_inputs((str(source),)), ReadOptions())
        out = list(pipeline.run(iter(replay()), lambda r: None, replay, str(spool_root) if spooled else None))
        results[spooled] = [as_tuple(r) for r in out]
    seen_by = {tuple(r[6]["seen"]) for r in results[True]}
    # What a field-blind step saw depends on where its chunk ran (it reads what it says it does not).
    if not peek.reads_fields:
        for records in results.values():
            for record in records:
                record[6].pop("seen")
    written = {spooled: [as_written(Record(*r)) for r in results[spooled]] for spooled in results}
    assert written[True] == written[False]
    if peek.reads_fields:
        assert seen_by == {tuple(seen)}
    else:  # a chunk cleaned in this process (the worker behind) has the fields at hand, read or not
        assert tuple(seen) in seen_by and seen_by <= {(), ("id", "text")}
    assert all(sorted(r[2]) == ["id", "text"] for r in results[True])
    # The input's text reaches a step that reads fields; otherwise the spool left it out.
    assert {r[2]["text"] is None for r in results[True]} == {not peek.reads_fields}
    assert all(r[2]["text"] is not None for r in results[False])
    assert list(spool_root.iterdir()) == []


@pytest.mark.parametrize("keeps", [True, False])
def test_the_second_pass_on_workers_sends_back_the_notes_only_when_they_are_kept(
    tmp_path, corpus_and_spool_root, keeps
):
    """The chunk files cleaned on workers come back without their records' annotations where the
    run keeps no notes (``keeps_notes``); what is written is the same."""
    source, spool_root = corpus_and_spool_root
    GatedBlindPeek.armed(tmp_path)
    pipeline = ParallelPipeline(
        [StripBoilerplate(learn=True, learn_min_docs=3), GatedBlindPeek()], jobs=2, chunk_records=16
    )
    pipeline.keeps_notes = keeps
    replay = Replay(expand_inputs((str(source),)), ReadOptions())
    out = list(pipeline.run(iter(replay()), lambda r: None, replay, str(spool_root)))
    seen_here = [r for r in out if r.annotations.get("seen") == ["id", "text"]]  # fields at hand
    on_workers = [r for r in out if r not in seen_here]
    assert len(on_workers) >= 16
    if keeps:
        assert all(r.annotations["seen"] == [] and r.annotations["boilerplate"] for r in on_workers)
    else:
        assert all(r.annotations == {} for r in on_workers)
    assert all(r.annotations["boilerplate"] for r in seen_here)
    assert [(r.id, r.text) for r in out] == [(str(n), r.text) for n, r in enumerate(out)]
    assert {r.text.count("\n") for r in out} == {0}  # the credit lines are gone everywhere
    assert list(spool_root.iterdir()) == []


def test_a_failed_run_leaves_no_spool(tmp_path, monkeypatch):
    source = tmp_path / "in.jsonl"
    source.write_text(CORPUS, encoding="utf-8")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    class Boom(FixEncoding):
        def process(self, record):
            if record.id == "250":
                raise KeyboardInterrupt
            return super().process(record)

    with pytest.raises(KeyboardInterrupt):
        run([Boom(), StripBoilerplate(learn=True)], RunOptions(inputs=(str(source),),
            output=str(tmp_path / "out.jsonl"), jobs=1))  # fmt: skip
    assert [p.name for p in Path(tmp_path).iterdir()] == ["in.jsonl"]


def test_spooled_fields_leave_out_only_the_input_text_and_keep_its_place():
    record = Record("a", "cleaned", fields={"id": "a", "body": "raw text", "date": "2024"})
    assert list(spooled_fields(record, "body").items()) == [("id", "a"), ("body", None), ("date", "2024")]
    assert record.fields["body"] == "raw text"  # a copy: the record's own fields are untouched
    assert spooled_fields(record, None) is record.fields
    assert spooled_fields(record, "text") is record.fields  # no such field
    unread = Record("b", None, fields={"body": "x"}, raw=b"x")
    assert spooled_fields(unread, "body") is unread.fields  # no text yet: the field is all there is


def test_a_chunk_file_keeps_the_input_text_only_when_asked(tmp_path):
    records = [Record(str(n), f"clean {n}", fields={"id": str(n), "text": f"dirty {n}"}) for n in range(3)]
    kept, left_out = write_chunk(str(tmp_path), records), write_chunk(str(tmp_path), records, "text")
    assert [f["text"] for f in load_fields(kept)] == ["dirty 0", "dirty 1", "dirty 2"]
    assert [f["text"] for f in load_fields(left_out)] == [None, None, None]


@pytest.mark.parametrize(
    ("keep", "options", "expected"),
    [
        ("first", ReadOptions(text_field="body"), "body"),
        ("longest", ReadOptions(), "text"),
        ("field:date", ReadOptions(), None),  # dedup-articles reads the fields after the spool
        ("first", None, None),  # a replay that does not say which field holds the text
    ],
)
def test_the_spool_leaves_out_the_input_text_only_when_no_later_step_reads_fields(keep, options, expected):
    pipeline = Pipeline([FixEncoding(), StripBoilerplate(learn=True), DedupArticles(keep=keep)])
    replay = Replay([], options) if options is not None else (lambda: iter(()))
    assert pipeline.spool_text_field(pipeline.spooled_step(), replay) == expected
    with_peek = Pipeline([StripBoilerplate(learn=True), FieldPeek()])
    assert with_peek.spool_text_field(0, Replay([], ReadOptions())) is None


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_clean_over_a_file_writes_what_it_writes_from_stdin(tmp_path, jobs):
    """From a file the run spools (leaving the input's text out); from stdin it cannot: the
    same bytes out, the text field in its place among the others."""

    def body(n: int) -> str:
        return "".join(chr(0x4E00 + (n * 37 + i * 11) % 5000) for i in range(40)) + "。\n责任编辑：李华"

    lines = [
        json.dumps({"id": str(n), "body": body(n), "date": n % 7}, ensure_ascii=False) for n in range(400)
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    common = ["--text-field", "body", "-j", jobs]
    from_file = vocclean("-i", str(source), *common, "clean")
    from_stdin = vocclean(*common, "clean", stdin=source.read_bytes())
    assert from_file == from_stdin
    first = json.loads(from_file.splitlines()[0])
    assert list(first) == ["id", "body", "date"]
    assert first["body"] == body(0).split("\n")[0]
    assert len(from_file.splitlines()) == 400


def vocclean(*args: str, stdin: bytes = b"") -> bytes:
    run = subprocess.run(
        [sys.executable, "-m", "vocclean", *args], input=stdin, capture_output=True, cwd=REPO
    )
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout
