"""Writing output: JSONL fields and ids, rejects, directories, compression, atomicity, determinism."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO
from vocclean.errors import VoccleanError
from vocclean.io.writers import join_files, write_all
from vocclean.record import Record
from vocclean.runner import RunOptions, run
from vocclean.steps.base import RecordStep


class Fails(RecordStep):
    """Raises KeyboardInterrupt on the second record, as Ctrl-C would mid-run."""

    name = "fails"

    def __init__(self):
        super().__init__()
        self.seen = 0

    def process(self, record: Record) -> Record:
        self.seen += 1
        if self.seen == 2:
            raise KeyboardInterrupt
        return record


def lines(path) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_generated_id_comes_first_and_other_fields_keep_their_order(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"title": "t", "text": "body", "n": 1}\n')
    run([], RunOptions(inputs=(str(source),), output=str(tmp_path / "out.jsonl")))
    (out,) = lines(tmp_path / "out.jsonl")
    assert list(out) == ["id", "title", "text", "n"]
    assert out["id"] == f"{source}:1"


def test_annotations_are_written_only_with_annotate(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "body"}\n')

    class Note(RecordStep):
        name = "note"

        def process(self, record):
            record.annotate(seen=True)
            return record

    run([Note()], RunOptions(inputs=(str(source),), output=str(tmp_path / "plain.jsonl")))
    run([Note()], RunOptions(inputs=(str(source),), output=str(tmp_path / "ann.jsonl"), annotate=True))
    assert "vocclean" not in lines(tmp_path / "plain.jsonl")[0]
    assert lines(tmp_path / "ann.jsonl")[0]["vocclean"] == {"seen": True}


def test_rejects_file_holds_the_whole_record_and_why(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": "a", "text": "ok"}\nnot json\n{"id": "b", "text": "x", "keep": [1]}\n')

    class DropB(RecordStep):
        name = "drop-b"

        def process(self, record):
            return record.reject(self.name, "b is unwanted") if record.id == "b" else record

    result = run(
        [DropB()],
        RunOptions(
            inputs=(str(source),), output=str(tmp_path / "o.jsonl"), rejects=str(tmp_path / "r.jsonl")
        ),
    )
    bad_json, dropped = lines(tmp_path / "r.jsonl")
    assert bad_json["raw"] == "not json" and bad_json["vocclean"]["rejected_by"] == "read"
    assert bad_json["vocclean"]["source"] == f"{source}:2"
    assert dropped["keep"] == [1] and dropped["vocclean"]["reason"] == "b is unwanted"
    assert (result.records_in, result.written, result.rejected, result.bad_input) == (3, 1, 2, 1)


def test_non_utf8_raw_line_is_kept_in_rejects_as_base64(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\xff\xfe junk\n")
    run(
        [],
        RunOptions(
            inputs=(str(source),), output=str(tmp_path / "o.jsonl"), rejects=str(tmp_path / "r.jsonl")
        ),
    )
    (reject,) = lines(tmp_path / "r.jsonl")
    assert reject["raw_base64"] == "//4ganVuaw=="


def test_output_compressed_by_extension_and_byte_identical_across_runs(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(f'{{"text": "第{i}条"}}\n' for i in range(100)))
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        run([], RunOptions(inputs=(str(source),), output=str(tmp_path / name)))
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert lines(tmp_path / "a.jsonl.gz")[99]["text"] == "第99条"


def test_directory_output_mirrors_input_names(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_bytes("甲".encode())
    (src / "b.jsonl.gz").write_bytes(gzip.compress(b'{"text": "b"}\n'))
    out = tmp_path / "out"
    run([], RunOptions(inputs=(str(src),), output=f"{out}/"))
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert [n for n in names if not n.startswith(".")] == ["b.jsonl.gz", "sub", "sub/a.jsonl"]
    assert lines(out / "sub" / "a.jsonl") == [{"id": "sub/a.txt", "text": "甲"}]
    assert lines(out / "b.jsonl.gz")[0]["text"] == "b"


def test_text_format_writes_articles_back_as_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes("正文\n".encode())
    run([], RunOptions(inputs=(str(src),), output=str(tmp_path / "out"), format="text"))
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == "正文\n"


def test_text_format_names_a_jsonl_record_by_its_id_always_ending_in_txt(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "d.jsonl").write_text(
        '{"text": "甲"}\n{"id": "page.html", "text": "乙"}\n{"id": "c.TXT", "text": "丙"}\n'
    )
    run([], RunOptions(inputs=(str(src),), output=str(tmp_path / "out"), format="text"))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    generated = f"{(src / 'd.jsonl').as_posix().strip('/').replace('/', '_')}_1.txt"  # the id FILE:1
    assert names == sorted([generated, "c.TXT", "page.html.txt"])


def test_text_format_to_stdout_is_a_usage_error(tmp_path):
    with pytest.raises(VoccleanError, match="needs -o DIRECTORY"):
        run([], RunOptions(inputs=(str(tmp_path),), format="text"))


def test_interrupted_run_leaves_no_file_under_the_final_name(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a"}\n{"text": "b"}\n{"text": "c"}\n')
    with pytest.raises(KeyboardInterrupt):
        run(
            [Fails()],
            RunOptions(
                inputs=(str(source),), output=str(tmp_path / "out.jsonl"), rejects=str(tmp_path / "r.jsonl")
            ),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_rejects_to_stdout_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(VoccleanError, match="--rejects needs a file path"):
        run([], RunOptions(inputs=(str(tmp_path),), output=str(tmp_path / "o.jsonl"), rejects="-"))
    assert not (tmp_path / "o.jsonl").exists()


def test_directory_output_has_a_file_for_every_input_even_when_all_its_records_were_dropped(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_text('{"text": "keep"}\n')
    (src / "b.jsonl.gz").write_bytes(gzip.compress(b'{"text": "drop"}\n'))

    class DropAll(RecordStep):
        name = "drop"

        def process(self, record):
            return record.reject(self.name, "unwanted") if record.text == "drop" else record

    run([DropAll()], RunOptions(inputs=(str(src),), output=f"{tmp_path / 'out'}/", jobs=1))
    assert lines(tmp_path / "out" / "b.jsonl.gz") == []
    assert lines(tmp_path / "out" / "a.jsonl")[0]["text"] == "keep"


def test_join_files_writes_the_parts_in_order_or_nothing(tmp_path):
    parts = [tmp_path / "a", tmp_path / "b"]
    parts[0].write_bytes(b"1\n")
    parts[1].write_bytes(b"2\n3\n")
    target = tmp_path / "out.jsonl"
    join_files(parts, str(target))
    assert target.read_bytes() == b"1\n2\n3\n"
    with pytest.raises(FileNotFoundError):
        join_files([parts[1], tmp_path / "missing"], str(target))
    assert target.read_bytes() == b"1\n2\n3\n"  # the failed join left the earlier file whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "out.jsonl"]


ONE_GOOD_ONE_BAD = '{"id": "a", "text": "第一条"}\nnot json\n'


def null_device(path: Path) -> Path:
    """A character device like /dev/null at ``path``: never the real one, which a writer that
    renames over its target would replace with a regular file."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root (CAP_MKNOD)")
    return path


