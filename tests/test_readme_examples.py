"""The README's Python examples run as written (in a folder holding the ``dump/`` they read)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_a_readme_python_example_runs(code, tmp_path, monkeypatch, capsys):
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "a.jsonl").write_text('{"id": "a", "text": "这是一条新闻。"}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})  # raises if the example is broken
    if "out.jsonl" in code:  # the run() example writes the cleaned dump
        assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").startswith('{"id":"a"')
