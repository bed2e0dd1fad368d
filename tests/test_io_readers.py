"""Reading inputs: formats, compression, ids, fields, and bad input as rejected records."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import zlib

import pytest
import zstandard

from tests.conftest import REPO
from vocclean.errors import VoccleanError
from vocclean.io import readers
from vocclean.io.readers import ByteCounter, ReadOptions, parse_json_record, raw_for_rejects, read_inputs
from vocclean.io.sources import expand_inputs
from vocclean.io.writers import dumps, record_fields, reject_fields

CASES = json.loads((REPO / "tests/cases/io/bad_input.json").read_text())
NUMBER_CASES = json.loads((REPO / "tests/cases/io/numbers.json").read_text())


def read_all(*arguments: str, **options) -> list:
    return list(read_inputs(expand_inputs(arguments), ReadOptions(**options), ByteCounter()))


def case_line(case: dict) -> bytes:
    if "line_base64" in case:
        return base64.b64decode(case["line_base64"])
    if "line_repeat" in case:
        piece, count = case["line_repeat"]
        return (piece * count).encode()
    return case["line"].encode()


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_bad_line_becomes_a_rejected_record_naming_file_and_line(tmp_path, case):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "ok", "text": "fine"}\n' + case_line(case) + b"\n")
    good, bad = read_all(str(path))
    assert not good.rejected and good.text == "fine"
    assert bad.rejected and bad.rejection.step == "read"
    assert case["reason"] in bad.rejection.reason
    assert bad.source == f"{path}:2"


def test_fields_are_kept_in_order_and_id_taken_from_the_id_field(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"z": 1, "text": "t", "id": "x", "a": [1]}\n')
    (record,) = read_all(str(path))
    assert record.id == "x"
    assert list(record.fields) == ["z", "text", "id", "a"]


def test_missing_id_becomes_file_and_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "one"}\n\n{"text": "two"}\n')
    ids = [r.id for r in read_all(str(path))]
    assert ids == [f"{path}:1", f"{path}:3"]


def test_numeric_id_is_used_as_a_string(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 7, "text": "t"}\n')
    assert read_all(str(path))[0].id == "7"


def test_text_and_id_field_names_are_options(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"url": "u1", "content": "body"}\n')
    (record,) = read_all(str(path), text_field="content", id_field="url")
    assert (record.id, record.text) == ("u1", "body")


COMPRESSORS = [
    (".gz", gzip.compress),
    (".bz2", bz2.compress),
    (".xz", lzma.compress),
    (".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
]
# What can be decompressed of a cut file: all the output its decompressor gives before the data ends.
RECOVERABLE = {
    ".gz": lambda data: zlib.decompressobj(wbits=31).decompress(data),
    ".bz2": lambda data: bz2.BZ2Decompressor().decompress(data),
    ".xz": lambda data: lzma.LZMADecompressor().decompress(data),
    ".zst": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


@pytest.mark.parametrize("suffix,compress", COMPRESSORS)
def test_compressed_jsonl_is_read_transparently(tmp_path, suffix, compress):
    path = tmp_path / f"a.jsonl{suffix}"
    path.write_bytes(compress(b'{"text": "\xe4\xb8\xad\xe6\x96\x87"}\n{"text": "b"}\n'))
    assert [r.text for r in read_all(str(path))] == ["中文", "b"]


def test_directory_is_walked_recursively_in_sorted_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_bytes(b"z")
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "c.jsonl").write_text('{"text": "c"}\n')
    records = read_all(str(tmp_path))
    assert [r.id for r in records] == ["a.txt", "b/z.txt", f"{tmp_path / 'c.jsonl'}:1"]
    assert records[0].raw == b"a" and records[0].text is None


def test_a_walk_skips_hidden_folders_and_reports_a_broken_link(tmp_path):
    for folder in ("a", ".state", "b/.git"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "x.txt").write_bytes(b"x")
    (tmp_path / ".hidden.txt").write_bytes(b"h")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a" / "x.txt")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "gone.txt")
    records = read_all(str(tmp_path))
    assert [r.id for r in records] == ["a/x.txt", "broken.txt", "link.txt"]
    assert records[1].rejection is not None and "cannot read file" in records[1].rejection.reason
    assert records[2].raw == b"x"


def test_glob_matches_files_sorted(tmp_path):
    for name in ("b.txt", "a.txt", "c.md"):
        (tmp_path / name).write_bytes(b"x")
    records = read_all(str(tmp_path / "*.txt"))
    assert [r.id for r in records] == ["a.txt", "b.txt"]


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(VoccleanError, match="no such file"):
        read_all(str(tmp_path / "nope.jsonl"))


def test_unnamed_file_is_sniffed_as_jsonl_or_text(tmp_path):
    (tmp_path / "one").write_text('{"text": "json"}\n')
    (tmp_path / "two").write_bytes("纯文本".encode())
    first, second = read_all(str(tmp_path))
    assert first.text == "json"
    assert second.raw == "纯文本".encode()


def test_empty_text_file_is_rejected(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (record,) = read_all(str(tmp_path))
    assert record.rejection.reason == "empty file"


def test_empty_jsonl_file_gives_no_records(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert read_all(str(tmp_path)) == []


def test_line_longer_than_the_limit_is_rejected_without_reading_it_whole(tmp_path):
    path = tmp_path / "big.jsonl"
    long_text = "x" * 5000
    path.write_text(f'{{"text": "{long_text}"}}\n{{"text": "after"}}\n')
    big, after = read_all(str(path), max_record_bytes=1000)
    assert big.rejected and "longer than the maximum record size of 1000 bytes" in big.rejection.reason
    assert len(big.raw) <= 1024
    assert after.text == "after" and after.source.endswith(":2")


def test_the_head_kept_of_a_long_line_of_chinese_is_whole_characters_and_written_as_text(tmp_path):
    """A head cut inside a 3-byte character stops before it, so the rejects file shows it as text
    (``raw``), not base64."""
    path = tmp_path / "big.jsonl"
    path.write_text('{"text": "' + "中" * 2000 + '"}\n', encoding="utf-8")
    (big,) = read_all(str(path), max_record_bytes=1000)
    assert big.rejected and len(big.raw) == 1000  # the limit's 1,001 bytes end in a third of 中
    assert raw_for_rejects(big.raw) == {"raw": '{"text": "' + "中" * 330}
    assert readers.kept_head(("ab" + "中" * 2000).encode()) == ("ab" + "中" * 340).encode()
    assert readers.kept_head(b"a" * 2000) == b"a" * 1024
    assert readers.kept_head(b"\xff" * 2000) == b"\xff" * 1024  # not UTF-8 at all: as it was


def test_a_file_that_fails_before_its_first_line_is_rejected_with_its_first_bytes(tmp_path):
    """Not what its first bytes say (a JSONL line starting ``BZh``, a .gz that is not gzip): the
    reject keeps the file's head as it is on disk, so nothing it held is lost without a trace."""
    (tmp_path / "a.jsonl").write_bytes(b'BZh91AY&SY junk\n{"text": "a"}\n')
    (tmp_path / "b.jsonl.gz").write_bytes(b"\x1f\x8b" + bytes(range(200)) * 10)
    a, b = read_all(str(tmp_path))
    assert a.rejected and "cannot read file" in a.rejection.reason
    assert raw_for_rejects(a.raw) == {"raw": 'BZh91AY&SY junk\n{"text": "a"}\n'}
    assert b.rejected and b.raw == (b"\x1f\x8b" + bytes(range(200)) * 10)[:1024]


