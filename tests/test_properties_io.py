"""Readers and writers on any bytes: nothing raises, every line is accounted for, fields round-trip."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import zstandard
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import PROPERTY_SETTINGS, RAW_BYTES, json_record, jsonl_line, jsonl_lines
from vocclean.io.readers import ByteCounter, ReadOptions, read_inputs
from vocclean.io.sources import expand_inputs
from vocclean.io.writers import RecordWriter, reject_fields


def read_file(path: Path, **options) -> list:
    return list(read_inputs(expand_inputs([str(path)]), ReadOptions(**options), ByteCounter()))


class Collect:
    """A sink that keeps what a RecordWriter writes."""

    def __init__(self) -> None:
        self.data = io.BytesIO()

    def write(self, record, data: bytes) -> None:
        self.data.write(data)


@PROPERTY_SETTINGS
@given(data=st.binary(max_size=2000))
def test_any_bytes_as_a_jsonl_file_give_one_record_per_non_blank_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("io") / "in.jsonl"
    path.write_bytes(data)
    records = read_file(path)
    lines = [line for line in data.split(b"\n") if line.strip()]
    assert len(records) == len(lines)
    for record in records:
        assert record.rejected or isinstance(record.text, str)
        if record.rejected:
            assert record.rejection.step == "read" and record.rejection.reason


@PROPERTY_SETTINGS
@given(
    data=st.binary(max_size=500), suffix=st.sampled_from([".jsonl.gz", ".jsonl.zst", ".txt.gz", ".txt", ""])
)
def test_any_bytes_under_a_compressed_or_plain_name_never_raise(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("io") / f"in{suffix}"
    path.write_bytes(data)
    for record in read_file(path):
        assert record.rejected or record.text is not None or record.raw is not None


@PROPERTY_SETTINGS
@given(data=RAW_BYTES, kind=st.sampled_from(["gz", "zst"]), cut=st.integers(0, 100))
def test_truncated_compressed_files_keep_what_was_read_and_reject_the_rest(tmp_path_factory, data, kind, cut):
    lines = jsonl_line({"text": "before"}) * 3 + data.replace(b"\n", b" ") + b"\n"
    packed = gzip.compress(lines) if kind == "gz" else zstandard.ZstdCompressor().compress(lines)
    path = tmp_path_factory.mktemp("io") / f"in.jsonl.{kind}"
    path.write_bytes(packed[: max(1, len(packed) * cut // 100)])
    records = read_file(path)
    assert all(r.rejected or r.text is not None for r in records)
    assert sum(1 for r in records if r.rejected and r.rejection.reason.startswith("cannot read file")) <= 1


@PROPERTY_SETTINGS
@given(records=st.lists(json_record(), max_size=6))
def test_written_records_read_back_with_the_same_fields(tmp_path_factory, records):
    path = tmp_path_factory.mktemp("io") / "in.jsonl"
    path.write_bytes(b"".join(jsonl_line(r) for r in records))
    read = [r for r in read_file(path) if not r.rejected]
    sink = Collect()
    writer = RecordWriter(sink, "text", "id", annotate=False)
    for record in read:
        writer.write(record)
    again = path.with_name("again.jsonl")
    again.write_bytes(sink.data.getvalue())
    reread = read_file(again)
    assert [r.fields for r in reread] == [
        {"id": r.id, **r.fields} if "id" not in r.fields else r.fields for r in read
    ]
    # A generated id is written out only where the input had no id field (a null one stays null).
    assert [r.id for r in reread if r.fields.get("id") is not None] == [
        r.id for r in read if r.fields.get("id", r.id) is not None
    ]


@PROPERTY_SETTINGS
@given(lines=jsonl_lines())
def test_every_rejected_line_is_written_whole_to_the_rejects_as_json(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("io") / "in.jsonl"
    path.write_bytes(b"".join(lines))
    for record in read_file(path):
        if not record.rejected:
            continue
        out = json.loads(json.dumps(reject_fields(record, "text", "id")))  # serialisable, any content
        assert out["vocclean"]["rejected_by"] == "read" and out["vocclean"]["source"] == record.source
        assert "raw" in out or "raw_base64" in out


@PROPERTY_SETTINGS
@given(data=RAW_BYTES)
def test_a_plain_text_file_keeps_its_bytes_until_decoded(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("io") / "article.txt"
    path.write_bytes(data)
    (record,) = read_file(path)
    if record.rejected:
        assert record.rejection.reason == "empty file" and not data.strip()
    else:
        assert record.raw == data and record.text is None
