"""The CI bar: `check` fails on the dirty seeds with a finding of each kind they hold, and
passes on the seeds once `clean` has cleaned them. A corpus made from the seeds, with one
file per kind of damage, shows every kind the real steps can find."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import opencc
from click.testing import CliRunner

from tests.conftest import FIXTURES
from vocclean.check import KINDS
from vocclean.cli import main

SEEDS = FIXTURES / "seeds"
# What the five seeds hold (see DOMAIN.md), by record.
SEED_KINDS = {
    "boilerplate": {"001_004e90af4e3b3bb7.txt", "002_a89065f1244e4dcb.txt", "004_587dec79ab138032.txt"},
    "repeated-paragraph": {"004_587dec79ab138032.txt"},
    "punctuation": {"003_294e37ae64d87df3.txt", "004_587dec79ab138032.txt"},
}
# Kinds no real step produces on purpose: a step's own bug, a drop for a reason not listed.
NOT_MADE = {"step-error", "rejected"}


def check_json(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [*args, "check", "--format", "json", "--max-findings", "0"])
    return result.exit_code, json.loads(result.stdout)


def records_with(data: dict, kind: str) -> set[str]:
    return {finding["id"] for finding in data["findings"] if finding["kind"] == kind}


def test_check_fails_on_the_dirty_seeds_with_each_kind_they_hold():
    code, data = check_json("-i", str(SEEDS))
    assert code == 1
    assert data["failures"] == ["boilerplate rate 0.600 > 0.05"]
    for kind, ids in SEED_KINDS.items():
        assert ids <= records_with(data, kind), kind
    assert records_with(data, "boilerplate") == SEED_KINDS["boilerplate"]


def test_findings_in_the_seeds_point_at_their_lines():
    _, data = check_json("-i", str(SEEDS))
    seed_002 = str(SEEDS / "002_a89065f1244e4dcb.txt")
    lines = SEEDS.joinpath("002_a89065f1244e4dcb.txt").read_text(encoding="utf-8").splitlines()
    found = [f for f in data["findings"] if f["file"] == seed_002 and f["kind"] == "boilerplate"]
    assert found and all(f["line"] is not None for f in found)
    assert {lines[f["line"] - 1] for f in found} >= {"- END -", "Author:Dahe Cai Cube Time:2022.09.23"}


def test_findings_in_a_traditional_file_point_at_its_lines_and_quote_them(tmp_path):
    """normalize-script converts the article before strip-boilerplate quotes its lines."""
    shutil.copy(FIXTURES / "fix_encoding" / "tw_ltn.utf8.txt", tmp_path)
    _, data = check_json("-i", str(tmp_path))
    found = [(f["line"], f["message"]) for f in data["findings"] if f["kind"] == "boilerplate"]
    assert found == [
        (2, "boilerplate prefix (dateline, rule zh-bracket-dateline): '〔記者王榮祥／高雄報導〕'"),
        (4, "boilerplate (reading-prompt, rule zh-read-more): '請繼續往下閱讀...'"),
    ]


def test_check_passes_on_the_seeds_once_cleaned(tmp_path):
    cleaned = tmp_path / "cleaned.jsonl"
    result = CliRunner().invoke(main, ["-i", str(SEEDS), "-o", str(cleaned), "clean"])
    assert result.exit_code == 0, result.output
    code, data = check_json("-i", str(cleaned))
    assert code == 0, data["failures"]
    assert data["records"] == 5


def dirty_corpus(root: Path) -> dict[str, str]:
    """The seeds plus one file per kind of damage; returns {kind: the record id that has it}."""
    shutil.copytree(SEEDS, root / "seeds")
    seed_000 = (SEEDS / "000_5ed8b8d019ee34e4.txt").read_text(encoding="utf-8")
    zh = (SEEDS / "004_587dec79ab138032.txt").read_text(encoding="utf-8").splitlines()
    body = "\n".join(zh[1:4])
    to_traditional = opencc.OpenCC("s2t")
    files = {
        "non-utf8": ("gb18030.txt", "\n".join(zh[4:7]).encode("gb18030")),
        "mojibake": ("mojibake.txt", body.encode("utf-8").decode("latin-1").encode("utf-8")),
        "unrecoverable": ("unrecoverable.txt", (zh[7] + "锟斤拷锟斤拷" + zh[8]).encode()),
        "junk": ("junk.txt", zh[2].replace("要", "要\u200b").encode()),
        "other-script": ("traditional.txt", to_traditional.convert("\n".join(zh[3:6])).encode()),
        "mixed-script": ("mixed.txt", (to_traditional.convert(zh[6]) + "\n" + zh[8]).encode()),
        "duplicate-exact": ("zz_copy_of_000.txt", seed_000.encode()),
        "duplicate-near": ("zz_near_000.txt", seed_000.replace("June 12, 2020", "June 15, 2020").encode()),
        "empty": ("empty.txt", b""),
        "tiny": ("tiny.txt", "短消息。".encode()),
        "undecodable": ("binary.txt", bytes(range(256)) * 4),
    }
    for name, data in files.values():
        (root / name).write_bytes(data)
    (root / "records.jsonl").write_text('{"id": "fine", "text": "好"}\n{broken\n', encoding="utf-8")
    expected = {kind: name for kind, (name, _) in files.items()}
    expected["invalid-record"] = f"{root / 'records.jsonl'}:2"
    return expected


def test_a_corpus_with_every_kind_of_damage_shows_every_kind(tmp_path):
    expected = dirty_corpus(tmp_path)
    code, data = check_json("-i", str(tmp_path))
    assert code == 1
    for kind, record_id in expected.items():
        assert record_id in records_with(data, kind), (kind, record_id, records_with(data, kind))
    found = {kind for kind, count in data["kinds"].items() if count["findings"]}
    assert found == set(KINDS) - NOT_MADE