def test_an_id_that_is_not_a_string_is_its_json():
    options = ReadOptions()
    ids = [b'{"id": true, "text": "a"}', b'{"id": 7, "text": "a"}', b'{"id": [1, "b"], "text": "a"}']
    assert [parse_json_record(line, "f:1", "f", options).id for line in ids] == ["true", "7", '[1,"b"]']


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 20])
def test_lines_are_split_in_blocks_as_readline_splits_them(monkeypatch, block):
    """Lines at the limit, over it (spanning blocks, followed in the same block), CR, no final newline."""
    monkeypatch.setattr(readers, "_CHUNK", block)
    data = b"abcd\nabcde\nab\r\ncd\rx\n" + b"y" * 23 + b"\nz\n\nabcdefg"
    lines = list(readers._lines(io.BufferedReader(io.BytesIO(data)), 4))
    assert lines == [
        (b"abcd\n", 5), (b"abcde", 6), (b"ab\r\n", 4), (b"cd\rx\n", 5), (b"yyyyy", 24), (b"z\n", 2),
        (b"\n", 1), (b"abcde", 7),
    ]  # fmt: skip


def test_a_replay_of_unparsed_lines_parses_into_the_same_records(tmp_path):
    """Replay.lines (lines the workers parse) and Replay (records) give the same records, rejects too."""
    (tmp_path / "a.jsonl").write_bytes(b'{"id": 1, "text": "one"}\nnot json\n\n[1]\n{"text": "four"}')
    (tmp_path / "b.txt").write_bytes(b"plain text")
    options = ReadOptions(max_record_bytes=20)
    replay = readers.Replay(expand_inputs([str(tmp_path)]), options)
    lines = list(replay.lines())
    # The first line is over the limit: rejected by the reader, it is a Record already.
    assert [type(r).__name__ for r in lines] == ["Record", "JsonLine", "JsonLine", "JsonLine", "Record"]
    parsed = [readers.parse_line(r, options) for r in lines]
    assert [(r.id, r.text, r.fields, r.raw, r.source, r.rejection) for r in parsed] == [
        (r.id, r.text, r.fields, r.raw, r.source, r.rejection) for r in replay()
    ]


