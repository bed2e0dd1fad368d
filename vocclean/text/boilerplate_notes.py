"""What strip-boilerplate records of a document's removals: annotation notes and stats counts.

Compiled by mypyc with the matcher (``vocclean.native``): a document of the
labelled evaluation set has six removals, and this loop took a fifth of the
step's time as Python. Removals are counted per rule in ``RemovalCounts``
(two native integers a removal) and added to the step's ``Counter`` under
their stats names when the step's stats are read: three items set on a
``Counter`` for each removal went through a Python-level slot (``Counter``
defines ``__missing__``), half of this loop's cost (callgrind).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from vocclean.text.boilerplate import Removal

ANNOTATION_LINE_CHARS = 80
_RULES_KEPT = 10_000  # rules a step keeps counters for (learned lines' rules carry their counts), then again


class RuleCount:
    """One rule's removals (whole lines, or lead-ins) since the counts were last added to stats."""

    def __init__(self, names: tuple[str, str, str]) -> None:
        self.names = names  # <what>/<kind>, <what>_rule/<rule>, removed_chars/<kind>
        self.removals = 0
        self.chars = 0


class RemovalCounts:
    """A step's removals counted by rule (and whether lead-ins), named in stats when drained.

    In one step a rule name has one kind, and ``would`` (``would_`` in a dry
    run) is the same at every call.
    """

    def __init__(self) -> None:
        self._by_rule: dict[bool, dict[str, RuleCount]] = {False: {}, True: {}}
        self._pending = False

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled empty (its step drains it first): a class compiled by mypyc
        (``vocclean.native``) cannot be rebuilt from its fields."""
        return RemovalCounts, ()

    def count(self, removal: Removal, would: str) -> None:
        by_rule = self._by_rule[removal.prefix]
        counts = by_rule.get(removal.rule)
        if counts is None:
            what = "stripped_prefixes" if removal.prefix else "removed_lines"
            kind = removal.kind
            counts = by_rule[removal.rule] = RuleCount(
                (
                    f"{would}{what}/{kind}",
                    f"{would}{what}_rule/{removal.rule}",
                    f"{would}removed_chars/{kind}",
                )
            )
        counts.removals += 1
        counts.chars += len(removal.text)
        self._pending = True

    def drain(self, stats: Counter[str]) -> None:
        """Add the counts to ``stats`` (removed_lines/<kind>, removed_lines_rule/<rule>,
        removed_chars/<kind>, stripped_prefixes/<kind>, stripped_prefixes_rule/<rule>) and
        start again from zero."""
        if not self._pending:
            return
        self._pending = False
        for by_rule in self._by_rule.values():
            for counts in by_rule.values():
                if counts.removals:
                    kind_name, rule_name, chars_name = counts.names
                    stats[kind_name] += counts.removals
                    stats[rule_name] += counts.removals
                    stats[chars_name] += counts.chars
                    counts.removals = counts.chars = 0
            if len(by_rule) >= _RULES_KEPT:
                by_rule.clear()


def explain(
    removals: list[Removal], counts: RemovalCounts, would: str = ""
) -> tuple[list[dict[str, Any]], int]:
    """The annotation notes of ``removals`` and how many whole lines they are; counts them in
    ``counts`` (stats names after ``would``)."""
    notes: list[dict[str, Any]] = []
    lines = 0
    for removal in removals:
        counts.count(removal, would)
        text, kind, rule = removal.text, removal.kind, removal.rule
        if len(text) > ANNOTATION_LINE_CHARS:
            text = truncate(text)
        if removal.prefix:
            notes.append({"line": text, "kind": kind, "rule": rule, "prefix": True})
        else:
            notes.append({"line": text, "kind": kind, "rule": rule})
            lines += 1
    return notes, lines


def truncate(text: str) -> str:
    """``text`` cut to ``ANNOTATION_LINE_CHARS`` characters, the last one ``…``, when longer."""
    return text if len(text) <= ANNOTATION_LINE_CHARS else text[: ANNOTATION_LINE_CHARS - 1] + "…"
