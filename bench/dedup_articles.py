"""dedup-articles throughput against datasketch, and index memory for many documents.

Throughput (the default): on xwlb stories (headline + body), in one run,

- ``step``: DedupArticles over records in memory, end to end (shingles,
  MinHash, LSH, exact verification, clusters, annotations), without the
  one-time start-up (the fold table, measured on its own);
- ``cli``: the whole command, JSONL file in, JSONL file out, start-up included;
- ``datasketch``: MinHash + MinHashLSH with the same shingles (the same folded
  units, joined 5 at a time, computed with str.translate and a regex) and the
  same parameters (128 permutations, the step's bands and rows: 25 of 5 at
  the default threshold), query then insert per document, no verification.

MB/s counts UTF-8 bytes of article text. Each figure is the median of
``--reps`` runs; the ratio is taken between medians of the same run. Wall
time and this process's CPU time are both shown: on a shared machine the
CPU time is what one core spent, the wall time also counts waiting for it.

Memory (``--memory-docs N``): N synthetic distinct documents (3 random xwlb
sentences each, about 150 characters) streamed through the index; prints the
peak RSS of the process, the RSS before indexing, and the index's own bytes.

Usage:
  .venv/bin/python bench/dedup_articles.py [--stories 19876] [--reps 5] [--baseline-stories 5000]
  .venv/bin/python bench/dedup_articles.py --memory-docs 1000000
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson

from vocclean.record import Record
from vocclean.runner import RunOptions, run
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.text.shingles import _SINGLE_RANGES, SEPARATOR, TABLE_SIZE, Shingler

REPO = Path(__file__).resolve().parent.parent
STORIES = REPO.parent / "shared" / "data" / "xwlb_cctv_news_zh" / "stories.jsonl.gz"


def load_texts(limit: int | None) -> list[str]:
    with gzip.open(STORIES) as f:
        stories = [orjson.loads(line) for line in f]
    return [s["title"] + "\n" + s["text"] for s in stories[:limit]]


def mb(texts: list[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


def median_seconds(reps: int, action) -> tuple[float, float]:
    """Medians of wall-clock seconds and of this process's CPU seconds (what one core spent)."""
    wall, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


class PythonShingles:
    """The same shingles as vocclean's, the way a datasketch user would make them in Python."""

    def __init__(self, shingler: Shingler) -> None:
        fold = {}
        for cp in range(TABLE_SIZE):
            if shingler.classes[cp] == SEPARATOR:
                fold[cp] = " "
            elif shingler.folded[cp] != cp:
                fold[cp] = chr(int(shingler.folded[cp]))
        self.fold = str.maketrans(fold)
        singles = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _SINGLE_RANGES)
        self.units = re.compile(f"[{singles}]|[^ {singles}]+")
        self.ngram = shingler.ngram

    def __call__(self, text: str) -> list[bytes]:
        units = self.units.findall(text.translate(self.fold))
        n = self.ngram
        if len(units) < n:
            return [" ".join(units).encode()] if units else []
        return [" ".join(units[i : i + n]).encode() for i in range(len(units) - n + 1)]


def datasketch_run(texts: list[str], shingles: PythonShingles, bands: int, rows: int) -> int:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=bands * rows, params=(bands, rows))
    duplicates = 0
    for i, text in enumerate(texts):
        m = MinHash(num_perm=bands * rows)
        m.update_batch(shingles(text))
        if lsh.query(m):
            duplicates += 1
        lsh.insert(str(i), m)
    return duplicates


