"""Throughput of `vocclean check`, against a cleaning run of the same steps and a read-only pass.

    .venv/bin/python bench/check.py                       # 2,000 stories, 5 runs, one worker
    .venv/bin/python bench/check.py --stories 5000 --reps 5 --jobs 2

The corpus is the first ``--stories`` CCTV stories of ``../shared/data/
xwlb_cctv_news_zh`` (JSONL, Simplified Chinese news with its lead boilerplate
and recurring segments) followed by the five seeds; without the shared data
the seeds are repeated with small edits instead (say so in the table).

Three ways through the same file, each the median of ``--reps`` runs with
fresh step objects, built before the clock starts (every run reads the file
again):

- read: the reader and UTF-8 decoding only, output thrown away (the floor);
- clean: the five steps, output written to a file (what `vocclean clean` does);
- check: the five steps as detectors, findings counted, nothing written.

Prints a markdown table of seconds, MB/s, records/s and each row's time
relative to clean.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vocclean.check import check_corpus  # noqa: E402
from vocclean.runner import RunOptions, run  # noqa: E402
from vocclean.steps.clean import clean_steps  # noqa: E402

XWLB = REPO.parent / "shared" / "data" / "xwlb_cctv_news_zh" / "stories.jsonl.gz"
SEEDS = REPO / "fixtures" / "seeds"


def build_corpus(path: Path, stories: int) -> str:
    seeds = [{"id": p.name, "text": p.read_text(encoding="utf-8")} for p in sorted(SEEDS.iterdir())]
    records = []
    if XWLB.exists():
        source = f"first {stories:,} xwlb stories + 5 seeds"
        with gzip.open(XWLB, "rt", encoding="utf-8") as handle:
            for line in handle:
                if len(records) >= stories:
                    break
                story = json.loads(line)
                records.append({"id": story["id"], "title": story["title"], "text": story["text"]})
    else:
        source = f"{stories:,} edited copies of the seeds (no shared data)"
        records = [
            {"id": f"{n}", "text": seeds[n % len(seeds)]["text"].replace("。", f"。{n}", 1)}
            for n in range(stories)
        ]
    with open(path, "w", encoding="utf-8") as handle:
        for record in [*records, *seeds]:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return source


def median_seconds(action: Callable[[list], object], reps: int) -> float:
    """Median time of ``action(steps)``; the steps are built before the clock starts (each run
    gets fresh ones: dedup and learned boilerplate keep state)."""
    times = []
    for _ in range(reps):
        steps = clean_steps()
        start = time.perf_counter()
        action(steps)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=2000, help="stories in the corpus (default 2000)")
    parser.add_argument("--reps", type=int, default=5, help="runs per row; the median is shown (default 5)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, as -j (default 1)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        source = build_corpus(corpus, args.stories)
        megabytes = corpus.stat().st_size / 1e6
        records = sum(1 for _ in open(corpus, "rb"))
        options = RunOptions(inputs=(str(corpus),), output=os.devnull, jobs=args.jobs, progress=False)
        written = RunOptions(inputs=(str(corpus),), output=str(Path(tmp) / "out.jsonl"), jobs=args.jobs)
        findings = []

        def check(steps: list) -> None:
            result = check_corpus(steps, options)
            findings.append(sum(count.findings for count in result.kinds.values()))

        rows = [
            ("read (reader + UTF-8 decode, no step)", median_seconds(lambda _: run([], options), args.reps)),
            ("clean (5 steps, output written)", median_seconds(lambda steps: run(steps, written), args.reps)),
            ("check (5 steps as detectors)", median_seconds(check, args.reps)),
        ]

    clean_seconds = rows[1][1]
    print(f"Corpus: {source}, {records:,} records, {megabytes:.1f} MB.")
    print(f"-j {args.jobs}, median of {args.reps} runs; check found {findings[-1]:,} findings.\n")
    print("| run | seconds | MB/s | records/s | time / clean |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, seconds in rows:
        print(
            f"| {name} | {seconds:.2f} | {megabytes / seconds:.2f} | {records / seconds:,.0f} "
            f"| {seconds / clean_seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
