"""Start-up tables kept on disk: loaded or built, the same arrays; never a stale or broken file."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from vocclean import table_cache
from vocclean.table_cache import cache_dir, cached_arrays, cached_strings, table_path
from vocclean.text import clean_gate, hanzi, script, shingles


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv(table_cache.ENV, str(directory))
    return directory


KEYS = ("values", "flags")


def counting_build(calls: list[int]):
    def build():
        calls.append(1)
        return {"values": np.arange(5, dtype=np.uint32), "flags": np.array([True, False])}

    return build


def test_built_once_then_loaded(cache, tmp_path):
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    calls: list[int] = []
    first = cached_arrays("demo", source, counting_build(calls), KEYS)
    second = cached_arrays("demo", source, counting_build(calls), KEYS)
    assert calls == [1]
    assert [p.name for p in cache.iterdir()] == [table_path("demo", source).name]
    for key in ("values", "flags"):
        assert np.array_equal(first[key], second[key])
        assert first[key].dtype == second[key].dtype


def test_a_file_with_other_arrays_is_built_again(cache, tmp_path):
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    path = table_path("demo", source)
    path.parent.mkdir(parents=True)
    np.savez(path, values=np.arange(3))  # a table of another shape under the same name
    calls: list[int] = []
    assert cached_arrays("demo", source, counting_build(calls), KEYS)["flags"].tolist() == [True, False]
    assert calls == [1]


def test_no_home_turns_the_cache_off(monkeypatch):
    monkeypatch.delenv(table_cache.ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(table_cache.Path, "home", staticmethod(no_home))
    assert cache_dir() is None


def test_changed_source_gives_a_new_file(cache, tmp_path):
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    before = table_path("demo", source)
    source.write_text("VERSION = 2\n")
    assert table_path("demo", source) != before
    calls: list[int] = []
    cached_arrays("demo", source, counting_build(calls), KEYS)
    assert calls == [1]


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04 truncated"])
def test_a_broken_file_is_built_again_and_replaced(cache, tmp_path, content):
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    path = table_path("demo", source)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    calls: list[int] = []
    arrays = cached_arrays("demo", source, counting_build(calls), KEYS)
    assert calls == [1] and arrays["values"].tolist() == [0, 1, 2, 3, 4]
    cached_arrays("demo", source, counting_build(calls), KEYS)
    assert calls == [1]  # the replaced file loads


def test_an_unwritable_cache_still_gives_the_table(tmp_path, monkeypatch):
    """A path that cannot be a directory (a file is in the way; read-only disks fail alike)."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv(table_cache.ENV, str(blocker / "cache"))
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    calls: list[int] = []
    assert cached_arrays("demo", source, counting_build(calls), KEYS)["flags"].tolist() == [True, False]
    assert calls == [1]


def test_off_builds_every_time_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(table_cache.ENV, table_cache.OFF)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() is None
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    calls: list[int] = []
    cached_arrays("demo", source, counting_build(calls), KEYS)
    cached_arrays("demo", source, counting_build(calls), KEYS)
    assert calls == [1, 1] and not (tmp_path / "xdg").exists()


def test_default_directory_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv(table_cache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "vocclean"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "vocclean"


def test_fold_table_loaded_equals_built(cache):
    built = shingles.build_fold_table()
    cold = shingles.fold_table()  # builds and saves
    warm = shingles.fold_table()  # loads
    assert len(list(cache.glob("fold-table-*.npz"))) == 1
    for part in range(2):
        assert np.array_equal(built[part], cold[part]) and np.array_equal(built[part], warm[part])
        assert warm[part].dtype == built[part].dtype


def test_script_markers_loaded_equal_built(cache):
    built = script._build_markers()
    cold = script.marker_chars()
    warm = script.marker_chars()
    assert len(list(cache.glob("script-markers-*.npz"))) == 1
    expected = tuple(set(map(chr, built[name].tolist())) for name in ("traditional", "simplified"))
    assert cold == warm == expected
    traditional, simplified = warm
    assert "們" in traditional and "们" in simplified and "台" not in simplified


def test_a_cold_and_a_warm_run_clean_alike(tmp_path, seeds_dir):
    """The CLI with an empty cache and then with the tables and patterns it saved: byte-identical output."""
    env = {**os.environ, table_cache.ENV: str(tmp_path / "cache")}
    outputs = []
    for run in ("cold", "warm"):
        out = tmp_path / f"{run}.jsonl"
        command = [sys.executable, "-m", "vocclean", "-i", str(seeds_dir), "-o", str(out), "-j", "1", "clean"]
        subprocess.run(command, check=True, env=env, capture_output=True)
        outputs.append(out.read_bytes())
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()) == [
        "clean",
        "common",
        "fold",
        "regex",
        "script",
    ]
    assert outputs[0] == outputs[1] and outputs[0].count(b"\n") == 5


def test_strings_come_back_whole_lone_surrogates_and_astral_characters_too(cache, tmp_path):
    source = tmp_path / "builder.py"
    source.write_text("VERSION = 1\n")
    texts = {"mixed": "abc\ud800中文\U00020000\x00end", "empty": ""}
    cold = cached_strings("demo-strings", source, lambda: texts, ("mixed", "empty"))
    warm = cached_strings("demo-strings", source, lambda: pytest.fail("built again"), ("mixed", "empty"))
    assert cold == warm == texts


def test_common_characters_loaded_equal_built(cache):
    built = hanzi._common_chars()
    assert frozenset(built["simplified"]) == hanzi.COMMON_SIMPLIFIED and len(hanzi.COMMON_SIMPLIFIED) == 3755
    assert frozenset(built["traditional"]) == hanzi.COMMON_TRADITIONAL and len(hanzi.COMMON_HANGUL) == 2350
    assert (
        built["hanzi_class"] == hanzi.COMMON_HANZI_CLASS
        and built["hangul_class"] == hanzi.COMMON_HANGUL_CLASS
    )
    assert cached_strings("common-chars", hanzi.__file__, hanzi._common_chars, tuple(built)) == built


def test_signature_table_names_the_classes_of_every_bmp_character(cache):
    hanzi._signature_table.cache_clear()
    for attempt in ("cold", "warm"):
        table, signatures = hanzi._signature_table()
        hanzi._signature_table.cache_clear()
        for code_point in range(0, 0x10000, 7):
            char = chr(code_point)
            expected = tuple(name for name, pattern in hanzi._COUNTERS.items() if pattern.fullmatch(char))
            assert signatures[table[code_point]] == expected, (attempt, hex(code_point))
    assert len(list(cache.glob("hanzi-signatures-*.npz"))) == 1


def test_char_counts_equal_one_regex_scan_per_class():
    text = "漢字简体 한국어 かな ABC，。\ue000\ufffd é \U00020000\U000f0001 體 们"
    counts = hanzi.CharCounts.of(text)
    for name, pattern in hanzi._COUNTERS.items():
        assert getattr(counts, name) == len(pattern.findall(text)), name
    assert counts.total == len(text)


def test_clean_gate_loaded_equals_built(cache):
    built = "[^" + hanzi._char_class(clean_gate._clean_characters()) + "]"
    assert clean_gate.SUSPECT.pattern == built
    assert clean_gate.may_need_fixing("Ã©tÃ©") and not clean_gate.may_need_fixing("会议强调，要牢记使命。")