def test_corrupt_gzip_is_reported_and_the_next_file_still_read(tmp_path):
    data = gzip.compress(b'{"text": "a"}\n' * 1000)
    (tmp_path / "1.jsonl.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "2.jsonl").write_text('{"text": "next"}\n')
    records = read_all(str(tmp_path))
    bad = [r for r in records if r.rejected]
    assert len(bad) == 1 and "corrupt or truncated" in bad[0].rejection.reason
    assert records[-1].text == "next"


@pytest.mark.parametrize("suffix,compress", COMPRESSORS)
@pytest.mark.parametrize("kept", [0.5, 0.9])
def test_a_truncated_compressed_file_keeps_every_complete_line_and_rejects_the_cut_one(
    tmp_path, suffix, compress, kept
):
    # Regression: the lines decompressed in the read that hit the end (285 of 1,798 in a
    # .gz cut at 90%) were in neither the output nor the rejects.
    data = b"".join(
        json.dumps({"id": f"r{i}", "text": f"第{i}条" * 20}, ensure_ascii=False).encode() + b"\n"
        for i in range(20000)
    )
    packed = compress(data)
    path = tmp_path / f"cut.jsonl{suffix}"
    path.write_bytes(packed[: int(len(packed) * kept)])
    *complete, partial = RECOVERABLE[suffix](path.read_bytes()).split(b"\n")
    assert complete, "the test needs complete lines before the cut"
    records = read_all(str(path))
    assert [r.id for r in records if not r.rejected] == [f"r{i}" for i in range(len(complete))]
    (cut,) = [r for r in records if r.rejected]
    assert "corrupt or truncated data" in cut.rejection.reason
    if partial:
        assert (cut.source, cut.raw) == (f"{path}:{len(complete) + 1}", partial)
        assert "inside this line, cut short" in cut.rejection.reason
    else:
        assert (
            cut.source == str(path) and f"after line {len(complete)}, which was read" in cut.rejection.reason
        )


def test_unreadable_file_becomes_a_rejected_record(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_text('{"text": "a"}\n')
    (tmp_path / "b.jsonl").write_text('{"text": "b"}\n')

    def refuse(path):
        if str(path).endswith("a.jsonl"):
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, "rb")

    monkeypatch.setattr("vocclean.io.readers.open_read", refuse)
    locked, readable = read_all(str(tmp_path))
    assert locked.rejected and locked.rejection.reason == "cannot read file: Permission denied"
    assert readable.text == "b"


def test_directory_as_input_to_a_text_reader_error_is_not_raised(tmp_path):
    (tmp_path / "x.txt").mkdir()
    assert read_all(str(tmp_path)) == []


def test_parquet_rows_become_records(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    table = pa.table({"id": ["p1", "p2"], "text": ["一", "二"], "n": [1, 2]})
    pq.write_table(table, tmp_path / "a.parquet")
    records = read_all(str(tmp_path / "a.parquet"))
    assert [(r.id, r.text, r.fields["n"]) for r in records] == [("p1", "一", 1), ("p2", "二", 2)]


def test_parquet_binary_is_its_utf8_text_or_the_row_is_rejected_and_a_missing_float_is_null(tmp_path):
    """Binary values came out as Python's repr (``"b'\\x00\\xff'"``): now the UTF-8 text they hold,
    or the row rejected naming the field, kept in the reject with the value as base64."""
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    blobs = [b"\x00\xff", "中".encode(), None]
    table = pa.table(
        {"id": ["a", "b", "c"], "text": ["甲", "乙", "丙"], "f": [float("nan"), 1.5, None], "blob": blobs}
    )
    pq.write_table(table, tmp_path / "t.parquet")
    bad, b, c = read_all(str(tmp_path / "t.parquet"))
    assert bad.rejected and "the field 'blob' holds binary data, not UTF-8 text" in bad.rejection.reason
    assert bad.fields == {"id": "a", "text": "甲", "f": None, "blob": "AP8="}
    assert (b.fields["blob"], b.fields["f"]) == ("中", 1.5)
    assert (c.fields["blob"], c.fields["f"]) == (None, None)


@pytest.mark.parametrize(("annotations", "expected"), [(True, {"script": "mixed"}), (False, {})])
def test_an_earlier_runs_vocclean_object_is_read_as_annotations_unless_told_not_to(annotations, expected):
    line = json.dumps({"id": "a", "text": "正文", "vocclean": {"script": "mixed"}}).encode()
    record = readers.parse_json_record(line, "in.jsonl:1", "in.jsonl", ReadOptions(annotations=annotations))
    assert record.annotations == expected
    assert record.fields["vocclean"] == {"script": "mixed"}  # the field itself is the input's, kept


@pytest.mark.parametrize("case", NUMBER_CASES, ids=[c["label"] for c in NUMBER_CASES])
def test_numbers_are_written_back_as_read_or_the_line_is_rejected_whole(case):
    # Regression: integers wider than 64 bits became floats (two ids collided), NaN and 1e999
    # became null, and a record holding a wide integer was written with Infinity and \u escapes.
    line = case["line"].encode()
    record = readers.parse_json_record(line, "in.jsonl:1", "in.jsonl", ReadOptions())
    if "reason" in case:
        assert record.rejected and case["reason"] in record.rejection.reason
        assert reject_fields(record, "text", "id")["raw"] == case["line"]
        return
    assert not record.rejected, record.rejection
    assert (
        dumps(record_fields(record, "text", "id", annotate=False)).decode()
        == case.get("output", case["line"]) + "\n"
    )
    assert record.id == case.get("id", record.id)


# '上' (U+4E0A) and '഍' (U+0D0D) hold the bytes of a newline and a carriage return in UTF-16 and UTF-32.
WIDE_RECORDS = [{"id": "a", "text": "上海\n第一篇 news"}, {"id": "b", "text": "第二篇 ഍ 上"}]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-be", "utf-8-sig"])
def test_a_utf16_or_utf32_jsonl_file_is_decoded_by_its_bom_or_its_nul_bytes(tmp_path, encoding):
    # Regression: a UTF-16 file of 2 records gave 9 rejects, "str is not valid UTF-8: surrogates not allowed".
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in WIDE_RECORDS)
    path = tmp_path / "wide.jsonl"
    path.write_bytes(text.encode(encoding))
    records = read_all(str(path))
    expected = [(r["id"], r["text"], None) for r in WIDE_RECORDS]
    assert [(r.id, r.text, r.rejection) for r in records] == expected


def test_a_compressed_utf16_file_is_decoded_and_a_cut_one_keeps_its_complete_lines(tmp_path):
    records = [{"id": f"r{i}", "text": "上海" * i} for i in range(50)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path = tmp_path / "wide.jsonl.gz"
    path.write_bytes(gzip.compress(text.encode("utf-16")))
    assert [r.id for r in read_all(str(path))] == [f"r{i}" for i in range(50)]
    path.write_bytes(gzip.compress(text.encode("utf-16") + b"\x00"))  # half a character at the end
    *complete, cut = read_all(str(path))
    assert [r.id for r in complete] == [f"r{i}" for i in range(50)]
    assert cut.rejected and "after line 50, which was read" in cut.rejection.reason
    assert "utf-16" in cut.rejection.reason


def test_a_folder_that_cannot_be_listed_is_rejected_by_name_not_skipped(tmp_path, monkeypatch):
    import os

    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"b")
    listing = os.scandir

    def scandir(path="."):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)  # as for a folder without read permission
    records = read_all(str(tmp_path))
    assert [r.id for r in records] == ["a.txt", "sub"]
    assert records[1].rejection.reason == "cannot list folder: Permission denied; its files were not read"
