"""What a regex can start with: the characters of its first match position.

``first_chars(pattern)`` reads Python's own parse of a pattern and returns the
set of characters a match can begin with, or None when it cannot bound them;
the boilerplate matcher uses it to try a rule only on lines that start with
one of them. ``is_anchored`` tells whether a pattern only matches at the
start (``^…`` without a top-level ``|``).
"""

from __future__ import annotations

import functools
import re
from re import _constants, _parser  # type: ignore[attr-defined]
from typing import Any

_MAX_RANGE = 512  # a character range wider than this counts as "any character"
# What \s matches (str.isspace); no whitespace character lies above U+3000.
_WHITESPACE = frozenset(chr(code) for code in range(0x3001) if chr(code).isspace())


def first_chars(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """The characters a match of ``pattern`` can start with, or None when any (or unknown).

    Read from Python's own regex parser; anything it cannot bound (``.``,
    negated or large classes, lookarounds, a pattern that can match empty)
    gives None, so the answer is never too narrow.
    """
    try:
        parsed = _parser.parse(pattern, flags)
    except Exception:  # the parser is private: when in doubt, no dispatch
        return None
    chars, nullable = _first_of_sequence(list(parsed), bool(flags & re.IGNORECASE))
    if chars is None or nullable:
        return None
    return frozenset(chars)


def _first_of_sequence(items: list[Any], ignore_case: bool) -> tuple[set[str] | None, bool]:
    """First characters of a sequence of parsed items, and whether it can match empty."""
    found: set[str] = set()
    for op, value in items:
        chars, nullable = _first_of_item(op, value, ignore_case)
        if chars is None:
            return None, False
        found |= chars
        if not nullable:
            return found, False
    return found, True


def _first_of_item(op: Any, value: Any, ignore_case: bool) -> tuple[set[str] | None, bool]:
    c = _constants
    if op is c.LITERAL:
        return _with_case({chr(value)}, ignore_case), False
    if op is c.IN:
        chars: set[str] = set()
        for kind, item in value:
            if kind is c.LITERAL:
                chars.add(chr(item))
            elif kind is c.RANGE and item[1] - item[0] <= _MAX_RANGE:
                chars.update(chr(code) for code in range(item[0], item[1] + 1))
            elif kind is c.CATEGORY and item is c.CATEGORY_SPACE:
                chars |= _WHITESPACE
            else:
                return None, False
        return _with_case(chars, ignore_case), False
    if op is c.AT:
        return set(), True
    if op is c.BRANCH:
        found: set[str] = set()
        nullable = False
        for branch in value[1]:
            branch_chars, empty = _first_of_sequence(list(branch), ignore_case)
            if branch_chars is None:
                return None, False
            found |= branch_chars
            nullable = nullable or empty
        return found, nullable
    if op is c.SUBPATTERN:
        _group, add_flags, del_flags, sub = value
        scoped = (ignore_case or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _first_of_sequence(list(sub), scoped)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, _high, sub = value
        sub_chars, empty = _first_of_sequence(list(sub), ignore_case)
        return sub_chars, empty or low == 0
    if op is c.ATOMIC_GROUP:
        return _first_of_sequence(list(value), ignore_case)
    return None, False


def _with_case(chars: set[str], ignore_case: bool) -> set[str]:
    if not ignore_case:
        return chars
    return (
        chars | {char.lower() for char in chars} | {char.upper() for char in chars if len(char.upper()) == 1}
    )


@functools.lru_cache(maxsize=4096)  # asked of the same rule patterns for every alternation a matcher builds
def is_anchored(pattern: str) -> bool:
    """Whether ``pattern`` starts with ``^`` and has no ``|`` outside groups and classes."""
    if not pattern.startswith("^"):
        return False
    depth, in_class, escaped = 0, False, False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            # "]" right after "[" or "[^" is a literal bracket, not the end of the class.
            in_class = char != "]" or pattern[position - 1] == "[" or pattern[position - 2 : position] == "[^"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
    return True
