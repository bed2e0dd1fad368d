"""Refuse regular expressions that can backtrack exponentially (ReDoS), before they meet any text.

Python's ``re`` is a backtracking engine: ``(a+)+$`` against thirty ``a``
and a ``b`` tries 2**30 ways to split the run. Such a pattern in a rule pack
would stall a run on one line. ``exponential_backtracking`` reads the parsed
pattern and names the first construct of the two shapes that cause it:

- a repeat that can go on and on (``*``, ``+``, ``{n,}``, ``{n,m}`` with m > 8)
  inside another such repeat, unless something that the inner repeat cannot
  match must come between iterations: ``(a+)+`` and ``(\\s*\\S+)*`` are
  refused, ``(?:\\.[a-z]+)+`` is not;
- inside such a repeat, alternatives that can start with the same character:
  ``(ab|ac)*`` (``re`` itself merges ``a|ab`` and ``\\w|\\d``).

The check is conservative: a pattern it refuses may be harmless, and the fix
is to say so with a possessive quantifier or an atomic group (Python 3.11:
``(?:\\s*+\\S++)*``, ``(?>a+)+``), which never backtrack into and are not
flagged. It does not bound polynomial patterns (``.*.*.*x``): rules bound them
by the length of the lines they are tried on.
"""

from __future__ import annotations

import functools
import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

LONG_REPEAT = 8  # {n,m} with m above this counts as open-ended

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)
_ANY = "any"
_NOT = "not"


def exponential_backtracking(pattern: str, flags: int = 0) -> str | None:
    """What in ``pattern`` can backtrack exponentially, or None when nothing can."""
    try:
        tree = sre_parse.parse(pattern, flags)
    except re.error:
        return None  # compiling reports it
    return _walk(tree)


def _walk(items: Any) -> str | None:
    for op, av in items:
        found = None
        if op in _REPEATS:
            low, high, body = av
            if _open_ended(low, high):
                found = _ambiguous(body, f"{{{low},{_bound(high)}}}")
            found = found or _walk(body)
        elif op == sre.BRANCH:
            for alternative in av[1]:
                found = found or _walk(alternative)
        elif op == sre.SUBPATTERN:
            found = _walk(av[3])
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _walk(av[1])
        elif op == sre.GROUPREF_EXISTS:
            found = _walk(av[1]) or (_walk(av[2]) if av[2] else None)
        # ATOMIC_GROUP and POSSESSIVE_REPEAT never backtrack into their body: not walked.
        if found:
            return found
    return None


def _open_ended(low: int, high: int) -> bool:
    return high > low and (high == sre.MAXREPEAT or high > LONG_REPEAT)


def _ambiguous(body: Any, repeat: str) -> str | None:
    """Whether one string can be split into iterations of ``body`` in many ways."""
    items = list(body)
    for index, item in enumerate(items):
        for low, high, inner in _inner_repeats([item]):
            first = _first_chars(inner)
            separated = first != _ANY and any(
                other.getwidth()[0] > 0 and _disjoint(_first_chars(other), first)
                for other in (_single(body, o) for o in items[:index] + items[index + 1 :])
            )
            if not separated:
                return (
                    f"a repeat inside a repeat (as in (a+)+): {{{low},{_bound(high)}}} inside {repeat}, "
                    "with nothing between iterations that the inner repeat cannot match"
                )
        for alternatives in _branches([item]):
            overlap = _overlapping(alternatives)
            if overlap:
                return (
                    "alternatives that can start with the same character inside a repeat "
                    f"(as in (ab|ac)+): {overlap}, inside {repeat}"
                )
    return None


def _single(body: Any, item: Any) -> Any:
    return sre_parse.SubPattern(body.state, [item])


def _inner_repeats(items: Any):
    """Open-ended repeats inside ``items`` that backtracking can re-split (not atomic or possessive)."""
    for op, av in items:
        if op in _REPEATS:
            if _open_ended(av[0], av[1]):
                yield av[0], av[1], av[2]
            yield from _inner_repeats(av[2])
        elif op == sre.BRANCH:
            for alternative in av[1]:
                yield from _inner_repeats(alternative)
        elif op == sre.SUBPATTERN:
            yield from _inner_repeats(av[3])


def _branches(items: Any):
    for op, av in items:
        if op == sre.BRANCH:
            yield av[1]
            for alternative in av[1]:
                yield from _branches(alternative)
        elif op == sre.SUBPATTERN:
            yield from _branches(av[3])
        elif op in _REPEATS:
            yield from _branches(av[2])


