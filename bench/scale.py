"""Scale benchmark: -j 1 against -j 2, clean's end-to-end rate, Dask against local.

    .venv/bin/python bench/scale.py                          # everything, defaults below
    .venv/bin/python bench/scale.py --size-mb 200 --reps 5
    .venv/bin/python bench/scale.py --parts speedup --size-mb 50 --reps 3

Every figure is the median of ``--reps`` runs of the real command line
(``python -m vocclean ... clean``, interpreter start included), each in a
fresh process; peak memory is the largest sum of the resident memory of the
run's process tree (the CLI, its worker processes, the Dask cluster),
sampled every 20 ms from /proc (``measure.py``; the sampler's own CPU is
printed: it shares the 2 cores with ``-j 2``).

Parts (``--parts``, comma separated):

- ``speedup``: ``clean`` over a corpus of about ``--size-mb`` MB made from
  the xwlb stories in ``../shared/data`` (the 19,876 stories repeated with
  new ids until the size is reached, so later copies are exact duplicates
  that dedup-articles rejects), with ``-j 1`` and ``-j 2`` alternated run by
  run, the ratio, CPU seconds (process tree, main process), and two
  ceilings measured in the same run: the machine's (two pure-Python loops
  in two processes against one after another) and this work's (two ``-j
  1`` runs started together against one alone: what two cores give two
  independent cleanings, with no cost of parallelism).
- ``rate``: ``clean`` end to end over the xwlb stories (JSONL, 66 MB with
  their html field) with the default ``-j`` (all cores), in MB/s of input.
- ``dedup`` (not in the default): ``dedup-articles`` alone over the xwlb
  stories with ``-j 1`` and ``-j 2`` (with two workers its hashing stays in
  the main process; from ``-j 3`` on it runs on the worker processes), the
  ratio, and whether the outputs are identical.
- ``dask``: ``clean``, and the two dedups alone, over the xwlb stories
  split in ``--dask-files`` files (the Dask partitions) with ``--engine
  dask`` (a LocalCluster of ``-j`` workers, started by the command and
  included in its time; the dedups run distributed) beside the local
  engine: time, peak memory, and whether output and rejects are identical.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure

REPO = Path(__file__).resolve().parent.parent
LOAD_BEFORE = f"{os.getloadavg()[0]:.1f}"
XWLB = REPO.parent / "shared" / "data" / "xwlb_cctv_news_zh" / "stories.jsonl.gz"


def build_corpus(path: Path, size_mb: float | None, stories: int | None) -> int:
    """Write xwlb stories (repeated with new ids) until ``size_mb`` (None: each story once)."""
    with gzip.open(XWLB, "rb") as stream:
        lines = stream.read().splitlines()
    if stories:
        lines = lines[:stories]
    target = int(size_mb * 1e6) if size_mb is not None else None
    written = 0
    with open(path, "wb") as out:
        copy = 0
        while target is None or written < target:
            for line in lines:
                record = json.loads(line)
                if copy:
                    record["id"] = f"{record['id']}-copy{copy}"
                data = json.dumps(record, ensure_ascii=False).encode() + b"\n"
                out.write(data)
                written += len(data)
                if target is not None and written >= target:
                    break
            copy += 1
            if target is None:
                break
    return written


def clean_command(corpus: Path, out: Path, *options: str, chain: tuple[str, ...] = ("clean",)) -> list[str]:
    return [sys.executable, "-m", "vocclean", "-i", str(corpus), "-o", str(out), *options, *chain]


def run_clean(
    corpus: Path, out: Path, *options: str, chain: tuple[str, ...] = ("clean",)
) -> tuple[float, int]:
    """One `vocclean ... clean` run (or another ``chain``): (seconds, peak memory bytes)."""
    run = measure.timed(clean_command(corpus, out, *options, chain=chain), REPO, ok=(0, 1))
    return run.seconds, run.peak


def median_runs(
    reps: int, corpus: Path, out: Path, *options: str, chain: tuple[str, ...] = ("clean",)
) -> tuple[float, int, str]:
    times, peaks = [], []
    for _ in range(reps):
        seconds, peak = run_clean(corpus, out, *options, chain=chain)
        times.append(seconds)
        peaks.append(peak)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:12]
    return statistics.median(times), max(peaks), digest


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _burn(count: int) -> int:
    total = 0
    for number in range(count):
        total += number
    return total


def parallel_ceiling(reps: int, count: int = 20_000_000) -> float:
    """How much faster this machine runs two pure-Python loops in two processes than one after
    another. Both in fresh worker processes (a pool of one, a pool of two), so that neither
    measure runs in this process, beside its threads and its heap."""
    import multiprocessing

    def two_loops(processes: int) -> float:
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pool.map(_burn, [count, count], chunksize=1)
        return time.perf_counter() - started

    ratios = [two_loops(1) / two_loops(2) for _ in range(reps)]
    return statistics.median(ratios)


def side_by_side(work: Path, corpus: Path, reps: int) -> tuple[float, float]:
    """Median wall seconds of two ``-j 1`` runs started together, and of one alone (alternated)."""
    import concurrent.futures

    pairs, alone = [], []
    for _ in range(reps):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            started = time.perf_counter()
            commands = [clean_command(corpus, work / f"out-pair{n}.jsonl", "-j", "1") for n in (0, 1)]
            list(pool.map(lambda command: measure.timed(command, REPO, ok=(0, 1)), commands))
            pairs.append(time.perf_counter() - started)
        alone.append(
            measure.timed(clean_command(corpus, work / "out-alone.jsonl", "-j", "1"), REPO, ok=(0, 1)).seconds
        )
    return statistics.median(pairs), statistics.median(alone)


def speedup(work: Path, args) -> None:
    """-j 1 and -j 2 alternated run by run, so that a change of load hits both alike."""
    corpus = work / "corpus.jsonl"
    size = build_corpus(corpus, args.size_mb, args.stories)
    runs: dict[str, list[measure.Run]] = {"1": [], "2": []}
    for _ in range(args.reps):
        for jobs in runs:
            command = clean_command(corpus, work / f"out-j{jobs}.jsonl", "-j", jobs)
            runs[jobs].append(measure.timed(command, REPO, ok=(0, 1)))
    rows, seconds = [], {}
    for jobs, done in runs.items():
        seconds[jobs] = statistics.median(r.seconds for r in done)
        cpu, main = statistics.median(r.cpu for r in done), statistics.median(r.main_cpu for r in done)
        digest = hashlib.sha256((work / f"out-j{jobs}.jsonl").read_bytes()).hexdigest()[:12]
        peak = max(r.peak for r in done)
        rows.append(
            [f"-j {jobs}", f"{seconds[jobs]:.2f}", f"{size / 1e6 / seconds[jobs]:.1f}", f"{cpu:.2f}",
             f"{main:.2f}", f"{peak / 1e6:.0f}", digest]
        )  # fmt: skip
    print(f"\n### clean, -j 1 against -j 2 ({size / 1e6:.0f} MB, median of {args.reps} alternated runs)\n")
    print(table(["run", "seconds", "MB/s", "CPU s", "CPU s main process", "peak MB", "output sha256"], rows))
    print(f"\nspeed-up -j 2 / -j 1: **{seconds['1'] / seconds['2']:.2f}x** (bar: 1.7x)")
    print(f"this machine's ceiling, two pure-Python loops in 2 processes: {parallel_ceiling(args.reps):.2f}x")
    pair, alone = side_by_side(work, corpus, args.reps)
    print(f"this work's ceiling, two `-j 1` runs side by side: {pair:.2f} s for both, {alone:.2f} s alone: "
          f"{2 * alone / pair:.2f}x")  # fmt: skip
    print(f"identical output: {'yes' if rows[0][-1] == rows[1][-1] else 'NO'}")
    sampler = statistics.median(r.sampler_cpu for done in runs.values() for r in done)
    print(f"the memory and CPU sampler's own CPU per run (median): {sampler:.2f} s")
    print(f"load average before / after: {LOAD_BEFORE} / {os.getloadavg()[0]:.1f}")


def rate(work: Path, args) -> None:
    corpus = work / "xwlb.jsonl"
    size = build_corpus(corpus, None, args.stories) if not corpus.exists() else corpus.stat().st_size
    seconds, peak, _ = median_runs(args.reps, corpus, work / "out-rate.jsonl")
    print(f"\n### clean end to end over the xwlb stories, default -j ({os.cpu_count()} cores)\n")
    row = [f"{size / 1e6:.1f}", f"{seconds:.2f}", f"{size / 1e6 / seconds:.1f}", f"{peak / 1e6:.0f}"]
    print(table(["input MB", "seconds", "MB/s", "peak MB"], [row]))
    print("\n(bar: 30 MB/s)")


def dask(work: Path, args) -> None:
    """Local engine against Dask over the xwlb stories split in files (partitions): clean, the dedups."""
    corpus = work / "xwlb-files"
    if not corpus.exists():
        split_corpus(work / "xwlb.jsonl", corpus, args.dask_files, args.stories)
    size = sum(path.stat().st_size for path in corpus.iterdir())
    for chain in (("clean",), ("dedup-paragraphs", "--across-docs", "dedup-articles")):
        rows, digests = [], {}
        for engine in ("local", "dask"):
            out, rejects = work / f"out-{engine}.jsonl", work / f"rejects-{engine}.jsonl"
            options = ("--engine", engine, "-j", str(args.jobs), "--rejects", str(rejects))
            seconds, peak, digest = median_runs(args.reps, corpus, out, *options, chain=chain)
            digests[engine] = (digest, hashlib.sha256(rejects.read_bytes()).hexdigest()[:12])
            rows.append(
                [engine, f"{seconds:.2f}", f"{size / 1e6 / seconds:.1f}", f"{peak / 1e6:.0f}", digest]
            )
        print(
            f"\n### {' '.join(chain)} over the xwlb stories in {args.dask_files} files: local engine against"
            f" Dask LocalCluster ({args.jobs} workers, distributed dedup), median of {args.reps} runs\n"
        )
        print(table(["engine", "seconds", "MB/s", "peak MB", "output sha256"], rows))
        same = "yes" if digests["local"] == digests["dask"] else "NO"
        print(f"\nidentical output: {same} (output and rejects)")


def split_corpus(whole: Path, directory: Path, files: int, stories: int | None) -> None:
    """The xwlb stories in ``files`` JSONL files of consecutive stories (Dask partitions)."""
    if not whole.exists():
        build_corpus(whole, None, stories)
    lines = whole.read_bytes().splitlines(keepends=True)
    directory.mkdir()
    size = -(-len(lines) // files)
    for number in range(files):
        (directory / f"part{number:03d}.jsonl").write_bytes(
            b"".join(lines[number * size : (number + 1) * size])
        )


def dedup(work: Path, args) -> None:
    """dedup-articles alone, -j 1 against -j 2: its hashing runs on the workers with -j 2."""
    corpus = work / "xwlb.jsonl"
    if not corpus.exists():
        build_corpus(corpus, None, args.stories)
    size = corpus.stat().st_size
    rows, results, digests = [], {}, {}
    for jobs in ("1", "2"):
        out = work / f"out-dedup-j{jobs}.jsonl"
        seconds, peak, digest = median_runs(args.reps, corpus, out, "-j", jobs, chain=("dedup-articles",))
        results[jobs], digests[jobs] = seconds, digest
        rows.append(
            [f"-j {jobs}", f"{seconds:.2f}", f"{size / 1e6 / seconds:.1f}", f"{peak / 1e6:.0f}", digest]
        )
    print(
        f"\n### dedup-articles alone, -j 1 against -j 2 ({size / 1e6:.0f} MB, median of {args.reps} runs)\n"
    )
    print(table(["run", "seconds", "MB/s", "peak MB", "output sha256"], rows))
    same = "yes" if digests["1"] == digests["2"] else "NO"
    print(f"\nspeed-up -j 2 / -j 1: **{results['1'] / results['2']:.2f}x**; identical output: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="speedup,rate,dask")
    parser.add_argument("--size-mb", type=float, default=200.0, help="corpus size for the speed-up")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--stories", type=int, default=None, help="use only the first N xwlb stories")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="workers for the Dask part")
    parser.add_argument(
        "--dask-files", type=int, default=4, help="input files (partitions) for the Dask part"
    )
    args = parser.parse_args()
    if not XWLB.exists():
        raise SystemExit(f"{XWLB} is missing: this benchmark needs ../shared/data")
    with tempfile.TemporaryDirectory(prefix="vocclean-scale-") as tmp:
        work = Path(tmp)
        for part in args.parts.split(","):
            {"speedup": speedup, "rate": rate, "dask": dask, "dedup": dedup}[part.strip()](work, args)


if __name__ == "__main__":
    main()
