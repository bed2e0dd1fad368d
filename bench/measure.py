"""Timing a command line as a user runs it: wall and CPU seconds, peak memory of its process tree."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Run:
    seconds: float  # wall clock
    cpu: float  # user + system of the whole process tree
    peak: int  # largest RSS sum of the process tree, bytes
    main_cpu: float  # user + system of the command's own process


def watch_tree(process: subprocess.Popen) -> tuple[int, dict[tuple[int, float], float]]:
    """Peak RSS sum (bytes) and the CPU seconds of each process of the tree, keyed by (pid, start).

    Sampled every 20 ms, each process's own times taken at its last sample:
    ``getrusage(RUSAGE_CHILDREN)`` would miss pool workers that are children of a
    forkserver the main process never waits for. A process's last ~20 ms can be missed.
    """
    peak, cpu = 0, {}
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(process.pid)
        while process.poll() is None:
            total = 0
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error), proc.oneshot():
                    total += proc.memory_info().rss
                    times = proc.cpu_times()
                    cpu[(proc.pid, proc.create_time())] = times.user + times.system
            peak = max(peak, total)
            time.sleep(0.02)
    return peak, cpu


def timed(command: list[str], cwd: Path, tmp: Path | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """Run ``command`` (TMPDIR=tmp when given); exit with its error output unless its status is in ``ok``."""
    env = {**os.environ, "TMPDIR": str(tmp)} if tmp is not None else None
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched: list[tuple[int, dict[tuple[int, float], float]]] = []
    watcher = threading.Thread(target=lambda: watched.append(watch_tree(process)))
    watcher.start()
    _, stderr = process.communicate()
    watcher.join()
    seconds = time.perf_counter() - started
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode(errors='replace')[-3000:]}")
    peak, cpu = watched[0]
    main = sum(seconds for (pid, _), seconds in cpu.items() if pid == process.pid)
    return Run(seconds, sum(cpu.values()), peak, main)
