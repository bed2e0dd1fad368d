"""What strip-boilerplate records of a document's removals: annotation notes and stats counts.

Compiled by mypyc with the matcher (``vocclean.native``): a document of the
labelled evaluation set has six removals, and this loop took a fifth of the
step's time as Python. Counts go into a plain ``dict`` that the step adds to
its ``Counter`` when its stats are read: an item set on a ``Counter`` goes
through a Python-level slot (``Counter`` defines ``__missing__``), about
four times the instructions of one on a ``dict`` (callgrind: half of this
loop's cost).
"""

from __future__ import annotations

from typing import Any

from vocclean.text.boilerplate import Removal

ANNOTATION_LINE_CHARS = 80
_NAMES_KEPT = 10_000  # stats names a step remembers (learned lines' rules carry their counts), then again
StatsNames = dict[bool, dict[str, tuple[str, str, str]]]  # prefix -> rule -> its three stats names


def stats_names() -> StatsNames:
    """An empty memory of stats names, for one step (in one step a rule name has one kind)."""
    return {False: {}, True: {}}


def explain(
    removals: list[Removal], tally: dict[str, int], names_of: StatsNames, would: str = ""
) -> tuple[list[dict[str, Any]], int]:
    """The annotation notes of ``removals`` and how many whole lines they are; counts them in
    ``tally``: removed_lines/<kind>, removed_lines_rule/<rule>, removed_chars/<kind>,
    stripped_prefixes/<kind>, stripped_prefixes_rule/<rule>, each name after ``would``
    (``would_`` in a dry run: a step passes the same ``would`` with the same ``names_of``)."""
    notes: list[dict[str, Any]] = []
    lines = 0
    for removal in removals:
        text, kind, rule, prefix = removal.text, removal.kind, removal.rule, removal.prefix
        by_rule = names_of[prefix]
        names = by_rule.get(rule)
        if names is None:
            if len(by_rule) >= _NAMES_KEPT:
                by_rule.clear()
            what = "stripped_prefixes" if prefix else "removed_lines"
            names = by_rule[rule] = (
                f"{would}{what}/{kind}",
                f"{would}{what}_rule/{rule}",
                f"{would}removed_chars/{kind}",
            )
        tally[names[0]] = tally.get(names[0], 0) + 1
        tally[names[1]] = tally.get(names[1], 0) + 1
        tally[names[2]] = tally.get(names[2], 0) + len(text)
        if len(text) > ANNOTATION_LINE_CHARS:
            text = truncate(text)
        if prefix:
            notes.append({"line": text, "kind": kind, "rule": rule, "prefix": True})
        else:
            notes.append({"line": text, "kind": kind, "rule": rule})
            lines += 1
    return notes, lines


def truncate(text: str) -> str:
    """``text`` cut to ``ANNOTATION_LINE_CHARS`` characters, the last one ``…``, when longer."""
    return text if len(text) <= ANNOTATION_LINE_CHARS else text[: ANNOTATION_LINE_CHARS - 1] + "…"
