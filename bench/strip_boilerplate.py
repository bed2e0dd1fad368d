"""Benchmark and accuracy evaluation of strip-boilerplate.

    .venv/bin/python bench/strip_boilerplate.py                      # both parts, defaults below
    .venv/bin/python bench/strip_boilerplate.py --stories 2000 --reps 7
    .venv/bin/python bench/strip_boilerplate.py --part eval          # accuracy only

Two parts, each printing markdown tables:

1. Accuracy on the labelled set of ``bench/strip_boilerplate_evalset.py``
   (xwlb stories and tw_news articles with their real boilerplate labelled
   by the sites' known templates, plus added boilerplate of every kind at
   realistic positions; see that module). Line-level precision and recall of
   removed lines, per pool (real, seen, variants, held-out) and per kind, and
   how many expected lead-ins were stripped exactly. Two configurations:
   the rules alone (the step in a pipe) and rules plus lines learned from the
   same corpus in a counting pass (what ``clean`` does on file input).
2. Throughput, MB of UTF-8 text per second on one core, median of ``--reps``
   runs (wall clock, and CPU time of this process, which the other jobs on
   a shared machine disturb less), of the matcher and of the whole step,
   against the same rules without the pre-filters (every rule tried on every
   line its position allows: the same output), and against splitting and
   joining the lines (the floor of any line-based step).
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
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import strip_boilerplate_evalset as evalset  # noqa: E402

from vocclean.record import Record  # noqa: E402
from vocclean.runner import fewer_collections  # noqa: E402
from vocclean.steps.strip_boilerplate import StripBoilerplate  # noqa: E402
from vocclean.text.boilerplate import BoilerplateMatcher, remove  # noqa: E402
from vocclean.text.boilerplate_rules import builtin_pack_paths, load_packs  # noqa: E402
from vocclean.text.learned_boilerplate import LearnedLines, LineCounter  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
POOLS = ("real", "seen", "variants", "held-out")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=("eval", "throughput", "both"), default="both")
    add_sample_options(parser)
    args = parser.parse_args()
    if not args.shared.is_dir():
        sys.exit(f"{args.shared} is absent: the benchmark needs the shared evaluation data")
    rules = load_packs(builtin_pack_paths())
    if args.part in ("eval", "both"):
        evaluate(args, rules)
    if args.part in ("throughput", "both"):
        throughput(args, rules)


def add_sample_options(parser: argparse.ArgumentParser) -> None:
    """The samples (``corpora``) and the number of timed runs: the same options in every benchmark
    that times the matcher on these samples."""
    parser.add_argument("--stories", type=int, default=1000, help="xwlb stories in the labelled set")
    parser.add_argument("--throughput-stories", type=int, default=5000, help="xwlb stories timed")
    parser.add_argument("--reps", type=int, default=5, help="timed runs (the median is reported)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared/data")


# --- accuracy -------------------------------------------------------------------


def learned_from(documents: list[evalset.Document]) -> LearnedLines:
    counter = LineCounter()
    for document in documents:
        counter.add(document.text)
    return counter.model()


def evaluate(args: argparse.Namespace, rules: list) -> None:
    documents = evalset.build(args.shared, stories=args.stories, seed=args.seed)
    matcher = BoilerplateMatcher(rules)
    learned = learned_from(documents)
    scores = {
        "rules (pipe default)": evalset.score(documents, matcher.find),
        "rules + learned (clean on files)": evalset.score(
            documents, lambda text: matcher.find(text, learned)
        ),
    }
    lines = sum(1 for d in documents for line in d.lines if line.text.strip())
    boilerplate = sum(1 for d in documents for line in d.lines if line.text.strip() and line.label != "body")
    print(
        f"## Labelled set: {len(documents)} documents, {lines} non-empty lines, {boilerplate} boilerplate\n"
    )
    print(
        "| configuration | precision | recall | F1 | false pos. | missed | "
        + " | ".join(f"recall {pool}" for pool in POOLS)
        + " | lead-ins stripped exactly |"
    )
    print("|---" * (7 + len(POOLS)) + "|")
    for name, score in scores.items():
        f1 = 2 * score.precision * score.recall / (score.precision + score.recall)
        pools = " | ".join(f"{score.recall_of(pool)[0]:.3f} ({score.recall_of(pool)[1]})" for pool in POOLS)
        print(
            f"| {name} | {score.precision:.4f} | {score.recall:.4f} | {f1:.4f} | {score.fp} | {score.fn} | "
            f"{pools} | {score.prefixes_exact}/{score.prefixes_expected} (wrong {score.prefixes_wrong}) |"
        )
    print("\n## Recall by kind (rules alone; in brackets: held-out lines only)\n")
    print("| kind | lines | recall | held-out recall |")
    print("|---|---|---|---|")
    rules_only = scores["rules (pipe default)"]
    for kind in sorted({kind for kind, _pool, _hit in rules_only.by_kind}):
        recall, total = rules_only.recall_of(kind=kind)
        held, held_total = rules_only.recall_of("held-out", kind)
        print(f"| {kind} | {total} | {recall:.3f} | {held:.3f} ({held_total}) |")
    for name, score in scores.items():
        if score.false_positives:
            print(f"\nFalse positives ({name}), most frequent first:\n")
            for (rule, line), count in Counter((r, t[:60]) for _s, r, t in score.false_positives).most_common(
                10
            ):
                print(f"- {count} x `{rule}`: {line}")
    print()


# --- throughput -----------------------------------------------------------------


def corpora(args: argparse.Namespace) -> dict[str, list[str]]:
    rng = random.Random(args.seed)
    with gzip.open(args.shared / "xwlb_cctv_news_zh" / "stories.jsonl.gz", "rt", encoding="utf-8") as handle:
        stories = [json.loads(line)["text"] for line in handle]
    tw = []
    for path in sorted((args.shared / "tw_news_covid_zh_hant").glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            tw += [row["CONTENT"] for row in csv.DictReader(handle) if row["CONTENT"].strip()]
    labelled = [d.text for d in evalset.build(args.shared, stories=min(args.stories, 1000), seed=args.seed)]
    return {
        "xwlb stories": rng.sample(stories, min(args.throughput_stories, len(stories))),
        "tw_news articles": tw,
        "labelled set (mixed)": labelled,
    }


def timed(prepare: Callable[[], Callable[[], object]], reps: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``reps`` runs, each of a fresh ``prepare()`` (not timed):
    what a matcher remembers of one run (its answers for short lines) does not help the next.

    One untimed run comes first: the regexes a line's first character needs are compiled when
    a line first starts with it, once per process (every matcher with the same rules shares
    them), a cost of the start of a process, not of each megabyte."""
    prepare()()
    walls, cpus = [], []
    for _ in range(reps):
        function = prepare()
        with fewer_collections():  # the garbage collector as a run sets it (vocclean.runner)
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def throughput(args: argparse.Namespace, rules: list) -> None:
    def clean(matcher: BoilerplateMatcher, texts: list[str]) -> None:
        for text in texts:
            removals = matcher.find(text)
            if removals:
                remove(text, removals)

    def run_step(step: StripBoilerplate, records: list[Record]) -> None:
        for record in records:
            step.process(record)

    def floor(texts: list[str]) -> None:
        for text in texts:
            lines = text.split("\n")
            stripped = [line.strip() for line in lines]
            "\n".join(line for line, kept in zip(lines, stripped, strict=True) if kept)

    def matcher_run(texts: list[str], prefilter: bool) -> Callable[[], Callable[[], object]]:
        def prepare() -> Callable[[], object]:
            matcher = BoilerplateMatcher(rules, prefilter=prefilter)
            return lambda: clean(matcher, texts)

        return prepare

    def step_run(texts: list[str]) -> Callable[[], Callable[[], object]]:
        def prepare() -> Callable[[], object]:
            step = StripBoilerplate()
            # Records are made before the clock starts: in a run the reader makes them.
            records = [Record(id=str(number), text=text) for number, text in enumerate(texts)]
            return lambda: run_step(step, records)

        return prepare

    print(f"## Throughput, one core, median of {args.reps} runs ({len(rules)} built-in rules)\n")
    print("| corpus | MB | run | MB/s wall | MB/s CPU | x reference (CPU) |")
    print("|---|---|---|---|---|---|")
    for name, texts in corpora(args).items():
        megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
        runs = {
            "split, strip, join (floor)": lambda texts=texts: lambda: floor(texts),
            "reference: every rule on every line": matcher_run(texts, prefilter=False),
            "matcher (find + remove)": matcher_run(texts, prefilter=True),
            "step (with annotations, stats)": step_run(texts),
        }
        results = {label: timed(run, args.reps) for label, run in runs.items()}
        reference_cpu = results["reference: every rule on every line"][1]
        for label, (wall, cpu) in results.items():
            print(
                f"| {name} | {megabytes:.1f} | {label} | {megabytes / wall:.1f} | {megabytes / cpu:.1f} | "
                f"{reference_cpu / cpu:.2f} |"
            )
    print()


if __name__ == "__main__":
    main()
