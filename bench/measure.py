"""Timing a command line as a user runs it: wall and CPU seconds, peak memory of its process tree.

The tree is sampled every 20 ms from ``/proc`` directly (each process's
``task/*/children``, ``stat`` and ``statm``): a few small reads per process.
psutil's ``children(recursive=True)`` reads the status of every process on
the machine at each sample; at 20 ms that took about 0.1 s of CPU a second,
taken from the run being measured (on 2 cores, from ``-j 2`` only: ``-j 1``
leaves a core idle). The sampler's own CPU time is reported with each run
(``Run.sampler_cpu``). Without ``/proc`` (macOS), psutil does the walk.

Before its first command, ``timed`` writes the bytecode of vocclean's
modules (``compile_bytecode``), as a regular install has it: where
PYTHONDONTWRITEBYTECODE is set (this machine), a module edited since its
``.pyc`` was written is compiled again at every start, ~3 ms a module, and a
benchmark would time Python's compiler.
"""

from __future__ import annotations

import compileall
import functools
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PACKAGE = Path(__file__).resolve().parent.parent / "vocclean"
# Whether this kernel lists a task's children in /proc (Linux with CONFIG_PROC_CHILDREN).
PROC_CHILDREN = Path(f"/proc/self/task/{threading.get_native_id()}/children").exists()


@dataclass
class Run:
    seconds: float  # wall clock
    cpu: float  # user + system of the whole process tree
    peak: int  # largest RSS sum of the process tree, bytes
    main_cpu: float  # user + system of the command's own process
    sampler_cpu: float  # CPU seconds the sampling itself took (in this process)


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants, from ``/proc`` (children of any of a process's threads)."""
    pids, index = [pid], 0
    while index < len(pids):
        parent = pids[index]
        index += 1
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", "rb") as listing:
                    pids.extend(int(child) for child in listing.read().split())
            except OSError:
                continue
    return pids


def process_sample(pid: int) -> tuple[tuple[int, int], float, int] | None:
    """``((pid, start tick), CPU seconds, RSS bytes)`` of a live process, None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
        with open(f"/proc/{pid}/statm", "rb") as statm_file:
            statm = statm_file.read()
    except OSError:
        return None
    # After "pid (comm) ": field 3 (state) is index 0, so utime (14), stime (15), starttime (22)
    # are 11, 12, 19. comm may hold spaces and parentheses: split after its last ")".
    values = stat[stat.rindex(b")") + 2 :].split()
    cpu = (int(values[11]) + int(values[12])) / TICKS
    return (pid, int(values[19])), cpu, int(statm.split()[1]) * PAGE


def tree_sample(pid: int) -> list[tuple[tuple[int, int], float, int]]:
    """A sample of every process of the tree under ``pid``: see ``process_sample``."""
    if PROC_CHILDREN:
        samples = (process_sample(child) for child in tree_pids(pid))
        return [sample for sample in samples if sample is not None]
    found = []
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    for process in processes:
        try:
            with process.oneshot():
                times = process.cpu_times()
                key = (process.pid, int(process.create_time() * TICKS))
                found.append((key, times.user + times.system, process.memory_info().rss))
        except psutil.Error:
            continue
    return found


def watch_tree(process: subprocess.Popen) -> tuple[int, dict[tuple[int, int], float], float]:
    """Peak RSS sum (bytes), the CPU seconds of each process of the tree keyed by (pid, start),
    and the CPU seconds this sampling took.

    Sampled every 20 ms, each process's own times taken at its last sample:
    ``getrusage(RUSAGE_CHILDREN)`` would miss pool workers that are children of a
    forkserver the main process never waits for. A process's last ~20 ms can be missed.
    """
    started = time.thread_time()
    peak, cpu = 0, {}
    while process.poll() is None:
        samples = tree_sample(process.pid)
        for key, seconds, _ in samples:
            cpu[key] = seconds
        peak = max(peak, sum(rss for _, _, rss in samples))
        time.sleep(0.02)
    return peak, cpu, time.thread_time() - started


@functools.cache
def compile_bytecode(package: Path = PACKAGE) -> bool:
    """Write the bytecode of ``package``'s modules that lack it or whose source changed since (once
    per benchmark process); True when all compiled."""
    return bool(compileall.compile_dir(package, quiet=1))


def timed(command: list[str], cwd: Path, tmp: Path | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """Run ``command`` (TMPDIR=tmp when given); exit with its error output unless its status is in ``ok``."""
    compile_bytecode()
    env = {**os.environ, "TMPDIR": str(tmp)} if tmp is not None else None
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched: list[tuple[int, dict[tuple[int, int], float], float]] = []
    watcher = threading.Thread(target=lambda: watched.append(watch_tree(process)))
    watcher.start()
    _, stderr = process.communicate()
    watcher.join()
    seconds = time.perf_counter() - started
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode(errors='replace')[-3000:]}")
    peak, cpu, sampler = watched[0]
    main = sum(seconds for (pid, _), seconds in cpu.items() if pid == process.pid)
    return Run(seconds, sum(cpu.values()), peak, main, sampler)
