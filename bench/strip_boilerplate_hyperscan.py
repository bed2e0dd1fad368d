"""Would a compiled multi-pattern engine (Hyperscan) make strip-boilerplate's search cheaper?

    .venv/bin/python bench/strip_boilerplate_hyperscan.py                  # defaults below
    .venv/bin/python bench/strip_boilerplate_hyperscan.py --throughput-stories 500 --reps 3

The matcher spends most of a document outside ``re``: Python steps around
many small regex calls (see bench/LOG.md, strip-boilerplate). One scan
of the whole document that tells which rules may match which lines would
remove them. Hyperscan (``hyperscan`` on PyPI, installed only in the
benchmark environment) scans many patterns in one pass, so this measures,
on the throughput benchmark's samples and in the same run as the matcher:

- ``find``: the matcher's search (``BoilerplateMatcher.find``), the baseline;
- the matcher's literal scan (``LiteralIndex.rules_by_line``): the one part
  a scan of literals would replace;
- Hyperscan over the same literals (UTF-8, caseless, one report per literal
  and document), encoding included;
- Hyperscan over every rule's pattern, as a pre-filter that may report more
  lines than match, never fewer: anchors dropped, bounded repeats made
  unbounded (Hyperscan's compile time and size explode on ``[^。]{0,30}``
  in UTF-8), ``.*$`` appended so that a rule reports a line once, compiled
  with ``HS_FLAG_PREFILTER``; encoding included.

Each is timed as CPU seconds per document, median of ``--reps`` runs, with
its compile time and reports per document. Not a vocclean dependency: if a
figure here ever beats the matcher, the README says what would have to
change before it could become one.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable

import strip_boilerplate as throughput_bench  # also puts the repository on sys.path

from vocclean.steps.strip_boilerplate import StripBoilerplate
from vocclean.text.boilerplate_rules import Rule

try:
    import hyperscan
except ImportError:  # the benchmark environment has it (bench/requirements.txt)
    hyperscan = None

_BOUNDED = re.compile(r"\{(\d+),\d+\}\??")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    throughput_bench.add_sample_options(parser)
    args = parser.parse_args()
    if hyperscan is None:
        sys.exit("hyperscan is not installed: pip install -r bench/requirements.txt")
    if not args.shared.is_dir():
        sys.exit(f"{args.shared} is absent: the benchmark needs the shared evaluation data")
    matcher = StripBoilerplate().matcher
    literal_rules = matcher._index.rules
    literals = sorted({literal for rule in literal_rules for literal in rule.literals})
    databases = {
        "Hyperscan, the literals": compiled(
            [re.escape(literal) for literal in literals], [_LITERAL_FLAGS] * len(literals)
        ),
        "Hyperscan, every pattern (pre-filter)": compiled(*widened(matcher.rules)),
    }
    print(
        f"## Hyperscan {hyperscan.__version__} against the matcher, CPU µs per document "
        f"(median of {args.reps}; {len(matcher.rules)} rules, {len(literals)} literals)\n"
    )
    print("| corpus | run | compile s | µs per document | reports per document | × find |")
    print("|---|---|---|---|---|---|")
    for name, texts in throughput_bench.corpora(args).items():
        runs: dict[str, tuple[float, Callable[[], int]]] = {
            "matcher: find": (0.0, lambda texts=texts: _each(matcher.find, texts)),
            "matcher: literal scan": (0.0, lambda texts=texts: _each(matcher._index.rules_by_line, texts)),
        }
        for label, (seconds, database) in databases.items():
            runs[label] = (seconds, lambda texts=texts, database=database: _scan(database, texts))
        baseline = None
        for label, (seconds, run) in runs.items():
            _wall, cpu = throughput_bench.timed(lambda run=run: run, args.reps)
            reports = run()
            per_document = cpu / len(texts) * 1e6
            baseline = baseline or per_document
            shown = f"{reports / len(texts):.2f}" if label.startswith("Hyperscan") else ""
            compile_time = f"{seconds:.3f}" if seconds else ""
            print(
                f"| {name} | {label} | {compile_time} | {per_document:.2f} | {shown} | "
                f"{per_document / baseline:.2f} |"
            )
    print()


_LITERAL_FLAGS = 0
if hyperscan is not None:
    _LITERAL_FLAGS = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH


def widened(rules: list[Rule]) -> tuple[list[str], list[int]]:
    """Each rule's pattern as a Hyperscan pre-filter that reports a matching line once."""
    patterns, flags = [], []
    for rule in rules:
        pattern = rule.pattern.removeprefix("^")
        if pattern.endswith("$") and not pattern.endswith("\\$"):
            pattern = pattern[:-1]
        pattern = _BOUNDED.sub(lambda m: "*" if m.group(1) == "0" else "+", pattern)
        patterns.append(f"(?:{pattern}).*$")
        flag = (
            hyperscan.HS_FLAG_UTF8
            | hyperscan.HS_FLAG_UCP
            | hyperscan.HS_FLAG_MULTILINE
            | hyperscan.HS_FLAG_PREFILTER
            | hyperscan.HS_FLAG_ALLOWEMPTY
        )
        if rule.regex.flags & re.IGNORECASE:
            flag |= hyperscan.HS_FLAG_CASELESS
        flags.append(flag)
    return patterns, flags


def compiled(patterns: list[str], flags: list[int]) -> tuple[float, object]:
    """(compile seconds, database) of ``patterns`` in block mode."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    start = time.perf_counter()
    database.compile(
        expressions=[pattern.encode("utf-8") for pattern in patterns],
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=flags,
    )
    return time.perf_counter() - start, database


def _each(function: Callable[[str], object], texts: list[str]) -> int:
    for text in texts:
        function(text)
    return 0


def _scan(database: object, texts: list[str]) -> int:
    """Scan every text (encoded to UTF-8); how many reports came back."""
    reports = []

    def report(pattern: int, start: int, end: int, flags: int, context: object) -> None:
        reports.append((pattern, end))

    for text in texts:
        database.scan(text.encode("utf-8"), match_event_handler=report)  # type: ignore[attr-defined]
    return len(reports)


if __name__ == "__main__":
    main()