def is_null_device(path: Path) -> bool:
    info = os.lstat(path)
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)


class FifoReader(threading.Thread):
    """Reads a FIFO to its end, as the other side of a shell pipe would. A daemon: when the
    writer never opens the FIFO, the test fails on ``finish`` instead of hanging."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.data = b""
        self.start()

    def run(self) -> None:
        with open(self.path, "rb") as stream:
            self.data = stream.read()

    def finish(self) -> bytes:
        self.join(timeout=30)
        assert not self.is_alive(), f"{self.path} was never written and closed"
        return self.data


def expected_output_and_rejects(tmp_path: Path, source: Path) -> tuple[bytes, bytes]:
    """What a run writes to regular files, to compare the other kinds of target with."""
    out, rejects = tmp_path / "expected.jsonl", tmp_path / "expected-rejects.jsonl"
    run([], RunOptions(inputs=(str(source),), output=str(out), rejects=str(rejects)))
    data = out.read_bytes(), rejects.read_bytes()
    out.unlink()
    rejects.unlink()
    return data


def test_output_and_rejects_to_a_device_are_written_into_it_and_the_device_stays(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    out, rejects = null_device(tmp_path / "null"), null_device(tmp_path / "rejects.jsonl")
    result = run([], RunOptions(inputs=(str(source),), output=str(out), rejects=str(rejects)))
    assert (result.written, result.bad_input) == (1, 1)
    assert is_null_device(out) and is_null_device(rejects)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "null", "rejects.jsonl"]


def test_an_interrupted_run_into_a_device_leaves_the_device_in_place(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    out = null_device(tmp_path / "null")
    with pytest.raises(KeyboardInterrupt):
        run([Fails()], RunOptions(inputs=(str(source),), output=str(out)))
    assert is_null_device(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "null"]


def test_output_and_rejects_to_fifos_stream_to_their_readers(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    expected = expected_output_and_rejects(tmp_path, source)
    out, rejects = tmp_path / "out.fifo", tmp_path / "rejects.fifo"
    os.mkfifo(out)
    os.mkfifo(rejects)
    readers = FifoReader(out), FifoReader(rejects)
    run([], RunOptions(inputs=(str(source),), output=str(out), rejects=str(rejects)))
    assert (readers[0].finish(), readers[1].finish()) == expected
    assert stat.S_ISFIFO(os.lstat(out).st_mode) and stat.S_ISFIFO(os.lstat(rejects).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.fifo", "rejects.fifo"]


def test_output_to_a_shells_process_substitution_reaches_its_pipe(tmp_path):
    """``-o >(gzip > out.gz)``: the shell passes /dev/fd/63, a link that only open() follows to the pipe."""
    source = tmp_path / "in.jsonl"
    source.write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    expected, _ = expected_output_and_rejects(tmp_path, source)
    read_end, write_end = os.pipe()
    try:
        run([], RunOptions(inputs=(str(source),), output=f"/dev/fd/{write_end}"))
    finally:
        os.close(write_end)
    with open(read_end, "rb") as stream:
        assert stream.read() == expected


def test_output_and_rejects_through_symbolic_links_replace_their_targets_and_the_links_stay(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    expected = expected_output_and_rejects(tmp_path, source)
    store = tmp_path / "store"
    store.mkdir()
    (store / "out.jsonl").write_text("an older run\n", encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    out.symlink_to("store/out.jsonl")  # relative, to an existing file
    rejects.symlink_to(store / "rejects.jsonl")  # absolute, to a file not written yet
    run([], RunOptions(inputs=(str(source),), output=str(out), rejects=str(rejects)))
    assert os.readlink(out) == "store/out.jsonl" and os.readlink(rejects) == str(store / "rejects.jsonl")
    assert ((store / "out.jsonl").read_bytes(), (store / "rejects.jsonl").read_bytes()) == expected
    assert not list(tmp_path.rglob(".*.tmp"))


def test_directory_output_writes_into_a_device_inside_it_and_leaves_it_there(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_text('{"text": "a"}\n', encoding="utf-8")
    (src / "b.jsonl").write_text('{"text": "b"}\n', encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    null_device(out / "a.jsonl")
    run([], RunOptions(inputs=(str(src),), output=f"{out}/", jobs=1))
    assert is_null_device(out / "a.jsonl")
    assert lines(out / "b.jsonl")[0]["text"] == "b"
    assert sorted(p.name for p in out.iterdir()) == ["a.jsonl", "b.jsonl"]


def test_the_command_line_leaves_a_device_output_and_report_and_a_linked_rejects_file_in_place(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    out, report = null_device(tmp_path / "null"), null_device(tmp_path / "report.json")
    rejects = tmp_path / "rejects.jsonl"
    rejects.symlink_to("kept-rejects.jsonl")
    args = ["-i", str(source), "-o", str(out), "--rejects", str(rejects), "--report", str(report)]
    result = subprocess.run(
        [sys.executable, "-m", "vocclean", *args, "normalize-script"],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # one bad input record
    assert is_null_device(out) and is_null_device(report)
    assert rejects.is_symlink() and lines(tmp_path / "kept-rejects.jsonl")[0]["raw"] == "not json"
    names = ["in.jsonl", "kept-rejects.jsonl", "null", "rejects.jsonl", "report.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names


class Trickle(io.RawIOBase):
    """A raw stream that takes at most 3 bytes a write, as stdout under PYTHONUNBUFFERED may."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.data += bytes(data[:3])
        return min(len(data), 3)


