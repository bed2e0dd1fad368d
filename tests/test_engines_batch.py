"""-j N through the real command line: byte-identical output, batch mode, manifest and --resume."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES
from vocclean.cli import main
from vocclean.engines.batch import MANIFEST

# Every chain a user can run, and the options that make it do work on these inputs.
CHAINS = {
    "fix-encoding": ["fix-encoding"],
    "normalize-script": ["normalize-script"],
    "strip-boilerplate": ["strip-boilerplate"],
    "dedup-paragraphs": ["dedup-paragraphs"],
    "dedup-paragraphs --across-docs": ["dedup-paragraphs", "--across-docs"],
    "dedup-articles": ["dedup-articles"],
    # Small batches: several, so -j 2 and Dask prepare (hash) them on the workers.
    "dedup-articles, batches on workers": ["dedup-articles", "--batch-size", "16"],
    "dedup-articles --keep longest, batches on workers": [
        "dedup-articles",
        "--batch-size",
        "16",
        "--keep",
        "longest",
    ],
    "clean": ["clean"],
}
SMALL_CHUNKS = ["--chunk-records", "7"]  # force several chunks, hence real worker processes


def cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output


def needs(chain: list[str]) -> None:
    if chain[0] not in main.commands:
        pytest.skip(f"the {chain[0]} command is not registered yet")


def story(i: int) -> str:
    return (
        f"第{i}条新闻：今天，有关部门召开会议，研究部署第{i % 37}项重点工作。\n"
        "会议要求，各地要抓好落实，确保取得实效。"
    )


def write_corpus(directory: Path) -> Path:
    """Three JSONL files and the seeds as plain-text files: repeats, Traditional text, one bad line."""
    directory.mkdir()
    for part in range(3):
        lines = []
        for i in range(part * 60, part * 60 + 60):
            text = story(i % 50)  # exact repeats across files
            if i % 11 == 0:
                text = "請繼續往下閱讀。\n" + text.replace("会议", "會議")
            if i % 13 == 0:
                text = text + "\n" + text  # a story pasted twice
            lines.append(json.dumps({"id": f"p{part}-{i}", "text": text}, ensure_ascii=False))
        if part == 1:
            lines.insert(5, "{not json")
        (directory / f"part{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    seeds = directory / "seeds"
    seeds.mkdir()
    for path in sorted((FIXTURES / "seeds").iterdir()):
        (seeds / path.name).write_bytes(path.read_bytes())
    return directory


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("engines") / "in")


def outputs(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and ".vocclean" not in p.parts and p.name != MANIFEST
    }


@pytest.mark.parametrize("name", CHAINS)
def test_one_output_file_is_byte_identical_with_one_and_two_workers(tmp_path, corpus, name):
    needs(CHAINS[name])
    runs = {}
    for jobs in ("1", "2"):
        out, rejects = tmp_path / f"out{jobs}.jsonl", tmp_path / f"rejects{jobs}.jsonl"
        cli("-i", str(corpus), "-o", str(out), "--rejects", str(rejects), "--annotate", "-j", jobs,
            *SMALL_CHUNKS, *CHAINS[name])  # fmt: skip
        runs[jobs] = (out.read_bytes(), rejects.read_bytes())
    assert runs["1"] == runs["2"]
    assert runs["1"][0] and runs["1"][1]


@pytest.mark.parametrize("name", CHAINS)
def test_directory_output_is_byte_identical_with_one_and_two_workers(tmp_path, corpus, name):
    needs(CHAINS[name])
    runs = {}
    for jobs in ("1", "2"):
        out, rejects = tmp_path / f"out{jobs}", tmp_path / f"rejects{jobs}.jsonl"
        cli("-i", str(corpus), "-o", f"{out}/", "--rejects", str(rejects), "--annotate", "-j", jobs,
            *SMALL_CHUNKS, *CHAINS[name])  # fmt: skip
        runs[jobs] = (outputs(out), rejects.read_bytes())
    assert runs["1"] == runs["2"]
    assert len(runs["1"][0]) == 8  # three JSONL files and five seeds


def test_per_article_chains_over_directories_run_file_by_file_with_a_manifest(tmp_path, corpus):
    cli("-i", str(corpus), "-o", f"{tmp_path / 'out'}/", "-j", "2", "fix-encoding")
    manifest = [json.loads(line) for line in (tmp_path / "out" / MANIFEST).read_text().splitlines()]
    assert "chain" in manifest[0]
    assert sorted(entry["input"] for entry in manifest[1:]) == sorted(
        str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file()
    )


def test_resume_redoes_only_unfinished_files_and_gives_the_same_output(tmp_path, corpus):
    out, rejects = tmp_path / "out", tmp_path / "rejects.jsonl"
    args = ["-i", str(corpus), "-o", f"{out}/", "--rejects", str(rejects), "-j", "2", "fix-encoding"]
    cli(*args)
    complete, complete_rejects = outputs(out), rejects.read_bytes()
    # An interrupted run: the manifest lists two inputs; one output is missing, one half-written.
    lines = (out / MANIFEST).read_text().splitlines()
    finished = {json.loads(line)["input"] for line in lines[1:3]}
    (out / MANIFEST).write_text("\n".join(lines[:3]) + "\n")
    kept_times = {name: (out / name).stat().st_mtime_ns for name in finished}
    unfinished = sorted(set(complete) - finished)
    (out / unfinished[0]).unlink()
    (out / unfinished[1]).write_bytes(b'{"id": "half')
    rejects.unlink()
    cli(*args[:-1], "--resume", "fix-encoding")
    assert outputs(out) == complete
    assert rejects.read_bytes() == complete_rejects
    assert {name: (out / name).stat().st_mtime_ns for name in finished} == kept_times
    assert len((out / MANIFEST).read_text().splitlines()) == len(lines)


def test_resume_refuses_a_manifest_written_by_another_chain(tmp_path, corpus):
    out = f"{tmp_path / 'out'}/"
    cli("-i", str(corpus), "-o", out, "-j", "2", "fix-encoding")
    result = CliRunner().invoke(
        main, ["-i", str(corpus), "-o", out, "--resume", "fix-encoding", "--encoding", "gbk"]
    )
    assert result.exit_code == 2
    assert "different chain" in result.output


def test_resume_with_rejects_redoes_the_files_a_run_without_them_finished(tmp_path, corpus):
    """The first run kept no rejects part: resumed with --rejects, those files' rejects would be lost."""
    out, rejects = f"{tmp_path / 'out'}/", tmp_path / "r.jsonl"
    cli(
        "-i",
        str(corpus),
        "-o",
        f"{tmp_path / 'complete'}/",
        "--rejects",
        str(tmp_path / "c.jsonl"),
        "fix-encoding",
    )
    cli("-i", str(corpus), "-o", out, "-j", "2", "fix-encoding")
    cli("-i", str(corpus), "-o", out, "-j", "2", "--rejects", str(rejects), "--resume", "fix-encoding")
    assert rejects.read_bytes() == (tmp_path / "c.jsonl").read_bytes() and rejects.read_bytes()
    assert outputs(tmp_path / "out") == outputs(tmp_path / "complete")


