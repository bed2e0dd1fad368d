"""dedup-articles as a step and a command: which copy is kept, what is said about the others."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tests.conftest import REPO
from vocclean.cli.dedup_articles import dedup_articles_command
from vocclean.record import Record
from vocclean.runner import RunOptions, run
from vocclean.steps.dedup_articles import DedupArticles

CASES = json.loads((REPO / "tests" / "cases" / "dedup_articles" / "cases.json").read_text(encoding="utf-8"))
STORY = CASES[0]["records"][0]["text"]
OTHER = CASES[9]["records"][1]["text"]
THIRD = CASES[9]["records"][2]["text"]


def records(*texts: str, **fields) -> list[Record]:
    return [Record(id=f"r{i}", text=t, fields=dict(fields)) for i, t in enumerate(texts)]


def outcome(record: Record) -> str | dict:
    if "duplicate_of" not in record.annotations:
        return "kept"
    return {"duplicate_of": record.annotations["duplicate_of"], "kind": record.annotations["duplicate_kind"]}


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_golden_cases(case):
    step = DedupArticles(**case.get("options", {}))
    given = [Record(id=r["id"], text=r["text"], fields=r.get("fields", {})) for r in case["records"]]
    out = list(step(iter(given)))
    assert [r.id for r in out] == [r["id"] for r in case["records"]]  # every record, in input order
    assert {r.id: outcome(r) for r in out} == case["expected"]
    for record in out:
        assert record.rejected == (outcome(record) != "kept")


def test_a_removed_copy_is_rejected_with_the_kept_id_and_the_similarity():
    kept, copy = DedupArticles()(iter(records(STORY, STORY + "\n（完）")))
    assert kept.rejection is None
    assert copy.rejection.step == "dedup-articles"
    assert copy.rejection.reason == "duplicate of r0"
    assert copy.rejection.details["duplicate_of"] == "r0"
    assert 0.9 < copy.rejection.details["similarity"] < 1.0


def test_annotations_name_the_kept_copy_kind_similarity_and_cluster():
    kept, exact = DedupArticles()(iter(records(STORY, STORY)))
    assert kept.annotations == {"cluster": "r0"}
    assert exact.annotations == {
        "duplicate_of": "r0",
        "similarity": 1.0,
        "duplicate_kind": "exact",
        "cluster": "r0",
    }


def test_mark_only_annotates_without_rejecting():
    out = list(DedupArticles(mark_only=True)(iter(records(STORY, STORY, OTHER))))
    assert not any(r.rejected for r in out)
    assert [r.annotations["cluster"] for r in out] == ["r0", "r0", "r2"]


def test_stats_count_duplicates_by_kind_and_clusters_by_size():
    step = DedupArticles()
    list(step(iter(records(STORY, STORY, STORY + "\n（完）", OTHER, OTHER))))
    assert step.stats["duplicates/exact"] == 2
    assert step.stats["duplicates/near"] == 1
    assert step.stats["cluster_size/3"] == 1
    assert step.stats["cluster_size/2"] == 1
    assert "cluster_size/1" not in step.stats


def test_the_kept_record_comes_first_in_its_cluster_whatever_the_keep_policy(tmp_path):
    path = tmp_path / "clusters.jsonl"
    longer = STORY + "另有一句补充说明。"
    list(DedupArticles(clusters=path, keep="longest")(iter(records(STORY, OTHER, longer))))
    (line,) = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert line["cluster"] == "r2" and [m["id"] for m in line["members"]] == ["r2", "r0"]
    assert line["members"][0]["kept"] is True


def test_a_clusters_file_written_through_a_link_leaves_the_link(tmp_path):
    (tmp_path / "link.jsonl").symlink_to(tmp_path / "real.jsonl")
    list(DedupArticles(clusters=tmp_path / "link.jsonl")(iter(records(STORY, OTHER, STORY))))
    assert (tmp_path / "link.jsonl").is_symlink()
    assert [c["size"] for c in map(json.loads, (tmp_path / "real.jsonl").read_text().splitlines())] == [2]


def test_clusters_file_lists_every_cluster_of_two_or_more(tmp_path):
    path = tmp_path / "clusters.jsonl"
    list(DedupArticles(clusters=path)(iter(records(STORY, OTHER, STORY, THIRD))))
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert lines == [
        {
            "cluster": "r0",
            "size": 2,
            "members": [
                {"id": "r0", "kept": True, "similarity": 1.0},
                {"id": "r2", "kind": "exact", "similarity": 1.0},
            ],
        }
    ]


@pytest.mark.parametrize("keep", ["first", "longest", "field:date"])
@pytest.mark.parametrize("batch_size", [1, 3, 2000])
def test_result_does_not_depend_on_the_batch_size(keep, batch_size):
    texts = [STORY, OTHER, STORY + "\n（完）", THIRD, OTHER, STORY]
    reference = [outcome(r) for r in DedupArticles(keep=keep, batch_size=2000)(iter(records(*texts)))]
    got = [outcome(r) for r in DedupArticles(keep=keep, batch_size=batch_size)(iter(records(*texts)))]
    assert got == reference


def test_two_runs_of_one_step_share_no_state():
    step = DedupArticles()
    first = [outcome(r) for r in step(iter(records(STORY, OTHER)))]
    second = [outcome(r) for r in step(iter(records(OTHER, STORY)))]
    assert first == second == ["kept", "kept"]


def test_keep_first_streams_a_batch_before_the_input_ends():
    consumed = []

    def source() -> Iterator[Record]:
        for i in range(10):
            consumed.append(i)
            yield Record(id=str(i), text=f"{i} {STORY}")

    out = DedupArticles(batch_size=2)(source())
    assert next(out).id == "0"
    assert len(consumed) == 2


def test_keep_longest_waits_for_the_end_but_keeps_input_order():
    out = list(DedupArticles(keep="longest")(iter(records(STORY, OTHER, STORY + "\n（完）"))))
    assert [r.id for r in out] == ["r0", "r1", "r2"]
    assert [outcome(r) for r in out] == [{"duplicate_of": "r2", "kind": "near"}, "kept", "kept"]


def test_field_values_compare_numbers_before_strings_and_missing_last():
    given = [Record(id="a", text=STORY, fields={"rank": "1"}), Record(id="b", text=STORY, fields={"rank": 5})]
    given.append(Record(id="c", text=STORY))
    out = list(DedupArticles(keep="field:rank")(iter(given)))
    assert [outcome(r) for r in out] == [{"duplicate_of": "b", "kind": "exact"}, "kept", outcome(out[0])]


def test_field_values_holding_integers_wider_than_64_bits_compare_as_json():
    wide = {"n": 10**30}  # the reader keeps such integers exact; orjson cannot write them
    given = [Record(id="a", text=STORY, fields={"v": {"n": 1}})]
    given.append(Record(id="b", text=STORY, fields={"v": wide}))
    out = list(DedupArticles(keep="field:v")(iter(given)))
    assert [outcome(r) for r in out] == [{"duplicate_of": "b", "kind": "exact"}, "kept"]


def test_texts_too_short_to_compare_by_shingles_are_matched_exactly_only():
    """xwlb: 282 stories that are only a link, the video id differing, were 'near duplicates' (0.64)."""
    stub = "[查看原文](https://tv.cctv.com/2024/09/04/VIDE{}.shtml)"
    given = records(stub.format("A1b2C3d4"), stub.format("Z9y8X7w6"), stub.format("A1b2C3d4"))
    assert [outcome(r) for r in DedupArticles()(iter(given))][:2] == ["kept", "kept"]
    again = records(stub.format("A1b2C3d4"), stub.format("Z9y8X7w6"), stub.format("A1b2C3d4"))
    assert outcome(list(DedupArticles()(iter(again)))[2]) == {"duplicate_of": "r0", "kind": "exact"}
    everything = records(stub.format("A1b2C3d4"), stub.format("Z9y8X7w6"))
    assert outcome(list(DedupArticles(min_shingles=0)(iter(everything)))[1])["kind"] == "near"


def test_invalid_options_are_refused():
    with pytest.raises(ValueError, match="keep"):
        DedupArticles(keep="oldest")
    with pytest.raises(ValueError, match="bands"):
        DedupArticles(num_perm=64, bands=100)


def test_index_memory_per_document_stays_within_the_stated_bound():
    """README: about 300-330 bytes per document in memory (LSH bands, keys, ids, arrays)."""
    finder = DedupArticles().new_finder()
    sentences = [s for text in (STORY, OTHER, THIRD) for s in text.split("。") if len(s) > 10]
    rng = random.Random(5)
    n = 20_000
    for start in range(0, n, 2000):
        texts = ["。".join(rng.sample(sentences, 3)) + f"（{i}）" for i in range(start, start + 2000)]
        finder.add([f"doc-{i:08d}" for i in range(start, start + 2000)], texts)
    per_doc = sum(finder.memory_bytes().values()) / n
    finder.close()
    assert per_doc <= 360


def test_results_do_not_depend_on_the_python_hash_seed(tmp_path):
    script = (
        "import sys, json\n"
        "from vocclean.record import Record\n"
        "from vocclean.steps.dedup_articles import DedupArticles\n"
        "cases = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "recs = [Record(id=f'{i}-{r[\"id\"]}', text=r['text'])\n"
        "        for i, c in enumerate(cases) for r in c['records']]\n"
        "print(json.dumps([r.annotations for r in DedupArticles(mark_only=True)(iter(recs))]))\n"
    )
    cases = str(REPO / "tests" / "cases" / "dedup_articles" / "cases.json")
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", script, cases], capture_output=True, env=env, cwd=REPO)
        assert done.returncode == 0, done.stderr.decode()
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_command_builds_the_step_from_its_options(tmp_path):
    runner = CliRunner()
    args = ["--threshold", "0.7", "--num-perm", "64", "--ngram", "4", "--keep", "field:date", "--mark-only"]
    step = dedup_articles_command.main(
        [*args, "--clusters", str(tmp_path / "c.jsonl")], standalone_mode=False
    )
    assert isinstance(step, DedupArticles)
    assert step.params.threshold == 0.7 and step.params.num_perm == 64 and step.params.ngram == 4
    assert (step.policy, step.keep_field, step.mark_only) == ("field", "date", True)
    bad = runner.invoke(dedup_articles_command, ["--keep", "oldest"])
    assert bad.exit_code == 2 and "first, longest or field:NAME" in bad.output


def test_command_help_has_an_example():
    result = CliRunner().invoke(dedup_articles_command, ["--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "dedup-articles" in result.output


def test_a_run_writes_removed_copies_to_the_rejects_with_details(tmp_path):
    given = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "text": STORY},
        {"id": "b", "text": OTHER},
        {"id": "c", "text": STORY.replace("，", ",")},
    ]
    given.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    options = RunOptions(
        inputs=(str(given),), output=str(tmp_path / "out.jsonl"), rejects=str(tmp_path / "rej.jsonl"), jobs=1
    )
    result = run([DedupArticles()], options)
    assert result.written == 2 and result.rejected == 1
    kept = [orjson.loads(line)["id"] for line in Path(tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert kept == ["a", "b"]
    rejected = Path(tmp_path / "rej.jsonl").read_text(encoding="utf-8")
    assert '"c"' in rejected and "duplicate of a" in rejected and '"similarity"' in rejected


def test_the_command_line_removes_copies_and_writes_rejects_and_clusters(tmp_path):
    given = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": STORY}, {"id": "b", "text": STORY + "（完）"}, {"id": "c", "text": OTHER}]
    given.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    args = ["-i", str(given), "-o", str(tmp_path / "out.jsonl"), "--rejects", str(tmp_path / "rej.jsonl")]
    args += ["dedup-articles", "--clusters", str(tmp_path / "clusters.jsonl")]
    done = subprocess.run(
        [sys.executable, "-m", "vocclean", *args], capture_output=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    assert [orjson.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_bytes().splitlines()] == ["a", "c"]
    assert [orjson.loads(x)["id"] for x in (tmp_path / "rej.jsonl").read_bytes().splitlines()] == ["b"]
    assert orjson.loads((tmp_path / "clusters.jsonl").read_bytes())["size"] == 2


def test_a_prepared_batch_crosses_processes_intact_with_its_openings_recomputed():
    import dataclasses
    import pickle

    import numpy as np

    step = DedupArticles()
    long_text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(900))  # over 256 shingles
    prepared = step.prepare([long_text, "第一条新闻：今天有关部门召开会议。", ""])
    arrived = pickle.loads(pickle.dumps(prepared))
    for field in dataclasses.fields(prepared):
        mine, theirs = getattr(prepared, field.name), getattr(arrived, field.name)
        assert np.array_equal(mine, theirs), field.name
    assert len(prepared.lead) < len(prepared.hashes)  # the opening really is a prefix, recomputed


def dated_copies() -> list[dict]:
    """A story, its edited copy a year later (another story), and one two days later (a repost)."""
    edited = STORY.replace("，", ",").split("\n")
    near = "\n".join(edited[:-1])  # the last paragraph dropped
    return [
        {"id": "a", "text": STORY, "published": "2024-03-04 19:00"},
        {"id": "b", "text": near, "published": "2025-03-04 19:00"},
        {"id": "c", "text": near + "（完）", "published": "2024/3/6"},
        {"id": "d", "text": OTHER},
    ]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_window_reads_the_date_field_in_the_main_process(tmp_path, jobs):
    """With -j 2 the records go through workers (normalize-script) and their dates must come back."""
    given = tmp_path / "in.jsonl"
    given.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in dated_copies()))
    args = ["-j", jobs, "-i", str(given), "-o", str(tmp_path / "out.jsonl"), "--rejects", str(tmp_path / "r")]
    args += ["normalize-script", "dedup-articles", "--within-days", "7", "--date-field", "published"]
    done = subprocess.run(
        [sys.executable, "-m", "vocclean", *args], capture_output=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    assert [orjson.loads(x)["id"] for x in (tmp_path / "out.jsonl").read_bytes().splitlines()] == [
        "a",
        "b",
        "d",
    ]
    assert [orjson.loads(x)["id"] for x in (tmp_path / "r").read_bytes().splitlines()] == ["c"]


def test_without_a_window_the_copy_a_year_later_is_a_duplicate():
    given = [Record(id=r["id"], text=r["text"], fields=r) for r in dated_copies()]
    assert [r.id for r in DedupArticles()(iter(given)) if not r.rejected] == ["a", "d"]


def test_the_window_counts_the_pairs_it_separated_and_the_records_without_a_date():
    step = DedupArticles(within_days=7, date_field="published")
    given = [Record(id=r["id"], text=r["text"], fields=r) for r in dated_copies()]
    kept = [r.id for r in step(iter(given)) if not r.rejected]
    assert kept == ["a", "b", "d"]
    assert step.stats["lsh/outside_days"] >= 1
    assert step.stats["dates/unreadable"] == 1  # d has no published field
    with pytest.raises(ValueError, match="days"):
        DedupArticles(within_days=-1)
    step = dedup_articles_command.main(
        ["--within-days", "3", "--date-field", "published"], standalone_mode=False
    )
    assert (step.params.within_days, step.date_field, step.reads_fields) == (3, "published", True)
    assert DedupArticles().reads_fields is False  # without a window the fields stay in the main process
