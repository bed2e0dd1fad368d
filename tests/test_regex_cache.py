"""Compiled patterns kept on disk: loaded or compiled, the same pattern; never a wrong or broken file."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from vocclean import regex_cache, table_cache
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs

PATTERNS = [
    (r"(?P<who>记者|編輯)\s*[:：]\s*(?P<name>\w{2,4})", 0),
    (r"responsible editor\s*:\s*\S+", re.IGNORECASE),
    (r"(\d+)-\1", 0),  # a back-reference
    ("[一-鿿㐀-䶿]{2,}(?:网|網)(?:消息|讯)", 0),
    (r"^\s*-\s*END\s*-\s*$", re.MULTILINE),
    ("", 0),
]
SAMPLES = ["记者：王小明", "Responsible Editor: Li | Audit: Wu", "12-12", "新华网消息", " - END - ", "x"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv(table_cache.ENV, str(directory))
    regex_cache.compile.cache_clear()
    yield directory
    regex_cache.compile.cache_clear()


def stored(directory) -> list:
    return sorted(directory.glob("regex-*/*.sre"))


@pytest.mark.parametrize(("pattern", "flags"), PATTERNS)
def test_loaded_pattern_equals_compiled(cache, pattern, flags):
    regex_cache.compile(pattern, flags)
    assert len(stored(cache)) == 1
    regex_cache.compile.cache_clear()  # as a new process: from the file
    loaded = regex_cache.compile(pattern, flags)
    expected = re.compile(pattern, flags)
    assert loaded == expected  # flags, program and source
    assert loaded is not expected
    assert loaded.groupindex == expected.groupindex and loaded.groups == expected.groups
    for sample in SAMPLES:
        got, want = loaded.search(sample), expected.search(sample)
        assert (got and (got.span(), got.groups())) == (want and (want.span(), want.groups()))


def test_read_from_the_file_not_compiled_again(cache, monkeypatch):
    pattern = r"扫描.{0,10}二维码"
    regex_cache.compile(pattern)
    regex_cache.compile.cache_clear()
    monkeypatch.setattr(re, "compile", lambda *args: pytest.fail("compiled again"))
    assert regex_cache.compile(pattern).search("长按扫描下方二维码")


def test_one_file_per_pattern_and_flags(cache):
    regex_cache.compile("abc")
    regex_cache.compile("abc", re.IGNORECASE)
    regex_cache.compile("abd")
    regex_cache.compile("abc")
    assert len(stored(cache)) == 3


@pytest.mark.parametrize("damage", [b"", b"not json\n\x00\x01", b'{"flags": 32}\n'])
def test_broken_file_is_compiled_again_and_replaced(cache, damage):
    pattern = r"赞赏金额\s*\d+"
    regex_cache.compile(pattern)
    (path,) = stored(cache)
    path.write_bytes(damage)
    regex_cache.compile.cache_clear()
    assert regex_cache.compile(pattern) == re.compile(pattern)
    assert path.read_bytes() != damage


def test_bad_pattern_raises_as_re_does_and_stores_nothing(cache):
    with pytest.raises(re.error):
        regex_cache.compile("(unclosed")
    assert stored(cache) == []


def test_cache_off_compiles_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(table_cache.ENV, table_cache.OFF)
    regex_cache.compile.cache_clear()
    assert regex_cache.compile("a+b") == re.compile("a+b")
    assert list(tmp_path.iterdir()) == []
    regex_cache.compile.cache_clear()


def test_unwritable_directory_still_compiles(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would be")
    monkeypatch.setenv(table_cache.ENV, str(blocker))
    regex_cache.compile.cache_clear()
    assert regex_cache.compile("x[yz]") == re.compile("x[yz]")
    regex_cache.compile.cache_clear()


def test_another_interpreter_build_uses_another_directory(cache, monkeypatch):
    regex_cache.compile("same")
    monkeypatch.setattr(regex_cache, "_ENGINE", "digest-of-another-build")
    regex_cache.compile.cache_clear()
    regex_cache.compile("same")
    assert len({path.parent for path in stored(cache)}) == 2


def test_unequal_program_is_not_kept(cache, monkeypatch):
    """Were this interpreter's re to build patterns another way, nothing would be written."""
    real = regex_cache._parts

    def other_program(pattern, flags):
        final_flags, code, *rest = real(pattern, flags)
        return (final_flags, [ord("j") if op == ord("k") else op for op in code], *rest)  # matches "jept"

    monkeypatch.setattr(regex_cache, "_parts", other_program)
    assert regex_cache.compile("kept?") == re.compile("kept?")
    assert stored(cache) == []


def test_rule_packs_load_the_same_from_the_cache(cache):
    first = load_packs(builtin_pack_paths())
    regex_cache.compile.cache_clear()
    second = load_packs(builtin_pack_paths())
    assert [r.regex for r in first] == [r.regex for r in second]
    assert stored(cache)


def test_second_process_reads_what_the_first_wrote(cache, tmp_path):
    script = (
        "import re, sys\n"
        "from vocclean import regex_cache\n"
        "called = []\n"
        "real = regex_cache._store\n"
        "regex_cache._store = lambda *a: (called.append(1), real(*a))\n"
        "pattern = r'(?:央视网|央視網)消息\\s*[:：]?'\n"
        "assert regex_cache.compile(pattern) == re.compile(pattern)\n"
        "print(len(called))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert runs == ["1\n", "0\n"]
