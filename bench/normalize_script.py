"""Throughput of normalize-script on a mostly-Simplified corpus, against opencc alone.

The corpus is xwlb stories (Simplified, CCTV) with a share of tw_news
articles (Traditional, Taiwan) mixed in, shuffled. Measured, each as the
median of --reps runs on one core:

- opencc t2s alone on every article (the baseline: what a tool that converts
  everything blindly would cost, with no detection and no punctuation);
- the normalize-script step with its defaults (detect every article, convert
  the Traditional ones with t2s, run the punctuation rules);
- its parts: script detection alone, punctuation rules alone.

MB are UTF-8 bytes of the input texts. Speeds are in CPU time of this
process (one core); the wall-clock median is printed too. Without ../shared/data the corpus is
the five seed articles repeated (a smoke run, not a measurement).

Usage: .venv/bin/python bench/normalize_script.py [--docs 19876] [--traditional-share 0.1] [--reps 5]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vocclean.record import Record  # noqa: E402
from vocclean.steps.normalize_script import NormalizeScript  # noqa: E402
from vocclean.text.punctuation import PunctuationRules  # noqa: E402
from vocclean.text.script import ScriptDetector, make_converter  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SEEDS = REPO / "fixtures" / "seeds"


def load_corpus(docs: int, traditional_share: float, seed: int) -> tuple[list[str], str]:
    """Texts to run on, and a one-line description of them."""
    stories = DATA / "xwlb_cctv_news_zh" / "stories.jsonl.gz"
    if not stories.exists():
        texts = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
        return (texts * (docs // len(texts) + 1))[:docs], "the five seeds repeated (no ../shared/data)"
    simplified = []
    with gzip.open(stories, "rt", encoding="utf-8") as handle:
        for line in handle:
            simplified.append(json.loads(line)["text"])
            if len(simplified) == docs:
                break
    csv.field_size_limit(1 << 30)
    traditional = []
    for path in sorted((DATA / "tw_news_covid_zh_hant").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            traditional.extend(row["CONTENT"] for row in csv.DictReader(handle) if row["CONTENT"])
    # Add Traditional articles until they are the requested share of the bytes.
    simplified_bytes = sum(len(text.encode("utf-8")) for text in simplified)
    wanted = simplified_bytes * traditional_share / (1 - traditional_share)
    rng = random.Random(seed)
    mixed_in, added = [], 0
    while added < wanted:
        text = rng.choice(traditional)
        mixed_in.append(text)
        added += len(text.encode("utf-8"))
    texts = simplified + mixed_in
    rng.shuffle(texts)
    share = added / (simplified_bytes + added)
    description = (
        f"{len(simplified)} xwlb stories (Simplified) + {len(mixed_in)} tw_news articles "
        f"(Traditional, {share:.0%} of bytes)"
    )
    return texts, description


def measure(
    run: Callable[[], None], megabytes: float, reps: int, setup: Callable[[], None] | None = None
) -> tuple[float, float, float, float]:
    """Median and range of MB/s over ``reps`` runs in CPU time, and the median in wall time.

    CPU time (``time.process_time``) is what one core spends on the work; on
    a shared machine wall time also counts the waits for a core.
    """
    cpu, wall = [], []
    for _ in range(reps):
        if setup is not None:
            setup()
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        run()
        cpu.append(megabytes / (time.process_time() - start_cpu))
        wall.append(megabytes / (time.perf_counter() - start_wall))
    return statistics.median(cpu), min(cpu), max(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=19_876, help="xwlb stories to use (default: all)")
    parser.add_argument("--traditional-share", type=float, default=0.1, help="share of bytes (default 0.1)")
    parser.add_argument("--reps", type=int, default=5, help="runs per measurement (median reported)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.reps < 1 or args.docs < 1 or not 0 <= args.traditional_share < 1:
        parser.error("--reps and --docs must be positive, --traditional-share in [0, 1)")

    texts, description = load_corpus(args.docs, args.traditional_share, args.seed)
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6

    converter = make_converter("t2s")
    step = NormalizeScript()
    detector = ScriptDetector()
    rules = PunctuationRules()

    def opencc_alone() -> None:
        convert = converter.convert
        for text in texts:
            convert(text)

    records: list[Record] = []

    def fresh_records() -> None:  # the step rewrites record.text: every run starts anew
        records[:] = [Record(id=str(i), text=text) for i, text in enumerate(texts)]

    def whole_step() -> None:
        process = step.process
        for record in records:
            process(record)

    def detection() -> None:
        detect = detector.detect
        for text in texts:
            detect(text)

    def punctuation() -> None:
        normalize = rules.normalize
        for text in texts:
            normalize(text)

    rows = [
        ("opencc t2s alone (baseline)", opencc_alone, None),
        ("normalize-script, defaults (detect + convert + punctuation)", whole_step, fresh_records),
        ("script detection alone", detection, None),
        ("punctuation rules alone", punctuation, None),
    ]
    results = [(name, measure(run, megabytes, args.reps, setup)) for name, run, setup in rows]
    baseline = results[0][1][0]

    print(f"Corpus: {description}; {megabytes:.1f} MB, {len(texts)} articles; median of {args.reps} runs.")
    print("(normalize-script runs on Records built before each timed run; the others on plain strings.)")
    print()
    print("| what | MB/s, CPU time (median) | min–max | vs opencc alone | MB/s, wall clock (median) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (median, low, high, wall) in results:
        print(f"| {name} | {median:.1f} | {low:.1f}–{high:.1f} | {median / baseline:.2f}× | {wall:.1f} |")
    scripts = {key.split("/", 1)[1]: count for key, count in step.stats.items() if key.startswith("script/")}
    print()
    print(f"Scripts detected (all runs): {scripts}")


if __name__ == "__main__":
    main()