def test_write_all_writes_what_a_partial_write_left():
    stream = Trickle()
    write_all(stream, "第一条\n".encode())
    assert stream.data.decode() == "第一条\n"


def test_memory_does_not_grow_with_the_compressed_files_a_directory_output_has_written(tmp_path):
    """Each finished zstd writer held ~0.8 MB until the run ended: 2,000 .zst inputs took 1.7 GB."""
    script = (
        "import resource, sys\n"
        "from vocclean.io.writers import DirectorySink\n"
        "from vocclean.record import Record\n"
        "sink = DirectorySink(sys.argv[1])\n"
        "for n in range(int(sys.argv[2])):\n"
        "    sink.write(Record(id=str(n), text='', file=f'{n:04d}.jsonl.zst'), b'{}\\n' * 100)\n"
        "sink.commit()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )

    def peak_kib(files: int) -> int:
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / f"out{files}"), str(files)],
                              capture_output=True, cwd=REPO, check=True)  # fmt: skip
        assert len(os.listdir(tmp_path / f"out{files}")) == files
        return int(done.stdout)

    assert peak_kib(600) - peak_kib(70) < 20_000  # KiB; 530 more writers held took ~430 MB


def vocclean_cli(*args: str, stdin: bytes = b"", **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vocclean", *args], input=stdin, capture_output=True, timeout=120, **options
    )