def _disjoint(first: Any, other: Any) -> bool:
    """Whether no character is in both (sets, ("not", set) for negated classes, or "any")."""
    if first == _ANY or other == _ANY:
        return False
    if isinstance(first, tuple) and isinstance(other, tuple):
        return False
    if isinstance(first, tuple):
        first, other = other, first
    if isinstance(other, tuple):
        return first <= other[1]
    return not first & other


def _overlapping(alternatives: list[Any]) -> str | None:
    """Two alternatives that can start alike (fixed strings: one a prefix of the other), or None."""
    seen: list[tuple[set[int] | str, str | None]] = []
    for alternative in alternatives:
        first, literal = _first_chars(alternative), _literal_string(alternative)
        for other_first, other_literal in seen:
            if literal is not None and other_literal is not None:
                # A set of fixed strings none of which starts another splits a text one way only.
                if literal.startswith(other_literal) or other_literal.startswith(literal):
                    return f"{other_literal!r} starts {literal!r}"
            elif not _disjoint(first, other_first):
                return f"two alternatives can start with {_char(first, other_first)}"
        seen.append((first, literal))
    return None


def _first_chars(items: Any) -> set[int] | str:
    """The code points a match of ``items`` can start with, or "any" when that is not a small set."""
    chars: set[int] = set()
    for op, av in items:
        if op == sre.AT:
            continue
        if op == sre.LITERAL:
            return chars | {av}
        if op == sre.NOT_LITERAL:
            return (_NOT, frozenset({av})) if not chars else _ANY
        if op == sre.CATEGORY and av in _CATEGORY_PATTERNS:
            return chars | _category(av)
        if op == sre.IN:
            members = _class_members(av)
            if isinstance(members, tuple):  # a negated class: all but a few characters
                return members if not chars else _ANY
            return _ANY if members == _ANY else chars | members  # type: ignore[operator]
        if op == sre.SUBPATTERN:
            inner, can_be_empty = _first_chars(av[3]), av[3].getwidth()[0] == 0
        elif op in (*_REPEATS, sre.POSSESSIVE_REPEAT):
            inner, can_be_empty = _first_chars(av[2]), av[0] == 0 or av[2].getwidth()[0] == 0
        elif op == sre.BRANCH:
            firsts = [_first_chars(alternative) for alternative in av[1]]
            if any(first == _ANY or isinstance(first, tuple) for first in firsts):
                return _ANY
            inner = set().union(*firsts)  # type: ignore[arg-type]
            can_be_empty = any(alternative.getwidth()[0] == 0 for alternative in av[1])
        else:
            return _ANY
        if inner == _ANY or isinstance(inner, tuple):
            return inner if not chars and not can_be_empty else _ANY
        chars |= inner  # type: ignore[operator]
        if not can_be_empty:
            return chars
    return chars


def _class_members(av: Any) -> set[int] | str | tuple[str, frozenset[int]]:
    """A class's members, ("not", members) for a negated class, or "any" when too wide to list."""
    members: set[int] = set()
    negated = False
    for kind, value in av:
        if kind == sre.NEGATE:
            negated = True
        elif kind == sre.LITERAL:
            members.add(value)
        elif kind == sre.RANGE and value[1] - value[0] < 256:
            members.update(range(value[0], value[1] + 1))
        elif kind == sre.CATEGORY and value in _CATEGORY_PATTERNS:
            members |= _category(value)
        else:  # negated categories, wide ranges
            return _ANY
    return (_NOT, frozenset(members)) if negated else members


# \d, \s and \w as Unicode sets (a superset of their ASCII meaning: conservative either way).
_CATEGORY_PATTERNS = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_UNI_DIGIT: r"\d",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_UNI_SPACE: r"\s",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_UNI_WORD: r"\w",
}


@functools.cache
def _category(category: Any) -> frozenset[int]:
    everything = (
        "".join(map(chr, range(0x110000))).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    )
    return frozenset(map(ord, re.findall(_CATEGORY_PATTERNS[category], everything)))


def _literal_string(items: Any) -> str | None:
    """The fixed string an alternative matches, if it is one."""
    if all(op == sre.LITERAL for op, _ in items):
        return "".join(chr(value) for _, value in items)
    return None


def _bound(high: int) -> str:
    return "" if high >= sre.MAXREPEAT else str(high)


def _char(first: Any, other: Any) -> str:
    if first == _ANY or other == _ANY or isinstance(first, tuple) or isinstance(other, tuple):
        return "any character"
    return repr(chr(min(first & other)))  # type: ignore[operator]
