"""bench/measure.py: the process tree's CPU and peak memory, read from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import measure

needs_proc = pytest.mark.skipif(not measure.PROC_CHILDREN, reason="needs /proc/PID/task/TID/children (Linux)")

# A parent that forks a child (which forks a grandchild): each descendant holds 60 MB and
# spins for 0.4 s of CPU; the parent itself only waits.
TREE = textwrap.dedent(
    """
    import os, time
    def busy():
        block = bytearray(60 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        started = time.process_time()
        while time.process_time() - started < 0.4:
            pass
    child = os.fork()
    if child == 0:
        grandchild = os.fork()
        busy()
        if grandchild:
            os.waitpid(grandchild, 0)
        os._exit(0)
    os.waitpid(child, 0)
    """
)


@needs_proc
def test_timed_counts_every_descendant_and_keeps_the_main_process_apart():
    run = measure.timed([sys.executable, "-c", TREE], REPO)
    assert run.cpu >= 0.6  # two descendants, 0.4 s each (the last 20 ms of each can be missed)
    assert run.main_cpu < 0.3  # the parent only starts Python and waits
    assert run.peak >= 2 * 60 * 1024 * 1024  # both blocks alive at once
    assert 0 < run.sampler_cpu < run.seconds


@needs_proc
def test_tree_pids_finds_children_of_children():
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys; subprocess.run([sys.executable, '-c', 'import time; time.sleep(30)'])",
        ]
    )
    try:
        for _ in range(200):
            pids = measure.tree_pids(parent.pid)
            if len(pids) == 2:
                break
            time.sleep(0.05)
        assert pids[0] == parent.pid and len(pids) == 2
    finally:
        for pid in measure.tree_pids(parent.pid)[::-1]:
            os.kill(pid, 9)
        parent.wait()


@needs_proc
def test_process_sample_reads_a_command_name_with_spaces_and_parentheses(tmp_path):
    # The kernel names a process after its executable: ") 1 2 (" would shift the fields of a naive split.
    odd = tmp_path / ") 1 2 ("
    odd.symlink_to("/bin/sleep")
    process = subprocess.Popen([str(odd), "5"])
    try:
        for _ in range(100):
            with open(f"/proc/{process.pid}/comm") as comm:
                if comm.read().strip() == ") 1 2 (":
                    break
            time.sleep(0.02)
        sample = measure.process_sample(process.pid)
        assert sample is not None
        (pid, start), cpu, rss = sample
        assert pid == process.pid and start > 0
        assert 0 <= cpu < 1 and rss > 0
    finally:
        process.kill()
        process.wait()
    assert measure.process_sample(process.pid) is None  # reaped: gone


def test_compile_bytecode_writes_a_fresh_pyc_for_a_module_edited_since(tmp_path):
    """A module edited since its .pyc was written gets a fresh one (``timed`` calls this before its
    first command), so a benchmark does not time Python's compiler where PYTHONDONTWRITEBYTECODE is set."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text("VALUE = 1\n")
    assert measure.compile_bytecode(package)
    cached = package / "__pycache__" / f"mod.{sys.implementation.cache_tag}.pyc"
    assert cached.exists()
    first = cached.read_bytes()
    (package / "mod.py").write_text("VALUE = 2\n")
    later = time.time() + 10  # the .pyc records the source's mtime in whole seconds
    os.utime(package / "mod.py", (later, later))
    measure.compile_bytecode.cache_clear()
    assert measure.compile_bytecode(package)
    assert cached.read_bytes() != first