def test_a_file_name_that_is_not_utf8_is_listed_in_the_manifest_and_resumed(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    gbk_name = os.fsdecode(bytes(source) + "/新闻.jsonl".encode("gbk"))  # lone surrogates in Python
    for name in (gbk_name, str(source / "b.jsonl")):
        with open(name, "w", encoding="utf-8") as stream:
            stream.write(json.dumps({"id": name[-8:], "text": "正文"}) + "\n{bad\n")
    args = [
        "-i",
        str(source),
        "-o",
        f"{tmp_path / 'out'}/",
        "-j",
        "2",
        "--rejects",
        str(tmp_path / "r.jsonl"),
    ]
    first = CliRunner().invoke(main, [*args, "fix-encoding"])
    assert first.exit_code == 1, first.output  # the bad lines, not a crash
    written = sorted(os.listdir(os.fsencode(tmp_path / "out")))
    assert "新闻.jsonl".encode("gbk") in written and b"b.jsonl" in written
    again = CliRunner().invoke(main, [*args, "--resume", "fix-encoding"])
    assert again.exit_code == 1, again.output
    assert len((tmp_path / "r.jsonl").read_bytes().splitlines()) == 2


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["dedup-articles"], "across documents"),
        (["-o", "single.jsonl", "fix-encoding"], "not a directory"),
    ],
)
def test_resume_is_refused_where_it_cannot_be_exact(tmp_path, corpus, args, reason):
    needs([a for a in args if not a.startswith("-") and a != "single.jsonl"])
    if "-o" not in args:
        args = ["-o", f"{tmp_path / 'out'}/", *args]
    result = CliRunner().invoke(main, ["-i", str(corpus), "--resume", *args])
    assert result.exit_code == 2
    assert reason in result.output


