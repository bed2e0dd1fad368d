"""Which alternations a line starting with a given character runs: built on first use, shared.

A plan for a first character is ``(limits, alternations)``: ``alternations[j]``
joins (``RuleAlternation``) the rules that can start with that character and
whose ``max_chars`` is at least ``limits[j]``, so that a line never runs a
rule it is too long for (a short rule's pattern can be slow on a long line).

Building the plans of every character up front compiled some 900 regexes,
half a second at the start of each process; ``Plans`` builds a character's
plan the first time a line starts with it. ``shared_plans`` hands every
``LineRules`` with the same rules and mode the same ``Plans``, so a second
matcher (a second step, each run of the benchmark) compiles nothing again.
Plans hold no answers for lines: they are the same whatever was matched.
"""

from __future__ import annotations

from collections.abc import Sequence

from vocclean.text.boilerplate_alternation import RuleAlternation
from vocclean.text.boilerplate_rules import Rule

Plan = tuple[tuple[int, ...], tuple[RuleAlternation, ...]]
SHARED_PLANS = 32  # sets of plans kept for reuse (then they start again)
_shared: dict[tuple[tuple[Rule, ...], tuple[Rule, ...], bool], Plans] = {}


class Plans(dict[str, Plan]):
    """First character -> its plan, built when first looked up (``plans[char]``).

    ``dispatch`` maps a first character to its candidate rules; a character
    it does not list gets the plan of ``always``. Rules in ``alone`` are left
    out (the caller tries them one by one).
    """

    def __init__(
        self,
        dispatch: dict[str, tuple[Rule, ...]],
        always: tuple[Rule, ...],
        alone: Sequence[Rule],
        fullmatch: bool,
    ) -> None:
        super().__init__()
        self._dispatch = dispatch
        self._alone = frozenset(alone)
        self._fullmatch = fullmatch
        self._built: dict[tuple[Rule, ...], RuleAlternation] = {}
        self.other = self._plan(always)

    def __missing__(self, char: str) -> Plan:
        candidates = self._dispatch.get(char)
        plan = self.other if candidates is None else self._plan(candidates)
        self[char] = plan
        return plan

    def _plan(self, candidates: tuple[Rule, ...]) -> Plan:
        chosen = [r for r in candidates if r not in self._alone]
        limits = tuple(sorted({r.max_chars for r in chosen}))
        alternations = []
        for limit in limits:
            rules = tuple(r for r in chosen if r.max_chars >= limit)
            if rules not in self._built:
                self._built[rules] = RuleAlternation(rules, self._fullmatch)
            alternations.append(self._built[rules])
        return limits, tuple(alternations)


def shared_plans(
    rules: Sequence[Rule],
    dispatch: dict[str, tuple[Rule, ...]],
    always: tuple[Rule, ...],
    alone: Sequence[Rule],
    fullmatch: bool,
) -> Plans:
    """The ``Plans`` of these rules (``dispatch``, ``always`` and ``alone`` derive from them and the
    mode), the same object for every caller with the same rules, mode and ``alone``."""
    key = (tuple(rules), tuple(alone), fullmatch)
    plans = _shared.get(key)
    if plans is None:
        if len(_shared) >= SHARED_PLANS:
            _shared.clear()
        plans = _shared[key] = Plans(dispatch, always, alone, fullmatch)
    return plans