def test_dev_stdout_and_stderr_are_written_through_the_descriptors_the_shell_opened(tmp_path):
    """``-o /dev/stdout >> log``: the file the shell opened to append is added to, never replaced
    (opening the name anew truncated it; the rename replaced it), and stderr keeps its messages."""
    log, errors = tmp_path / "log.jsonl", tmp_path / "errors.log"
    log.write_text("earlier\n")
    errors.write_text("earlier\n")
    with open(log, "ab") as out, open(errors, "ab") as err:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "vocclean",
                "-o",
                "/dev/stdout",
                "--rejects",
                "/dev/stderr",
                "fix-encoding",
            ],
            input=ONE_GOOD_ONE_BAD.encode(),
            stdout=out,
            stderr=err,
            timeout=120,
        )
    assert result.returncode == 1  # the bad line
    assert log.read_text(encoding="utf-8").splitlines() == ["earlier", '{"id":"a","text":"第一条"}']
    written = errors.read_text(encoding="utf-8").splitlines()
    assert written[0] == "earlier"
    assert any(line.startswith('{"id":"<stdin>:2","raw":"not json"') for line in written), written
    assert any(line.startswith("vocclean: <stdin>:2: invalid JSON") for line in written), written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["errors.log", "log.jsonl"]


def test_an_output_that_is_an_input_or_another_output_is_refused_and_nothing_changes(tmp_path):
    for name in ("in.jsonl", "in.json"):
        (tmp_path / name).write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cases = [
        (["--rejects", "in.jsonl"], "--rejects in.jsonl is the same file as -i in.jsonl"),
        (["-i", "in.json", "--report", "./in.json"], "--report ./in.json is the same file as -i in.json"),
        (["-o", "out.jsonl", "--rejects", str(out)], f"--rejects {out} is the same file as -o out.jsonl"),
        (["-o", "in.jsonl"], "-o in.jsonl is the same file as -i in.jsonl"),
    ]
    for args, message in cases:
        result = vocclean_cli("-i", "in.jsonl", *args, "fix-encoding", cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr.decode(), (args, result.stderr)
        for name in ("in.jsonl", "in.json"):
            assert (tmp_path / name).read_text(encoding="utf-8") == ONE_GOOD_ONE_BAD
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.json", "in.jsonl"], args


def test_a_directory_output_over_its_own_inputs_is_refused(tmp_path):
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "a.jsonl").write_text('{"id": "a", "text": "扫描二维码关注我们\\n正文。"}\n', encoding="utf-8")
    (dump / "b.txt").write_text("正文。\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in dump.iterdir()}
    for args in (["-i", "dump", "-o", "dump/"], ["-i", "dump/a.jsonl", "-o", "dump"]):
        result = vocclean_cli(*args, "strip-boilerplate", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "-o dump" in result.stderr.decode() and "over its input dump/a.jsonl" in result.stderr.decode()
    result = vocclean_cli("-i", "dump", "-o", "dump", "--format", "text", "fix-encoding", cwd=tmp_path)
    assert result.returncode == 2 and "over its input dump/b.txt" in result.stderr.decode(), result.stderr
    assert {p.name: p.read_bytes() for p in dump.iterdir()} == before
    result = vocclean_cli("-i", "dump", "-o", "dump/clean/", "strip-boilerplate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # a folder inside the inputs' is not them
    assert lines(dump / "clean" / "a.jsonl")[0]["text"] == "正文。"


def test_two_outputs_of_one_name_never_share_a_temporary_file(tmp_path):
    from vocclean.io.writers import AtomicFile

    first, second = AtomicFile(tmp_path / "same.jsonl"), AtomicFile(tmp_path / "same.jsonl")
    assert first.writing != second.writing
    first.abort()
    second.abort()
    assert list(tmp_path.iterdir()) == []


def test_text_format_names_of_long_ids_fit_a_file_name_and_stay_distinct(tmp_path):
    ids = ["y" * 244, "y" * 244 + "z", "中" * 300]
    records = "".join(json.dumps({"id": i, "text": i[-1]}, ensure_ascii=False) + "\n" for i in ids)
    result = vocclean_cli(
        "--format", "text", "-o", str(tmp_path / "out"), "fix-encoding", stdin=records.encode()
    )
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 3
    assert all(len(os.fsencode(p.name)) <= 255 for p in files)
    assert sorted(p.read_text(encoding="utf-8").strip() for p in files) == ["y", "z", "中"]


def test_text_format_names_both_records_that_would_share_a_file(tmp_path):
    records = b'{"id": "a/b", "text": "x"}\n{"id": "a_b", "text": "y"}\n'
    result = vocclean_cli("--format", "text", "-o", str(tmp_path / "out"), "fix-encoding", stdin=records)
    assert result.returncode == 2
    assert "records 'a/b' and 'a_b' would be written to the same text file" in result.stderr.decode()
    assert not (tmp_path / "out").exists()  # the folder the run made goes with it (it stayed, empty)
    (tmp_path / "kept").mkdir()
    result = vocclean_cli("--format", "text", "-o", str(tmp_path / "kept"), "fix-encoding", stdin=records)
    assert result.returncode == 2 and (tmp_path / "kept").is_dir()  # a folder that was there stays


def test_a_directory_output_that_fails_takes_back_the_folders_it_made_and_only_those(tmp_path):
    from vocclean.io.writers import DirectorySink
    from vocclean.record import Record

    (tmp_path / "out" / "old").mkdir(parents=True)
    sink = DirectorySink(tmp_path / "out")
    for name in ("new/deep/a.jsonl", "old/b.jsonl", "c.jsonl"):
        sink.write(Record("x", "t", file=name), b"{}\n")
    assert (tmp_path / "out" / "new" / "deep").is_dir()
    sink.abort()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["out", "out/old"]
    sink = DirectorySink(tmp_path / "fresh" / "out")
    sink.write(Record("x", "t", file="sub/a.jsonl"), b"{}\n")
    sink.abort()
    assert list(tmp_path.iterdir()) == [tmp_path / "out"]


def test_annotate_merges_into_an_earlier_runs_notes_and_refuses_to_replace_a_users_field(tmp_path):
    record = {"id": "a", "text": "扫描二维码关注\n正文", "vocclean": {"earlier": 1}}
    chained = (json.dumps(record) + "\n").encode()
    result = vocclean_cli("--annotate", "strip-boilerplate", stdin=chained)
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["vocclean"]
    assert notes["earlier"] == 1 and notes["removed_lines"] == 1
    users = chained.replace(b'{"earlier": 1}', b'"legacy"')
    result = vocclean_cli("--annotate", "strip-boilerplate", stdin=users)
    assert result.returncode == 2 and result.stdout == b""
    assert "<stdin>:1: the record has a 'vocclean' field of its own" in result.stderr.decode()
    result = vocclean_cli(
        "--rejects", str(tmp_path / "r.jsonl"), "strip-boilerplate", "--min-chars", "9", stdin=users
    )
    kept = lines(tmp_path / "r.jsonl")[0]["vocclean"]
    assert kept["input_value"] == "legacy" and kept["rejected_by"] == "strip-boilerplate"
    for args in (["--annotate"], ["--rejects", str(tmp_path / "r2.jsonl")]):
        result = vocclean_cli("--text-field", "vocclean", *args, "fix-encoding", stdin=users)
        assert (
            result.returncode == 2
            and "--text-field vocclean: --annotate and --rejects" in result.stderr.decode()
        )


def test_a_rejects_or_report_path_that_is_a_directory_is_named_and_leaves_nothing(tmp_path):
    (tmp_path / "in.jsonl").write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    (tmp_path / "taken.json").mkdir()
    for flag, message in (
        ("--rejects", "vocclean: I/O error taken.json: Is a directory"),
        ("--report", "Invalid value for '--report': File 'taken.json' is a directory."),  # before the run
    ):
        result = vocclean_cli("-i", "in.jsonl", flag, "taken.json", "fix-encoding", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr.decode()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "taken.json"]


def test_a_report_that_cannot_be_written_fails_before_the_run_and_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / "in.jsonl").write_text(ONE_GOOD_ONE_BAD, encoding="utf-8")
    (tmp_path / "f").write_text("a file, not a folder")
    cases = [
        (["-o", "out.jsonl", "--report", "f/r.json"], "vocclean: I/O error f/r.json: Not a directory"),
        (["-o", "f/out.jsonl"], "vocclean: I/O error f/out.jsonl: Not a directory"),
        (["-o", "out.jsonl", "--report", "s3://b/r.json"], "a report is written to a local path, not a URL"),
    ]
    for args, message in cases:
        result = vocclean_cli("-i", "in.jsonl", *args, "fix-encoding", cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr.decode(), (args, result.stderr)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "in.jsonl"]  # no output was kept
