"""--engine dask on a real distributed.LocalCluster (2 workers): the same bytes as the local engine."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tests.conftest import FIXTURES
from tests.test_engines_batch import CHAINS, SMALL_CHUNKS, needs, outputs, write_corpus
from vocclean.cli import main
from vocclean.record import Record
from vocclean.steps.dedup_paragraphs import DedupParagraphs

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("dask") / "in")


def cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output


@pytest.mark.parametrize("name", CHAINS)
def test_dask_output_and_rejects_equal_the_local_engine(tmp_path, corpus, on_cluster, name):
    needs(CHAINS[name])
    runs = {}
    for engine in ("local", "dask"):
        out, rejects = tmp_path / f"{engine}.jsonl", tmp_path / f"{engine}-rejects.jsonl"
        cli("-i", str(corpus), "-o", str(out), "--rejects", str(rejects), "--annotate", "--engine", engine,
            "-j", "1" if engine == "local" else "2", *SMALL_CHUNKS, *CHAINS[name])  # fmt: skip
        runs[engine] = (out.read_bytes(), rejects.read_bytes())
    assert runs["dask"] == runs["local"]
    assert runs["local"][0]


def test_dask_writes_one_output_per_input_file_like_the_local_engine(tmp_path, corpus, on_cluster):
    runs = {}
    for engine in ("local", "dask"):
        out, rejects = tmp_path / engine, tmp_path / f"{engine}-rejects.jsonl"
        cli("-i", str(corpus), "-o", f"{out}/", "--rejects", str(rejects), "--engine", engine, "-j", "1",
            "fix-encoding")  # fmt: skip
        runs[engine] = (outputs(out), rejects.read_bytes())
    assert runs["dask"] == runs["local"]
    assert len(runs["local"][0]) == 8


def test_dask_reads_and_writes_fsspec_urls(tmp_path, corpus, on_cluster):
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for path in sorted(corpus.glob("*.jsonl")):
        memory.pipe(f"/corpus/{path.name}", path.read_bytes())
    cli("-i", "memory://corpus", "-o", "memory://cleaned/", "--engine", "dask", "fix-encoding")
    parts = [arg for i in range(3) for arg in ("-i", str(corpus / f"part{i}.jsonl"))]
    cli(*parts, "-o", f"{tmp_path / 'local'}/", "-j", "1", "fix-encoding")
    expected = outputs(tmp_path / "local")
    assert {name: memory.cat(f"/cleaned/{name}") for name in expected} == expected


def test_dask_cleans_stories_that_have_no_duplicate_at_all_like_the_local_engine(tmp_path, on_cluster):
    """The seeds: no candidate pair anywhere (the distributed dedup-articles once failed on it)."""
    runs = {}
    for engine in ("local", "dask"):
        out = tmp_path / f"{engine}.jsonl"
        cli("-i", str(FIXTURES / "seeds"), "-o", str(out), "--engine", engine, "clean")
        runs[engine] = out.read_bytes()
    assert runs["dask"] == runs["local"] and runs["local"].count(b"\n") == 5


@pytest.mark.parametrize(
    "chain", [["clean"], ["fix-encoding", "strip-boilerplate", "--learn"]], ids=["clean", "per file"]
)
def test_dask_reports_the_local_engines_counters_learning_included(tmp_path, corpus, on_cluster, chain):
    import json

    counters = {}
    for engine in ("local", "dask"):
        output = f"{tmp_path}/{engine}" + ("/" if "clean" not in chain else ".jsonl")
        cli(
            "-i",
            str(corpus),
            "-o",
            output,
            "--report",
            f"{tmp_path}/{engine}.json",
            "--engine",
            engine,
            *chain,
        )
        steps = json.loads((tmp_path / f"{engine}.json").read_text(encoding="utf-8"))["steps"]
        counters[engine] = [(step["name"], step["counters"]) for step in steps]
    assert counters["dask"] == counters["local"]
    assert dict(counters["local"])["strip-boilerplate"]["learned"]["documents"]


def test_dask_writes_one_output_file_named_by_a_url_with_a_dedup_step(tmp_path, corpus, on_cluster):
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    cli("-i", str(corpus), "-o", "memory://bucket/cleaned.jsonl", "--engine", "dask", "dedup-articles")
    cli("-i", str(corpus), "-o", str(tmp_path / "local.jsonl"), "dedup-articles")
    assert memory.cat("/bucket/cleaned.jsonl") == (tmp_path / "local.jsonl").read_bytes()


def test_the_local_cluster_ignores_sigint_keeps_its_files_in_scratch_and_takes_a_free_port(tmp_path):
    import contextlib
    import signal
    import socket
    import warnings

    from vocclean.engines import dask_engine
    from vocclean.runner import RunOptions

    scratch = tmp_path / "scratch"
    taken = socket.socket()
    with contextlib.suppress(OSError):  # in use already: just as well
        taken.bind(("", 8787))
        taken.listen()
    with taken, warnings.catch_warnings():
        warnings.simplefilter("error")  # "Port 8787 is already in use" would fail here
        client = dask_engine.connect(RunOptions(jobs=2), str(scratch))
    try:
        ignored = client.run(lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
        assert list(ignored.values()) == [True, True]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # this process: as it was
        assert any(scratch.rglob("worker-*"))
    finally:
        dask_engine.close(client)


def test_without_dask_installed_the_engine_says_how_to_get_it(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name.startswith("distributed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    result = CliRunner().invoke(main, ["--engine", "dask", "fix-encoding"], input='{"text": "a"}\n')
    assert result.exit_code == 2
    assert "pip install 'vocclean[dask]'" in result.output


def paragraph_corpus() -> list[list[Record]]:
    """Three partitions of stories sharing paragraphs across documents and partitions, repeats inside some."""
    shared = [
        f"第{i}段：会议强调要牢记使命担当，坚持以人民为中心的发展思想，推动第{i}项工作。" for i in range(6)
    ]
    partitions = []
    for part in range(3):
        records = []
        for n in range(25):
            i = part * 25 + n
            lines = [f"第{i}条新闻：今天有关部门召开会议，研究部署第{i}项重点工作任务。", shared[i % 6]]
            if i % 4 == 0:
                lines.append(shared[(i + 1) % 6])
            if i % 7 == 0:
                lines.append(lines[0])  # an in-document repeat
            if i % 11 == 0:
                lines = [shared[i % 6]]  # only a shared paragraph: rejected after the first
            records.append(Record(id=f"p{part}-{n}", text="\n".join(lines)))
        partitions.append(records)
    return partitions


def processed(records):
    return [(r.id, r.text, dict(r.annotations), r.rejection and r.rejection.reason) for r in records]


@pytest.mark.parametrize("max_docs", [1, 3])
def test_distributed_paragraph_dedup_equals_the_local_step(client, max_docs):
    from vocclean.engines.dask_paragraphs import dedup_paragraphs_distributed

    local_step = DedupParagraphs(across_docs=True, max_docs_with_paragraph=max_docs)
    local = processed(local_step(iter([r for part in paragraph_corpus() for r in part])))
    step = DedupParagraphs(across_docs=True, max_docs_with_paragraph=max_docs)
    futures, stats = dedup_paragraphs_distributed(client, step, paragraph_corpus())
    assert [row for part in client.gather(futures) for row in processed(part)] == local
    assert stats == dict(local_step.stats)
    assert any(reason for *_, reason in local) and local_step.stats["removed_paragraphs/across-docs"]


def test_each_run_scatters_its_steps_under_a_key_of_its_own(client):
    """Same bytes, new key: a key shared with an earlier run's data being released can be lost (a hang)."""
    from vocclean.engines.dask_engine import scatter_payload

    first, second = scatter_payload(client, b"steps"), scatter_payload(client, b"steps")
    assert first.key != second.key
    assert client.gather([first, second]) == [b"steps", b"steps"]


