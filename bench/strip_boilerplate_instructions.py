"""strip-boilerplate's cost in instructions per document, counted by callgrind: the steady figure.

    .venv/bin/python bench/strip_boilerplate_instructions.py                 # 2,000 xwlb stories, etc.
    .venv/bin/python bench/strip_boilerplate_instructions.py --stories 500
    .venv/bin/python bench/strip_boilerplate_instructions.py --phases --corpus "xwlb stories"

Wall-clock runs on this shared 2-core machine differ by up to 30% back to
back, more than most changes to the matcher; instruction counts do not.
For each corpus of ``bench/strip_boilerplate.py`` (the same samples: xwlb
stories, tw_news articles, the labelled set), the step runs under
``valgrind --tool=callgrind`` twice in fresh processes: once with two fresh
steps built and nothing cleaned, once with both steps cleaning the corpus.
The difference, over twice the number of documents, is what cleaning costs
per document, without start-up, rule loading, regex compilation (one step of
the same configuration cleans the corpus once, untimed, before both) or the learning pass. Two
configurations: the rules alone (the step in a pipe, what the throughput
benchmark times) and with lines learned from the same corpus (what ``clean``
runs on files). ``--phases`` also counts the step's parts (rules alone),
each as what it adds to the parts before it, in the order ``strip`` runs
them. Needs ``valgrind`` (Debian: ``apt-get install valgrind``);
about a minute per corpus and configuration at the default size.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import strip_boilerplate as throughput_bench  # also puts the repository on sys.path

from vocclean.record import Record
from vocclean.steps.strip_boilerplate import StripBoilerplate
from vocclean.text.boilerplate import BoilerplateMatcher

CONFIGURATIONS = {"rules": "rules alone", "learned": "with learned lines"}
# With --phases, rules alone, cumulative: each part runs what the one before ran, and more.
PHASES = {
    "lines": "split and strip the lines",
    "scan": "+ the literal scan",
    "anywhere": "+ strong and cut rules",
    "find": "+ head and tail zones, lead-ins (find)",
    "strip": "+ remove",
    "rules": "+ annotations and stats (the step)",
}
CORPORA = ("xwlb stories", "tw_news articles", "labelled set (mixed)")
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=2000, help="xwlb stories counted")
    parser.add_argument("--labelled-stories", type=int, default=1000, help="xwlb stories in the labelled set")
    parser.add_argument(
        "--corpus", action="append", choices=CORPORA, help="count this corpus only (repeatable; default: all)"
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--shared", type=Path, default=throughput_bench.SHARED, help="../shared/data")
    parser.add_argument("--valgrind", default="valgrind", help="the valgrind executable")
    parser.add_argument(
        "--phases", action="store_true", help="also count the step's parts, cumulatively (rules alone)"
    )
    parser.add_argument(
        "--clean", nargs=3, metavar=("CORPORA", "CORPUS", "CONFIGURATION"), help=argparse.SUPPRESS
    )
    parser.add_argument("--runs", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clean:
        clean(Path(args.clean[0]), args.clean[1], args.clean[2], args.runs)
        return
    if shutil.which(args.valgrind) is None:
        sys.exit(
            f"{args.valgrind} not found: this benchmark counts instructions with callgrind "
            "(apt-get install valgrind)"
        )
    if not args.shared.is_dir():
        sys.exit(f"{args.shared} is absent: the benchmark needs the shared evaluation data")
    sampled = throughput_bench.corpora(
        argparse.Namespace(
            seed=args.seed, shared=args.shared, stories=args.labelled_stories, throughput_stories=args.stories
        )
    )
    sampled = {name: texts for name, texts in sampled.items() if name in (args.corpus or CORPORA)}
    print(f"## strip-boilerplate, instructions per document (callgrind; {sys.version.split()[0]})\n")
    print("| corpus | documents | KB per document | " + " | ".join(CONFIGURATIONS.values()) + " |")
    print("|---|---|---|" + "---|" * len(CONFIGURATIONS))
    with tempfile.TemporaryDirectory(prefix="vocclean-instructions-") as folder:
        path = Path(folder) / "corpora.pickle"
        path.write_bytes(pickle.dumps(sampled))
        counted: dict[str, dict[str, float]] = {}
        for name, texts in sampled.items():
            counted[name] = {
                part: count(args.valgrind, path, name, part) / len(texts) for part in CONFIGURATIONS
            }
            size = sum(len(text.encode("utf-8")) for text in texts) / len(texts) / 1000
            cells = " | ".join(f"{counted[name][part]:,.0f}" for part in CONFIGURATIONS)
            print(f"| {name} | {len(texts)} | {size:.2f} | {cells} |")
        if args.phases:
            phases(args.valgrind, path, sampled, counted)
    print()


def phases(
    valgrind: str, path: Path, sampled: dict[str, list[str]], counted: dict[str, dict[str, float]]
) -> None:
    """Where a step's instructions go: each part counted as the difference from the one before
    (the whole step, the last part, is the rules-alone count already made)."""
    for name, texts in sampled.items():
        for part in PHASES:
            if part not in counted[name]:
                counted[name][part] = count(valgrind, path, name, part) / len(texts)
    print("\n## Where they go (rules alone; each part: its row minus the row before)\n")
    print("| part | " + " | ".join(sampled) + " |")
    print("|---|" + "---|" * len(sampled))
    for number, (part, label) in enumerate(PHASES.items()):
        previous = list(PHASES)[number - 1] if number else None
        cells = [
            f"{row[part] - (row[previous] if previous else 0):,.0f}"
            for row in (counted[name] for name in sampled)
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")


def count(valgrind: str, corpora: Path, name: str, configuration: str) -> float:
    """Instructions of one cleaning of the corpus: (two cleanings - none) / 2."""
    totals = []
    for runs in (0, 2):
        command = [
            valgrind,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--clean",
            str(corpora),
            name,
            configuration,
            "--runs",
            str(runs),
        ]
        # No disk cache (vocclean.table_cache, vocclean.regex_cache): the first process would compile
        # and write the patterns that the second reads, and the difference would not be the cleaning.
        env = {**os.environ, "VOCCLEAN_CACHE_DIR": "off"}
        result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        found = _COLLECTED.search(result.stderr)
        if result.returncode != 0 or found is None:
            sys.exit(f"callgrind run failed ({' '.join(command)}):\n{result.stderr[-2000:]}")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / 2


def clean(corpora: Path, name: str, configuration: str, runs: int) -> None:
    """Inside callgrind: build two steps (and learn), then clean the corpus with ``runs`` of them."""
    texts = pickle.loads(corpora.read_bytes())[name]
    learn = configuration == "learned"

    def fitted() -> StripBoilerplate:
        step = StripBoilerplate(learn=learn)
        if learn:
            step.fit(lambda: (Record(id=str(n), text=text) for n, text in enumerate(texts)))
        return step

    # Compiles the regexes the corpus's first characters need, in every process: in the counted
    # configuration (with learned lines every line is tried, so more first characters are reached).
    warm = fitted()
    for text in texts:
        warm.process(Record(id="warm", text=text))
    steps = [fitted() for _ in range(2)]
    # Made in every process, counted or not: in a run the reader makes them, not the step.
    records = [[Record(id=str(number), text=text) for number, text in enumerate(texts)] for _ in steps]
    for step, run_records in zip(steps[:runs], records, strict=False):
        if configuration in ("rules", "learned"):
            for record in run_records:
                step.process(record)
        else:
            run_part(step.matcher, texts, configuration)


def run_part(matcher: BoilerplateMatcher, texts: list[str], part: str) -> None:
    """The first parts of ``BoilerplateMatcher.strip`` (its private steps, in its order), on each text."""
    for text in texts:
        if part == "find":
            matcher.find(text)
            continue
        if part == "strip":
            matcher.strip(text)
            continue
        lines = text.split("\n")
        stripped = [line.strip() for line in lines]
        nonempty = [i for i, line in enumerate(stripped) if line]
        if part == "lines" or not nonempty:
            continue
        by_line = matcher._index.rules_by_line(text, lines)
        if part == "anywhere":
            matcher._anywhere(lines, stripped, nonempty, by_line, {}, None)


if __name__ == "__main__":
    main()