def throughput(args: argparse.Namespace) -> None:
    texts = load_texts(args.stories)
    size = mb(texts)
    start = time.perf_counter()
    step = DedupArticles()
    startup = time.perf_counter() - start
    records = [Record(id=str(i), text=t) for i, t in enumerate(texts)]

    def run_step() -> None:
        for record in records:
            record.annotations.clear()
            record.rejection = None
        for _ in step(iter(records)):
            pass

    step_seconds = median_seconds(args.reps, run_step)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_bytes(
            b"".join(orjson.dumps({"id": str(i), "text": t}) + b"\n" for i, t in enumerate(texts))
        )
        options = RunOptions(inputs=(str(path),), output=str(Path(tmp) / "out.jsonl"), jobs=1)
        cli_seconds = median_seconds(args.reps, lambda: run([DedupArticles()], options))

    baseline_texts = texts[: args.baseline_stories]
    baseline_size = mb(baseline_texts)
    shingles = PythonShingles(step.shingler)
    bands, rows = step.params.lsh()
    baseline_seconds = median_seconds(
        args.baseline_reps, lambda: datasketch_run(baseline_texts, shingles, bands, rows)
    )

    print(f"corpus: {len(texts)} xwlb stories, {size:.1f} MB of text; ", end="")
    print(f"datasketch on the first {len(baseline_texts)}")
    print(f"({baseline_size:.1f} MB); medians of {args.reps} runs ({args.baseline_reps} for datasketch); ")
    print(f"DedupArticles start-up (fold table) {startup:.2f} s\n")
    print("| what | wall s | MB/s (wall) | × datasketch | CPU s | MB/s (CPU, one core) | × datasketch |")
    print("|---|---|---|---|---|---|---|")
    base_wall, base_cpu = baseline_size / baseline_seconds[0], baseline_size / baseline_seconds[1]
    rows = (
        ("dedup-articles step, end to end", step_seconds, size),
        ("vocclean CLI, JSONL in and out", cli_seconds, size),
        ("datasketch MinHash + MinHashLSH", baseline_seconds, baseline_size),
    )
    for name, (wall, cpu), megabytes in rows:
        print(
            f"| {name} | {wall:.2f} | {megabytes / wall:.1f} | {megabytes / wall / base_wall:.1f} "
            f"| {cpu:.2f} | {megabytes / cpu:.1f} | {megabytes / cpu / base_cpu:.1f} |"
        )


def synthetic_docs(count: int, seed: int = 11) -> Iterator[str]:
    """Distinct ~150-character documents: three random xwlb sentences each."""
    sentences = [s for t in load_texts(3000) for s in re.split(r"(?<=[。！？])", t) if len(s) >= 20]
    rng = random.Random(seed)
    for n in range(count):
        yield f"{n} " + "".join(rng.sample(sentences, 3))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory(args: argparse.Namespace) -> None:
    step = DedupArticles()
    finder = step.new_finder()
    docs = synthetic_docs(args.memory_docs)
    first = [next(docs) for _ in range(step.batch_size)]
    before = rss_mb()
    start = time.perf_counter()
    batch, n = first, 0
    while batch:
        finder.add([str(n + i) for i in range(len(batch))], batch)
        n += len(batch)
        batch = [d for _, d in zip(range(step.batch_size), docs, strict=False)]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parts = finder.memory_bytes()
    index = sum(parts.values())
    disk = finder.full_sets.disk_bytes + finder.lead_sets.disk_bytes + finder.signature_file.disk_bytes
    finder.close()
    print(
        f"{n} documents indexed in {seconds:.0f} s; {finder.stats['lsh/candidate_pairs']} candidate pairs\n"
    )
    print("| measure | MB | bytes per document |")
    print("|---|---|---|")
    print(f"| peak RSS of the process | {peak:.0f} | {peak * 2**20 / n:.0f} |")
    print(f"| RSS before indexing (interpreter, numpy, tables, one batch) | {before:.0f} | |")
    print(f"| peak RSS - RSS before | {peak - before:.0f} | {(peak - before) * 2**20 / n:.0f} |")
    for name, value in parts.items():
        print(f"| index: {name} | {value / 2**20:.0f} | {value / n:.0f} |")
    print(f"| index total (in memory) | {index / 2**20:.0f} | {index / n:.0f} |")
    print(f"| temporary files on disk (not in RSS) | {disk / 2**20:.0f} | {disk / n:.0f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=None, help="xwlb stories to use (default: all)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--baseline-stories", type=int, default=5000, help="datasketch is slow: a prefix")
    parser.add_argument("--baseline-reps", type=int, default=5)
    parser.add_argument("--memory-docs", type=int, default=0, help="measure memory for N documents instead")
    args = parser.parse_args(argv)
    if not STORIES.exists():
        print(f"{STORIES} is absent: the benchmark needs the shared xwlb data", file=sys.stderr)
        return 2
    np.seterr(all="ignore")
    os.environ.setdefault("PYTHONHASHSEED", "0")
    if args.memory_docs:
        memory(args)
    else:
        throughput(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
