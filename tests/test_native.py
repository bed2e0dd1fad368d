"""The compiled boilerplate matcher (vocclean.native, setup.py): used where current, the same output."""

from __future__ import annotations

import importlib.machinery
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO, rule_examples
from vocclean import native
from vocclean.steps.strip_boilerplate import StripBoilerplate
from vocclean.text import boilerplate


def _has_c_compiler() -> bool:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(compiler) is not None


def test_the_matcher_is_compiled_where_a_c_compiler_is():
    """bin/test installs with setup.py: with a compiler the matcher must be compiled and current."""
    if os.environ.get(native.PURE_ENV):
        assert native.status() == f"source ({native.PURE_ENV} is set)"
        assert boilerplate.__file__.endswith(".py")
    elif _has_c_compiler():
        assert native.status() == "compiled"
        assert boilerplate.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    else:
        assert native.status().startswith("source (not compiled")
        assert boilerplate.__file__.endswith(".py")


def test_status_says_compiled_only_when_every_module_is_built_from_its_present_source(tmp_path, monkeypatch):
    """setup.py records each compiled source's SHA-256; a module whose source differs runs as source,
    whatever the file times (an install from a wheel writes a source after its extension)."""
    monkeypatch.setattr(native, "_ROOT", tmp_path)
    monkeypatch.delenv(native.PURE_ENV, raising=False)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    folder = tmp_path / "vocclean" / "text"
    folder.mkdir(parents=True)
    modules = ("vocclean.text.one", "vocclean.text.two")
    for name in ("one", "two"):
        (folder / f"{name}.py").write_text(f"NAME = {name!r}\n")
    assert native.status(modules).startswith("source (not compiled")
    (folder / f"one{suffix}").write_bytes(b"")
    assert native.status(modules) == "source (vocclean.text.two was not compiled)"
    (folder / f"two{suffix}").write_bytes(b"")
    assert native.status(modules) == "source (one.py changed after the build: reinstall to compile it)"
    sources = {module: native.source_digest(native.source_path(module)) for module in modules}
    record = tmp_path / "vocclean" / native.SOURCES_FILE
    record.write_text(json.dumps({"sources": sources, "shared": ["vocclean_test_absent__mypyc"]}))
    assert native.status(modules) == (
        "source (vocclean_test_absent__mypyc, the compiled code, is missing: reinstall to compile it)"
    )
    record.write_text(json.dumps({"sources": sources, "shared": ["json"]}))  # a module that exists
    assert native.status(modules) == "compiled"
    os.utime(folder / "two.py", (4_000_000_000, 4_000_000_000))  # newer than its extension, same text
    assert native.status(modules) == "compiled"
    (folder / "two.py").write_text("NAME = 'edited'\n")
    assert native.status(modules) == "source (two.py changed after the build: reinstall to compile it)"
    monkeypatch.setenv(native.PURE_ENV, "1")
    assert native.status(modules) == f"source ({native.PURE_ENV} is set)"


def _run(*args: str, pure: bool, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {key: value for key, value in os.environ.items() if key != native.PURE_ENV}
    if pure:
        env[native.PURE_ENV] = "1"
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, env=env, cwd=REPO, timeout=300
    )


def test_the_source_finder_imports_every_compiled_module_from_source():
    code = (
        "import vocclean.native as n, importlib\n"
        "print(n.status())\n"
        "for name in n.COMPILED: print(importlib.import_module(name).__file__)\n"
    )
    out = _run("-c", code, pure=True).stdout.decode().splitlines()
    assert out[0] == f"source ({native.PURE_ENV} is set)"
    assert [Path(path) for path in out[1:]] == [native.source_path(name) for name in native.COMPILED]


def test_compiled_and_source_clean_the_same(tmp_path):
    """Every example and counter-example of the built-in rules, at the head, in the middle and at the
    tail of articles from the seeds, through strip-boilerplate with annotations: byte-identical."""
    bodies = [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "seeds").glob("*.txt"))]
    assert bodies
    examples = rule_examples()
    rng = random.Random(7)
    records = []
    for number in range(300):
        lines = rng.choice(bodies).split("\n")
        for _ in range(rng.randint(1, 4)):
            lines.insert(
                rng.choice((0, 1, len(lines) // 2, len(lines) - 1, len(lines))), rng.choice(examples)
            )
        records.append(json.dumps({"id": str(number), "text": "\n".join(lines)}, ensure_ascii=False))
    corpus = ("\n".join(records) + "\n").encode("utf-8")
    command = ("-m", "vocclean", "--annotate", "-j", "1", "strip-boilerplate")
    compiled, pure = _run(*command, pure=False, stdin=corpus), _run(*command, pure=True, stdin=corpus)
    assert compiled.returncode == 0 and pure.returncode == 0, pure.stderr[-2000:]
    assert compiled.stdout == pure.stdout
    removed = sum(
        len(json.loads(line)["vocclean"]["boilerplate"])
        for line in compiled.stdout.splitlines()
        if "vocclean" in json.loads(line)
    )
    assert removed > 300  # the examples were found, not only passed through


@pytest.mark.parametrize("pure", [False, True])
def test_version_says_whether_the_matcher_is_compiled(pure):
    out = _run("-m", "vocclean", "--version", pure=pure).stdout.decode()
    assert out.startswith("vocclean, version ")
    if pure:
        assert f"(boilerplate matcher: source ({native.PURE_ENV} is set))" in out
    elif _has_c_compiler():
        assert "(boilerplate matcher: compiled)" in out
    else:
        assert "(boilerplate matcher: source (not compiled" in out


def test_a_pickled_matcher_is_rebuilt_with_its_rules_and_settings():
    """Engines pickle steps for their workers; a compiled class is rebuilt from its rules and settings."""
    step = StripBoilerplate(keep_dateline=True, head_lines=1, tail_lines=2, cut_from=0.5)
    copy = pickle.loads(pickle.dumps(step)).matcher
    assert (copy.head_lines, copy.tail_lines, copy.cut_from, copy.prefilter) == (1, 2, 0.5, True)
    assert [rule.name for rule in copy.rules] == [rule.name for rule in step.matcher.rules]
    text = "央视网消息：正文第一段。\n扫码关注我们\n正文第二段。\n- END -\n推荐阅读"
    assert copy.find(text) == step.matcher.find(text)
    assert not any(removal.prefix for removal in copy.find(text))  # datelines stay kept
