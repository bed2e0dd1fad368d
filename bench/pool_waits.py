"""Where a `clean -j N` run waits: each worker pool's wall time, and what its processes spent.

Runs ``vocclean -i INPUT -o OUTPUT -j N clean`` in this process with the
worker pool's queue calls timed (patched here, in this script only):

- per pool (a spooled run has two: the learning pass, then the cleaning
  pass), its wall seconds from the first chunk submitted to the pool closed,
  the main process's CPU, the seconds it waited for the oldest chunk's
  result, and the chunks it cleaned itself (``-j N`` has ``N - 1`` workers
  and the main process cleans a chunk when they are behind);
- per worker, its CPU, the seconds it was blocked sending results (a pipe
  full until the main process's reader thread, which needs the GIL, empties
  it; since 2026-11-23 only a result file's name goes through the pipe) and
  the seconds it waited for work.

A worker's figures are written to a scratch file at each result (workers
leave by ``os._exit``), read after the run.

    .venv/bin/python bench/pool_waits.py INPUT.jsonl [--jobs 2] [--chunk-records 512]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import concurrent.futures.process as futures_process
import multiprocessing.queues
import os
import sys
import tempfile
import time
from pathlib import Path

import vocclean.engines.local as local

MAIN = os.getpid()
COLUMNS = (
    "pool", "wall s", "main CPU s", "main waits for results s", "chunks cleaned by main",
    "worker", "CPU s", "blocked sending s", "waits for work s",
)  # fmt: skip


class Pools:
    """The main process's side: pools in the order they started, with their workers' pids."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.waiting = 0.0  # for results, in the pool now open
        self.here = 0  # chunks the main process cleaned, in the pool now open

    def opened(self, pool: local.WorkerPool) -> None:
        self.rows.append({"pool": pool, "wall": time.perf_counter(), "cpu": time.process_time()})
        self.waiting, self.here = 0.0, 0

    def closed(self, pool: local.WorkerPool, pids: list[int]) -> None:
        row = next(row for row in self.rows if row["pool"] is pool)
        row["wall"] = time.perf_counter() - row["wall"]
        row["cpu"] = time.process_time() - row["cpu"]
        row["waiting"], row["pids"], row["here"] = self.waiting, pids, self.here


def instrument(scratch: Path, pools: Pools) -> None:
    worker = {"send": 0.0, "get": 0.0}

    def save() -> None:
        figures = f"{time.process_time()} {worker['send']} {worker['get']}"
        (scratch / str(os.getpid())).write_text(figures)

    send = futures_process._sendback_result

    def timed_send(*args, **kwargs):
        started = time.perf_counter()
        try:
            return send(*args, **kwargs)
        finally:
            worker["send"] += time.perf_counter() - started
            save()

    get = multiprocessing.queues.Queue.get

    def timed_get(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return get(self, *args, **kwargs)
        finally:
            if os.getpid() != MAIN:
                worker["get"] += time.perf_counter() - started

    executor, close = local.WorkerPool.executor, local.WorkerPool.close

    def timed_executor(self):
        if self._executor is None:
            pools.opened(self)
        return executor(self)

    def timed_close(self, failed: bool = False) -> None:
        if self._executor is not None:
            pids = list(self._executor._processes or {})
            close(self, failed)
            pools.closed(self, pids)
        else:
            close(self, failed)

    result = local.WorkerPool.result

    def timed_result(self, future):
        # The wait alone: reading the result's file comes after (until 2026-11-23 it was counted in).
        started = time.perf_counter()
        concurrent.futures.wait([future])
        pools.waiting += time.perf_counter() - started
        return result(self, future)

    run_chunk = local.run_chunk

    def counted_run_chunk(steps, records, fresh_counters):
        if os.getpid() == MAIN and pools.rows:
            pools.here += 1
        return run_chunk(steps, records, fresh_counters)

    futures_process._sendback_result = timed_send
    local.run_chunk = counted_run_chunk
    multiprocessing.queues.Queue.get = timed_get
    local.WorkerPool.executor, local.WorkerPool.close = timed_executor, timed_close
    local.WorkerPool.result = timed_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--chunk-records", type=int, default=local.DEFAULT_CHUNK_RECORDS)
    args = parser.parse_args()
    pools = Pools()
    with tempfile.TemporaryDirectory() as scratch:
        instrument(Path(scratch), pools)
        from vocclean.cli import main as cli

        started = time.perf_counter()
        command = ["-i", args.input, "-o", str(Path(scratch) / "out.jsonl"), "-j", str(args.jobs)]
        command += ["--chunk-records", str(args.chunk_records), "clean"]
        try:
            cli(command, prog_name="vocclean")
        except SystemExit as end:
            if end.code:
                sys.exit(f"vocclean ended with exit {end.code}")
        wall = time.perf_counter() - started
        main_cpu = time.process_time()
        print(f"clean -j {args.jobs} over {args.input}: {wall:.2f} s, main process CPU {main_cpu:.2f} s\n")
        print(f"| {' | '.join(COLUMNS)} |")
        print("|---" * len(COLUMNS) + "|")
        for number, row in enumerate(pools.rows, 1):
            for pid in row.get("pids", []):
                path = Path(scratch) / str(pid)
                cpu, send, get = map(float, path.read_text().split()) if path.exists() else (0.0, 0.0, 0.0)
                pool = f"{number} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['waiting']:.2f}"
                pool += f" | {row['here']}"
                print(f"| {pool} | {pid} | {cpu:.2f} | {send:.2f} | {get:.2f} |")


if __name__ == "__main__":
    main()
