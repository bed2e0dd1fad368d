"""The spool between the two passes of a learning run: records come back as they went in, no file stays."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest

from vocclean.engines.local import ParallelPipeline
from vocclean.io.readers import ReadOptions, Replay
from vocclean.io.sources import expand_inputs
from vocclean.io.spool import Spool, write_chunk
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.runner import RunOptions, run
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.strip_boilerplate import StripBoilerplate


def as_tuple(record: Record) -> tuple:
    return (record.id, record.text, record.fields, record.raw, record.source, record.file,
            record.annotations, record.rejection)  # fmt: skip


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


LINE = '{{"id": "{n}", "text": "{body}。\\n本报记者 王明\\n责任编辑：李华"}}\n'
CORPUS = (
    "".join(
        LINE.format(n=n, body="".join(chr(0x4E00 + (n * 37 + i * 11) % 5000) for i in range(40)))
        for n in range(300)
    )
    + "{broken\n"
)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_learning_run_over_files_spools_once_and_leaves_no_file(tmp_path, monkeypatch, jobs):
    source = tmp_path / "in.jsonl"
    source.write_text(CORPUS, encoding="utf-8")
    spool_root = tmp_path / "tmp"
    spool_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_root))
    results = {}
    for spooled in (True, False):
        steps = [FixEncoding(), StripBoilerplate(learn=True, learn_min_docs=3)]
        pipeline = Pipeline(steps) if jobs == 1 else ParallelPipeline(steps, jobs=jobs, chunk_records=16)
        rejects: list[Record] = []
        replay = Replay(expand_inputs((str(source),)), ReadOptions())
        out = pipeline.run(iter(replay()), rejects.append, replay, str(spool_root) if spooled else None)
        results[spooled] = (
            [as_tuple(r) for r in out],
            [as_tuple(r) for r in rejects],
            [(s.name, s.records_in, s.records_out, s.rejected, dict(s.counters)) for s in pipeline.stats],
        )
    assert results[True] == results[False]
    assert [r[-1].step for r in results[True][1]] == ["read"]  # the broken line
    assert list(spool_root.iterdir()) == []
    result = run([FixEncoding(), StripBoilerplate(learn=True)], RunOptions(inputs=(str(source),),
                 output=str(tmp_path / "out.jsonl"), jobs=jobs, chunk_records=16))  # fmt: skip
    assert result.written == 300
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