def test_two_inputs_with_the_same_output_name_end_up_in_one_file_in_input_order(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "a.jsonl").write_text('{"id": "1", "text": "一"}\n', encoding="utf-8")
    (source / "a.txt").write_text("二", encoding="utf-8")
    (source / "b.jsonl.gz").write_bytes(gzip.compress('{"id": "3", "text": "三"}\n'.encode()))
    for jobs in ("1", "2"):
        cli("-i", str(source), "-o", f"{tmp_path / jobs}/", "-j", jobs, "fix-encoding")
    assert outputs(tmp_path / "1") == outputs(tmp_path / "2")
    assert [json.loads(line)["id"] for line in (tmp_path / "2" / "a.jsonl").read_text().splitlines()] == [
        "1",
        "a.txt",
    ]


def test_rejects_of_inputs_sharing_an_output_name_keep_the_order_of_one_worker(tmp_path):
    """Two -i roots with the same relative name share one output file (one task); each input keeps
    its own rejects part, so no reject is written twice and the order is -j 1's."""
    for root, bad in (("x", "一"), ("y", "三")):
        (tmp_path / root).mkdir()
        (tmp_path / root / "a.jsonl").write_text(f'{{"id": "{bad}", "text": 5}}\n', encoding="utf-8")
    (tmp_path / "x" / "b.jsonl").write_text('{"id": "二", "text": 6}\n', encoding="utf-8")
    rejects = {}
    for jobs in ("1", "2"):
        rejects[jobs] = tmp_path / f"rejects{jobs}.jsonl"
        inputs = ["-i", str(tmp_path / "x"), "-i", str(tmp_path / "y")]
        cli(*inputs, "-o", f"{tmp_path / jobs}/", "--rejects", str(rejects[jobs]), "-j", jobs, "fix-encoding")
    assert (tmp_path / "2" / MANIFEST).exists()
    ids = [json.loads(line)["id"] for line in rejects["2"].read_text(encoding="utf-8").splitlines()]
    assert [i.rsplit("/", 2)[-2:] for i in ids] == [
        ["x", "a.jsonl:1"],
        ["x", "b.jsonl:1"],
        ["y", "a.jsonl:1"],
    ]
    assert rejects["2"].read_bytes() == rejects["1"].read_bytes()


def test_a_broken_link_in_a_batch_run_is_a_reject_and_the_run_goes_on(tmp_path, corpus):
    (corpus / "zz-broken.jsonl").symlink_to(tmp_path / "gone.jsonl")
    out = {}
    for jobs in ("1", "2"):
        out[jobs] = tmp_path / f"rejects{jobs}.jsonl"
        result = CliRunner().invoke(
            main,
            [
                "-i",
                str(corpus),
                "-o",
                f"{tmp_path / jobs}/",
                "--rejects",
                str(out[jobs]),
                "-j",
                jobs,
                "fix-encoding",
            ],
        )
        assert result.exit_code == 1, result.output
        assert "zz-broken.jsonl: cannot read file" in result.output
    assert (tmp_path / "2" / MANIFEST).exists() and outputs(tmp_path / "1") == outputs(tmp_path / "2")
    assert out["1"].read_bytes() == out["2"].read_bytes()
    result = CliRunner().invoke(
        main, ["-i", str(corpus), "-o", f"{tmp_path / '2'}/", "--resume", "fix-encoding"]
    )
    assert result.exit_code == 1, result.output  # the finished files and the link's reject are kept