def test_ctrl_c_on_the_dask_engine_prints_one_line_and_leaves_no_process_nor_file(tmp_path):
    """Ctrl-C reaches the whole process group, the workers included: only the client answers."""
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    import orjson

    from tests.conftest import REPO

    rng = random.Random(3)
    hanzi = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]
    given = tmp_path / "in.jsonl"
    with given.open("wb") as out:
        for i in range(30_000):
            text = "。\n".join("".join(rng.choices(hanzi, k=40)) for _ in range(5))
            out.write(orjson.dumps({"id": str(i), "text": text}) + b"\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = [
        "-m",
        "vocclean",
        "--engine",
        "dask",
        "-j",
        "2",
        "-i",
        str(given),
        "-o",
        str(tmp_path / "out.jsonl"),
    ]
    process = subprocess.Popen(
        [sys.executable, *args, "--rejects", str(tmp_path / "rejects.jsonl"), "clean"],
        cwd=REPO,
        start_new_session=True,
        stderr=subprocess.PIPE,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    deadline = time.monotonic() + 120
    while len(list(scratch.glob("vocclean-dask-*/workers/dask-scratch-space/worker-*"))) < 2:
        assert process.poll() is None and time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    time.sleep(0.5)  # into the run
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err.decode()) == (130, "vocclean: interrupted; no partial output was kept\n")
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "rejects.jsonl").exists()
    assert list(scratch.iterdir()) == []
    deadline = time.monotonic() + 30  # nothing of the group is left (the last workers exit just after)
    while _group_alive(process.pid):
        assert time.monotonic() < deadline, "processes of the run are still alive"
        time.sleep(0.1)


def _group_alive(group: int) -> bool:
    import os

    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
