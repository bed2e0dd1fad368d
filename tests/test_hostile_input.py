"""Hostile input: what a malicious or broken file can do is bounded, and it is rejected with a reason.

Memory is measured on a real child process (its peak RSS, read by a small
wrapper process that runs nothing else), so that the bound is the one a user
gets, not a property of a mocked stream.
"""

from __future__ import annotations

import gzip
import json
import lzma
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import orjson
import pytest
import zstandard

from tests.conftest import REPO
from vocclean.io.compression import EXPANSION_ALLOWANCE, MAX_EXPANSION
from vocclean.io.readers import MAX_JSON_DEPTH, ByteCounter, ReadOptions, read_inputs
from vocclean.io.sources import expand_inputs
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate
from vocclean.text.regex_safety import exponential_backtracking

MIB = 1024 * 1024


def read_all(*arguments: str, **options) -> list:
    return list(read_inputs(expand_inputs(arguments), ReadOptions(**options), ByteCounter()))


def run_measured(*args: str, stdin_path: Path | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """Run the real CLI; return the result and the child's peak resident memory in MiB."""
    wrapper = textwrap.dedent(
        """
        import resource, subprocess, sys
        stdin = open(sys.argv[1], "rb") if sys.argv[1] else subprocess.DEVNULL
        done = subprocess.run([sys.executable, "-m", "vocclean", *sys.argv[2:]], stdin=stdin,
                              capture_output=True)
        sys.stderr.buffer.write(done.stderr)
        sys.stdout.buffer.write(done.stdout)
        print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
        sys.exit(done.returncode)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, str(stdin_path or ""), *args],
        capture_output=True,
        cwd=REPO,
        timeout=300,
    )
    *messages, peak_kib = result.stderr.decode().rstrip("\n").split("\n")
    result.stderr = "\n".join(messages).encode()
    return result, int(peak_kib) // 1024


def fix_encoding_cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vocclean", "-i", str(path), "fix-encoding"],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )


def baseline_peak_mib(tmp_path: Path) -> int:
    """Peak RSS of the same command on a one-record input: what Python and the libraries cost."""
    small = tmp_path / "small.jsonl"
    small.write_text('{"text": "ok"}\n')
    _, peak = run_measured("-i", str(small), "-j", "1", "fix-encoding")
    return peak


def write_zstd_bomb(path: Path, expanded_bytes: int, block: bytes = b"a" * MIB) -> None:
    """A small .zst file of ``expanded_bytes`` of repeated bytes (no newline unless in ``block``)."""
    with open(path, "wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        for _ in range(expanded_bytes // len(block)):
            out.write(block)


# JSON nested deeply


def test_a_json_line_nested_100000_deep_is_rejected_with_a_reason(tmp_path):
    path = tmp_path / "deep.jsonl"
    depth = 100_000
    path.write_bytes(b'{"text": "x", "a": ' + b"[" * depth + b"]" * depth + b"}\n" + b'{"text": "after"}\n')
    deep, after = read_all(str(path))
    assert deep.rejected and deep.rejection.reason.startswith("invalid JSON: depth limit exceeded")
    assert after.text == "after"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1020])
def test_json_nested_deeper_than_the_limit_is_rejected_at_read_not_crashing_the_writer(tmp_path, depth):
    # Regression: a line 1,020 deep parsed (orjson reads 1,024 levels) but the writer's fallback
    # raised RecursionError and the run ended in a traceback.
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b'{"text": "x", "a": ' + b"[" * depth + b"]" * depth + b"}\n" + b'{"text": "after"}\n')
    result = fix_encoding_cli(path)
    assert result.returncode == 1, result.stderr
    assert f"{path}:1: JSON nested deeper than {MAX_JSON_DEPTH} levels" in result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == ["after"]


def test_json_nested_up_to_the_limit_is_kept_and_written_back_unchanged(tmp_path):
    depth = MAX_JSON_DEPTH - 1  # the record object itself is one level
    nested = "[" * depth + "]" * depth
    path = tmp_path / "deep.jsonl"
    path.write_text(f'{{"id": "d", "text": "x", "a": {nested}}}\n')
    result = fix_encoding_cli(path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["a"] == json.loads(nested)


def test_many_brackets_inside_strings_are_not_mistaken_for_nesting(tmp_path):
    path = tmp_path / "brackets.jsonl"
    path.write_text(json.dumps({"text": "[" * 5000 + "{" * 5000}) + "\n")
    (record,) = read_all(str(path))
    assert not record.rejected and record.text.startswith("[[")


# Lines longer than the maximum record size


def test_a_line_longer_than_the_maximum_is_rejected_without_being_held_in_memory(tmp_path):
    line_bytes = 300 * MIB
    path = tmp_path / "long.jsonl"
    with open(path, "wb") as out:
        out.write(b'{"text": "')
        chunk = "长".encode() * (MIB // 3)
        for _ in range(line_bytes // len(chunk)):
            out.write(chunk)
        out.write(b'"}\n{"id": "after", "text": "ok"}\n')
    baseline = baseline_peak_mib(tmp_path)
    result, peak = run_measured("-i", str(path), "-j", "1", "fix-encoding")
    assert result.returncode == 1
    assert "longer than the maximum record size of 16777216 bytes" in result.stderr.decode()
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["after"]
    # The limit (16 MiB) is held at most a few times over, never the 300 MiB line.
    assert peak - baseline < 100, f"peak {peak} MiB, baseline {baseline} MiB"


# Decompression bombs


def test_a_zstd_bomb_is_rejected_as_a_file_without_being_expanded_whole(tmp_path):
    expanded = 2 * 1024 * MIB  # 2 GiB of "a" in a file of a few hundred KiB
    bomb = tmp_path / "in" / "bomb.jsonl.zst"
    bomb.parent.mkdir()
    write_zstd_bomb(bomb, expanded)
    assert bomb.stat().st_size * MAX_EXPANSION < expanded
    (tmp_path / "in" / "next.jsonl").write_text('{"id": "next", "text": "ok"}\n')
    rejects = tmp_path / "rejects.jsonl"
    baseline = baseline_peak_mib(tmp_path)
    result, peak = run_measured(
        "-i", str(tmp_path / "in"), "-j", "1", "--rejects", str(rejects), "fix-encoding"
    )
    assert result.returncode == 1
    err = result.stderr.decode()
    assert f"{bomb}: cannot read file: it expands more than {MAX_EXPANSION} times" in err
    assert "decompression bomb" in err
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["next"]
    (reject,) = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert reject["id"] == "bomb.jsonl.zst" and reject["vocclean"]["rejected_by"] == "read"
    assert peak - baseline < 100, f"peak {peak} MiB, baseline {baseline} MiB"


def test_a_gzip_bomb_of_blank_lines_is_rejected_not_read_to_the_end(tmp_path):
    # Blank lines are skipped, so without a bound this would be read for minutes yielding nothing.
    bomb = tmp_path / "blank.jsonl.gz"
    with gzip.GzipFile(bomb, "wb", compresslevel=1, mtime=0) as out:
        block = (b" " * 1023 + b"\n") * 1024
        for _ in range(EXPANSION_ALLOWANCE // MIB + 64):
            out.write(block)
    (record,) = read_all(str(bomb))
    assert record.rejected and "decompression bomb" in record.rejection.reason


def test_a_compressed_bomb_on_stdin_is_rejected_too(tmp_path):
    bomb = tmp_path / "bomb.zst"
    write_zstd_bomb(bomb, EXPANSION_ALLOWANCE + 64 * MIB, block=(b" " * 1023 + b"\n") * 1024)
    result, _ = run_measured("-j", "1", "fix-encoding", stdin_path=bomb)
    assert result.returncode == 1
    assert "decompression bomb" in result.stderr.decode() and b"Traceback" not in result.stderr


def test_compressed_text_that_expands_like_text_is_read_whole(tmp_path):
    # Ordinary compressed JSONL (here ~4x) passes the guard, however large: the bound is a ratio.
    lines = b"".join(
        json.dumps({"id": str(i), "text": f"第{i}条新闻，内容各不相同：{i * 7919 % 100003}"}).encode() + b"\n"
        for i in range(20000)
    )
    path = tmp_path / "ok.jsonl.gz"
    path.write_bytes(gzip.compress(lines))
    records = read_all(str(path))
    assert len(records) == 20000 and not any(r.rejected for r in records)


# Corrupt compressed members


def test_a_corrupt_zstd_frame_is_reported_and_the_next_file_read(tmp_path):
    # Regression: zstandard.ZstdError is not an OSError or ValueError; it escaped as a traceback.
    good = zstandard.ZstdCompressor(write_checksum=True).compress(b'{"text": "a"}\n' * 100)
    (tmp_path / "1.jsonl.zst").write_bytes(good + b"\x28\xb5\x2f\xfd" + b"\xff" * 20)
    (tmp_path / "2.jsonl").write_text('{"text": "next"}\n')
    records = read_all(str(tmp_path))
    bad = [r for r in records if r.rejected]
    assert len(bad) == 1 and bad[0].id == "1.jsonl.zst"
    assert "corrupt or truncated data (zstd decompress" in bad[0].rejection.reason
    assert [r.text for r in records if not r.rejected] == ["a"] * 100 + ["next"]


def test_a_zstd_frame_failing_its_checksum_is_reported(tmp_path):
    frame = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(bytes(range(256)) * 100))
    frame[len(frame) // 2] ^= 0xFF
    (tmp_path / "1.jsonl.zst").write_bytes(bytes(frame))
    (record,) = read_all(str(tmp_path))
    assert record.rejected and "corrupt or truncated" in record.rejection.reason


def test_a_corrupt_gzip_member_in_the_middle_is_reported_and_the_next_file_read(tmp_path):
    good = gzip.compress(b'{"text": "a"}\n' * 100)
    bad = bytearray(gzip.compress(b'{"text": "b"}\n' * 1000))
    bad[len(bad) // 2] ^= 0xFF
    (tmp_path / "1.jsonl.gz").write_bytes(good + bytes(bad) + good)
    (tmp_path / "2.jsonl").write_text('{"text": "next"}\n')
    records = read_all(str(tmp_path))
    # The lines decompressed before the damage is found (at the member's CRC) are read: here
    # garbage, rejected as invalid JSON; reading stops at the line the CRC check fails in.
    (cut,) = [r for r in records if r.rejected and r.rejection.reason.startswith("cannot read file")]
    assert cut.file == "1.jsonl.gz" and "CRC check failed" in cut.rejection.reason
    assert [r.text for r in records if not r.rejected] == ["a"] * 100 + ["next"]


# Catastrophic regular expressions in a user's rule pack

REGEX_CASES = json.loads((REPO / "tests/cases/hostile/regexes.json").read_text(encoding="utf-8"))

CATASTROPHIC_PACK = """
[[rule]]
name = "my-footer"
kind = "credit"
where = "anywhere"
literals = ["a"]
max_chars = 200
pattern = '''(a+)+$'''
examples = ["aaaa"]
counter_examples = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"]
comment = "The counter-example alone takes 2**40 steps to reject with a backtracking engine."
"""


@pytest.mark.parametrize("case", REGEX_CASES, ids=[c["label"] for c in REGEX_CASES])
def test_exponential_backtracking_is_recognised_and_safe_shapes_are_not(case):
    assert (exponential_backtracking(case["pattern"]) is not None) == case["refused"]


def test_a_rule_pack_with_a_catastrophic_regex_is_refused_before_it_runs(tmp_path):
    pack = tmp_path / "mine.toml"
    pack.write_text(CATASTROPHIC_PACK, encoding="utf-8")
    # Refused before its counter-example is matched: otherwise this would not return for hours.
    result = subprocess.run(
        [sys.executable, "-m", "vocclean", "strip-boilerplate", "--rules", str(pack)],
        input=b'{"text": "x"}\n',
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 2
    err = result.stderr.decode()
    assert f"{pack}: rule 'my-footer': the pattern can take exponential time" in err
    assert "possessive" in err and "Traceback" not in err


def test_the_same_rule_made_possessive_is_accepted_and_applied(tmp_path):
    pack = tmp_path / "mine.toml"
    pack.write_text(CATASTROPHIC_PACK.replace("(a+)+$", "(?:a++)+$"), encoding="utf-8")
    step = StripBoilerplate(rules=[pack], builtin_rules=False)
    records = [Record(id="1", text="正文第一段。\n" + "a" * 40 + "!\naaaa\n正文第二段。")]
    (out,) = Pipeline([step]).run(records, on_reject=lambda record: None)
    assert out.text == "正文第一段。\n" + "a" * 40 + "!\n正文第二段。"


def test_an_id_that_is_an_object_with_a_lone_surrogate_key_is_used_not_a_crash(tmp_path):
    # Found by tests/test_properties_steps.py: orjson refuses lone surrogates, so turning this id
    # into a string raised TypeError out of the reader and ended the run.
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": {"\\ud800": null}, "text": "x"}\n')
    (record,) = read_all(str(path))
    assert not record.rejected and record.id == '{"\\ud800":null}'


@pytest.mark.parametrize("kept", [0.5, 0.999])
def test_a_truncated_zstd_file_is_reported_not_read_as_a_shorter_one(tmp_path, kept):
    # Regression (found by tests/test_properties_io.py): zstandard's stream reader ends quietly
    # at a cut frame, so a half-downloaded .zst gave fewer records and no error at all.
    data = zstandard.ZstdCompressor().compress(b"".join(b'{"text": "line %d"}\n' % i for i in range(10000)))
    path = tmp_path / "cut.jsonl.zst"
    path.write_bytes(data[: int(len(data) * kept)])
    records = read_all(str(path))
    (bad,) = [r for r in records if r.rejected and r.rejection.reason.startswith("cannot read file")]
    assert "ends inside a zstd frame (truncated file)" in bad.rejection.reason
    assert len(records) < 10000


def test_concatenated_zstd_frames_are_all_read(tmp_path):
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "frames.jsonl.zst"
    path.write_bytes(compressor.compress(b'{"text": "one"}\n') + compressor.compress(b'{"text": "two"}\n'))
    assert [r.text for r in read_all(str(path))] == ["one", "two"]


def test_a_corrupt_xz_file_is_reported_not_a_traceback(tmp_path):
    # Regression (found by the fuzz smoke, tests/fuzz): lzma.LZMAError is neither an OSError
    # nor a ValueError and escaped the reader.
    data = bytearray(lzma.compress(b'{"text": "a"}\n' * 100))
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "1.jsonl.xz").write_bytes(bytes(data))
    (tmp_path / "2.jsonl").write_text('{"text": "next"}\n')
    records = read_all(str(tmp_path))
    bad = [r for r in records if r.rejected]
    assert len(bad) == 1 and bad[0].rejection.reason.startswith("cannot read file: corrupt or truncated data")
    assert records[-1].text == "next"


# Lone surrogates in text (JSON input can carry "\ud800"; found by the fuzz smoke)


def test_normalize_script_converts_around_lone_surrogates():
    # Regression: opencc takes UTF-8, so a lone surrogate made every such record an internal error.
    step = NormalizeScript()
    (out,) = Pipeline([step]).run([Record(id="1", text="臺灣\udce9的國家發展委員會")], on_reject=print)
    assert out.text == "台湾\udce9的国家发展委员会"


def test_fix_encoding_survives_lone_surrogates():
    rejected: list[Record] = []
    records = [Record(id="1", text="é\udcfe"), Record(id="2", text="ÖÐ¹ú\udc82Õþ¸®")]
    list(Pipeline([FixEncoding()]).run(records, on_reject=rejected.append))
    assert [r.rejection.reason for r in rejected] == []


# Numbers JSON readers disagree on


def test_wide_integers_nan_and_overflowing_numbers_give_the_same_valid_output_with_any_workers(tmp_path):
    lines = [
        b'{"id":12345678901234567890123,"text":"a"}',
        b'{"id":12345678901234567890124,"text":"b"}',
        b'{"id":"c","text":"c","n":NaN,"m":1e999}',
        b'{"id":"d","text":"\xe7\xac\xac\xe5\x9b\x9b\xe7\xaf\x87","n":1e999,"big":123456789012345678901234567890}',
        b'{"id":"e","text":"\xe7\xac\xac\xe4\xba\x94\xe7\xaf\x87","big":123456789012345678901234567890}',
    ]
    path = tmp_path / "numbers.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    outputs = []
    for workers in ("1", "2"):
        rejects = tmp_path / f"rejects{workers}.jsonl"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "vocclean",
                "-j",
                workers,
                "-i",
                str(path),
                "--rejects",
                str(rejects),
                "fix-encoding",
            ],
            capture_output=True,
            cwd=REPO,
            timeout=120,
        )
        assert result.returncode == 1, result.stderr
        outputs.append((result.stdout, rejects.read_bytes()))
    assert outputs[0] == outputs[1]
    stdout, rejected = outputs[0]
    assert stdout.splitlines() == [lines[0], lines[1], lines[4]]  # exact digits, UTF-8 text
    raws = [orjson.loads(line)["raw"].encode() for line in rejected.splitlines()]  # strict JSON
    assert raws == [lines[2], lines[3]]


def test_a_truncated_gzip_on_stdin_keeps_its_complete_lines_and_names_stdin(tmp_path):
    data = b"".join(b'{"id": "r%d", "text": "%s"}\n' % (i, "第%d条".encode() % i * 20) for i in range(2000))
    packed = gzip.compress(data)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: int(len(packed) * 0.9)])
    *complete, _ = zlib.decompressobj(wbits=31).decompress(cut.read_bytes()).split(b"\n")
    with open(cut, "rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "vocclean", "fix-encoding"], stdin=stdin, capture_output=True, cwd=REPO
        )
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == len(complete) > 1000
    err = result.stderr.decode()
    assert f"vocclean: <stdin>:{len(complete) + 1}: cannot read file: corrupt or truncated data" in err, err