def test_a_failed_batch_run_leaves_no_temporary_files(tmp_path, corpus, monkeypatch):
    from vocclean.engines import batch

    def fails(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch.Manifest, "add", fails)
    result = CliRunner().invoke(
        main, ["-i", str(corpus), "-o", f"{tmp_path / 'out'}/", "-j", "2", "fix-encoding"]
    )
    assert result.exit_code == 2
    assert not [p for p in (tmp_path / "out").rglob("*.tmp")]
    assert os.path.exists(tmp_path / "out" / MANIFEST)


def test_small_files_go_to_the_workers_in_groups_of_a_megabyte(tmp_path, monkeypatch):
    from vocclean.engines import batch
    from vocclean.io.sources import expand_inputs

    monkeypatch.setattr(batch, "GROUP_BYTES", 3000)
    monkeypatch.setattr(batch, "GROUP_TASKS", 4)
    source = tmp_path / "in"
    source.mkdir()
    for n, size in enumerate([100, 100, 100, 100, 100, 5000, 100, 2900, 100]):
        (source / f"{n}.jsonl").write_bytes(b"x" * size)
    tasks = batch._tasks(expand_inputs([str(source)]), tmp_path / "out", False)
    groups = [[task.output for task in group] for group in batch._groups(tasks)]
    assert groups == [  # four tasks at most; a group ends once it holds 3000 bytes
        ["0.jsonl", "1.jsonl", "2.jsonl", "3.jsonl"],
        ["4.jsonl", "5.jsonl"],
        ["6.jsonl", "7.jsonl"],
        ["8.jsonl"],
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_inputs_of_different_names_writing_one_output_are_named_in_a_warning(tmp_path, jobs):
    source = tmp_path / "in"
    source.mkdir()
    (source / "a.jsonl").write_text('{"id": "1", "text": "一"}\n', encoding="utf-8")
    (source / "a.txt").write_text("二", encoding="utf-8")
    (source / "b.jsonl").write_text('{"id": "3", "text": "三"}\n', encoding="utf-8")
    result = CliRunner().invoke(
        main, ["-i", str(source), "-o", f"{tmp_path / 'out'}/", "-j", jobs, "fix-encoding"]
    )
    assert result.exit_code == 0, result.output
    said = "a.jsonl and a.txt both write a.jsonl (one output per name: the records of both, in input order)"
    assert result.stderr == f"vocclean: {said}\n"


def test_resume_with_two_roots_holding_one_name_skips_their_task_only_when_nothing_moved(tmp_path):
    """a/x.jsonl and b/x.jsonl share out/x.jsonl (one task). The manifest matches whole tasks, by
    path, size and time, in order: it crashed on --resume (the second entry, without counts,
    replaced the first), and an input added, or the roots given in another order, with the same
    size and time, was taken for finished (a record lost, or the old order kept)."""
    for root, (key, text) in (("a", ("1", "甲")), ("b", ("2", "乙")), ("c", ("3", "丙"))):
        (tmp_path / root).mkdir()
        path = tmp_path / root / "x.jsonl"
        path.write_text(f'{{"id": "{key}", "text": "{text}"}}\n', encoding="utf-8")
        os.utime(path, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))  # copies: one time

    def run(*roots: str) -> list[str]:
        inputs = [arg for root in roots for arg in ("-i", str(tmp_path / root))]
        result = CliRunner().invoke(
            main, [*inputs, "-o", f"{tmp_path / 'out'}/", "--resume", "-j", "2", "normalize-script"]
        )
        assert result.exit_code == 0, result.output
        assert f"{tmp_path / roots[0] / 'x.jsonl'} and {tmp_path / roots[1] / 'x.jsonl'} both write" in (
            result.stderr
        )
        return [json.loads(line)["id"] for line in (tmp_path / "out" / "x.jsonl").read_text().splitlines()]

    assert run("a", "b") == ["1", "2"]
    written = (tmp_path / "out" / "x.jsonl").stat().st_mtime_ns
    assert run("a", "b") == ["1", "2"]  # finished: not redone
    assert (tmp_path / "out" / "x.jsonl").stat().st_mtime_ns == written
    assert run("b", "a") == ["2", "1"]  # another order: redone
    assert run("b", "a", "c") == ["2", "1", "3"]  # an input added: redone
