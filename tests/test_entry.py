"""The entry point's exit (``vocclean.entry.leave``): the process ends without the interpreter's
teardown, once the ``atexit`` functions have run and the streams are flushed."""

from __future__ import annotations

import atexit
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vocclean.entry import leave

REPO = Path(__file__).resolve().parent.parent

LEAVING = """
import atexit, sys
from vocclean.entry import leave
atexit.register(lambda: open(sys.argv[1], "w").write("atexit ran") and sys.stdout.write(", then atexit"))
sys.stdout.write("buffered, no newline")
sys.stderr.write("a note")
leave({code})
"""


def run_leaving(tmp_path: Path, code: str) -> tuple[subprocess.CompletedProcess, Path]:
    mark = tmp_path / "mark"
    script = LEAVING.format(code=code)
    result = subprocess.run(
        [sys.executable, "-c", script, str(mark)], capture_output=True, cwd=REPO, timeout=60
    )
    return result, mark


@pytest.mark.parametrize(("code", "returncode"), [("0", 0), ("3", 3), ("None", 0)])
def test_leaving_runs_atexit_flushes_the_streams_and_keeps_the_code(tmp_path, code, returncode):
    result, mark = run_leaving(tmp_path, code)
    assert result.returncode == returncode
    assert result.stdout == b"buffered, no newline, then atexit"
    assert result.stderr == b"a note"
    assert mark.read_text() == "atexit ran"


def test_a_message_instead_of_a_code_exits_as_python_does(tmp_path):
    result, mark = run_leaving(tmp_path, "'vocclean: gone'")
    assert result.returncode == 1
    assert result.stderr.endswith(b"vocclean: gone\n")
    assert mark.read_text() == "atexit ran"


def test_with_another_thread_running_python_exits_as_usual():
    """Python's exit waits for the thread; ending the process here would cut it short."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        with pytest.raises(SystemExit) as exit_:
            leave(4)
        assert exit_.value.code == 4
    finally:
        release.set()
        thread.join()


def test_a_stream_that_cannot_be_flushed_leaves_the_exit_to_python(monkeypatch):
    class Closed:
        def flush(self) -> None:
            raise ValueError("I/O operation on closed file")

    ran: list[bool] = []
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: ran.append(True))  # not this session's
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # earlier tests' threads aside
    monkeypatch.setattr(sys, "stdout", Closed())
    with pytest.raises(SystemExit) as exit_:
        leave(0)
    assert exit_.value.code == 0
    assert ran == [True]  # before the flush, as at any exit; Python's exit then has none left


def test_the_command_leaves_through_it(tmp_path):
    """``python -m vocclean``: the run's exit code, and its output on stdout whole."""
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "text": "今天,天气很好。"}\n{"id": "2"}\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "vocclean", "-i", str(source), "normalize-script"],
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 1  # one record without text
    assert result.stdout.decode().count("\n") == 1
    assert "今天，天气很好。" in result.stdout.decode()
