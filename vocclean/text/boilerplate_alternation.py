"""Several line rules as one regex: the first rule (in order) that matches, in one call.

Trying five rules on a line costs five regex calls and a Python loop; their
patterns joined into one alternation cost one call, and the regex engine
skips in C every alternative whose first character or class cannot match.
Each alternative ends with an empty group, so ``match.lastindex`` names the
rule that matched: alternatives are tried in order, so it is the first rule
whose pattern matches, exactly as the loop would find.

Only the pattern is in the alternation: the caller checks the rule's
``max_chars`` (and literals) on a hit and, when they refuse it, goes on with
the rules after it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from vocclean import regex_cache
from vocclean.text.boilerplate_rules import Rule
from vocclean.text.regex_starts import is_anchored

# A backreference or a conditional group counts groups: it changes meaning when the
# pattern's groups are renumbered inside an alternation.
_COUNTS_GROUPS = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


class RuleAlternation:
    """``rules`` as one alternation, for ``fullmatch`` (whole line) or ``match`` (at the start).

    With ``match``, every pattern must only match at the line start (``^``,
    or a prefix rule): a search would prefer an earlier position to an
    earlier rule. Patterns that cannot take part in an alternation
    (backreferences, named groups, flags that must come first) are tried one
    by one instead, with the same result.
    """

    def __init__(self, rules: Sequence[Rule], fullmatch: bool) -> None:
        self.rules = tuple(rules)
        self._fullmatch = fullmatch
        self._call: Callable[[str], re.Match[str] | None] | None = None
        self._by_group: dict[int, int] = {}
        regex = _joined(self.rules)
        if regex is not None:
            self._call = regex.fullmatch if fullmatch else regex.match
            group = 0
            for number, rule in enumerate(self.rules):
                group += rule.regex.groups + 1
                self._by_group[group] = number

    def first(self, line: str) -> int | None:
        """The position in ``rules`` of the first rule whose pattern matches ``line``."""
        if self._call is None:
            hit = self._first_by_loop(line)
            return None if hit is None else hit[0]
        match = self._call(line)
        return None if match is None else self._by_group[match.lastindex]  # type: ignore[index]

    def first_match(self, line: str) -> tuple[int, re.Match[str]] | None:
        """``first``, and the match (the rule's own match: same span and text)."""
        if self._call is None:
            return self._first_by_loop(line)
        match = self._call(line)
        return None if match is None else (self._by_group[match.lastindex], match)  # type: ignore[index]

    def _first_by_loop(self, line: str) -> tuple[int, re.Match[str]] | None:
        for number, rule in enumerate(self.rules):
            match = (rule.regex.fullmatch if self._fullmatch else rule.regex.match)(line)
            if match is not None:
                return number, match
        return None


def _joined(rules: Sequence[Rule]) -> re.Pattern[str] | None:
    """The rules' patterns as one alternation, each followed by an empty group (None if impossible)."""
    if not rules:
        return None
    parts = []
    for rule in rules:
        if rule.regex.groupindex or _COUNTS_GROUPS.search(rule.pattern):
            return None
        pattern = rule.pattern[1:] if is_anchored(rule.pattern) else rule.pattern
        flags = "i" if rule.regex.flags & re.IGNORECASE else ""
        parts.append(f"(?{flags}:{pattern})()")
    try:
        return regex_cache.compile("|".join(parts))
    except re.error:
        return None
