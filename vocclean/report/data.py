"""A cleaning run as one dict: what the JSON report is and what the HTML report draws.

Every number comes from the run's ``RunResult`` (per-step records and each
step's counters) and the ``RunObserver`` (samples, rejection reasons);
``invariants`` re-checks that the counts add up, so a report never shows
numbers that contradict each other without saying so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from itertools import pairwise
from typing import Any

from vocclean import __version__
from vocclean.pipeline import StepStats
from vocclean.report.observer import RunObserver
from vocclean.runner import RunOptions, RunResult

REPORT_FORMAT = 1
# Counter groups shown as their own report sections, summed over steps.
SECTIONS = {
    "lines_removed_by_kind": "removed_lines",
    "lines_removed_by_rule": "removed_lines_rule",
    "prefixes_stripped_by_kind": "stripped_prefixes",
    "chars_removed_by_kind": "removed_chars",
    "paragraphs_removed_by_kind": "removed_paragraphs",
    "encodings": "encoding",
    "mojibake": "mojibake",
    "scripts": "script",
    "duplicates": "duplicates",
    "cluster_sizes": "cluster_size",
}
MAX_REJECTION_REASONS = 30


def build_report(
    result: RunResult,
    options: RunOptions,
    observer: RunObserver | None = None,
    command: list[str] | None = None,
) -> dict[str, Any]:
    steps = [_step(stats) for stats in result.steps]
    report: dict[str, Any] = {
        "vocclean_report": REPORT_FORMAT,
        "version": __version__,
        "command": command or [],
        "inputs": list(options.inputs),
        "output": options.output,
        "rejects": options.rejects,
        "totals": {
            "records_in": result.records_in,
            "written": result.written,
            "rejected": result.rejected,
            "bad_input": result.bad_input,
            "seconds": round(sum(s.seconds for s in result.steps), 6),
        },
        "steps": steps,
    }
    for section, group in SECTIONS.items():
        report[section] = _sum_group(result.steps, group)
    report["rejections"] = _rejections(observer)
    report["samples"] = [asdict(sample) for sample in observer.samples] if observer else []
    report["invariants"] = invariants(report)
    return report


def _step(stats: StepStats) -> dict[str, Any]:
    counters: dict[str, dict[str, int]] = {}
    for key, value in sorted(stats.counters.items()):
        group, _, name = key.partition("/")
        counters.setdefault(group, {})[name or group] = value
    return {
        "name": stats.name,
        "records_in": stats.records_in,
        "records_out": stats.records_out,
        "rejected": stats.rejected,
        "seconds": round(stats.seconds, 6),
        "counters": counters,
    }


def _sum_group(steps: list[StepStats], group: str) -> dict[str, int]:
    total: Counter[str] = Counter()
    prefix = f"{group}/"
    for stats in steps:
        for key, value in stats.counters.items():
            if key.startswith(prefix):
                total[key[len(prefix) :]] += value
    return dict(sorted(total.items(), key=lambda item: (-item[1], _natural(item[0]))))


def _natural(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (1 << 62, name)


def _rejections(observer: RunObserver | None) -> list[dict[str, Any]]:
    if observer is None:
        return []
    ranked = sorted(observer.rejections.items(), key=lambda item: (-item[1], item[0]))
    return [
        {"step": step, "reason": reason, "records": count}
        for (step, reason), count in ranked[:MAX_REJECTION_REASONS]
    ]


def invariants(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Conservation checks over the report's own numbers: each with the numbers and whether it holds."""
    checks: list[dict[str, Any]] = []

    def check(name: str, left: int, right: int) -> None:
        checks.append({"check": name, "left": left, "right": right, "holds": left == right})

    steps, totals = report["steps"], report["totals"]
    for step in steps:
        check(
            f"{step['name']}: records in = out + rejected",
            step["records_in"],
            step["records_out"] + step["rejected"],
        )
    for before, after in pairwise(steps):
        name = f"{after['name']}: records in = {before['name']} out"
        check(name, after["records_in"], before["records_out"])
    written_and_rejected = totals["written"] + totals["rejected"]
    check("run: records in = written + rejected", totals["records_in"], written_and_rejected)
    if steps:
        check("run: written = last step out", totals["written"], steps[-1]["records_out"])
    check("run: rejected = sum of steps' rejected", totals["rejected"], sum(s["rejected"] for s in steps))
    if report["rejections"] and len(report["rejections"]) < MAX_REJECTION_REASONS:
        check(
            "run: rejected = sum of rejection reasons",
            totals["rejected"],
            sum(r["records"] for r in report["rejections"]),
        )
    return checks
