"""Boilerplate rule packs: TOML data files, loaded and checked.

A pack is a TOML file with one ``[[rule]]`` table per rule::

    [[rule]]
    name = "zh-qr-scan"              # unique across all loaded packs
    kind = "qr-follow"               # one of KINDS
    where = "anywhere"               # head | tail | edge (head or tail) | anywhere
    action = "line"                  # line (remove it) | prefix (strip the match) | cut (it and all after)
    literals = ["二维码", "扫码"]      # every matching line contains one of these (lower-cased)
    pattern = '''.{0,30}扫码.{0,30}'''
    max_chars = 100                  # longer lines are never tested (optional)
    ignore_case = false              # optional
    examples = ["扫码关注我们"]        # must match: checked at load time
    counter_examples = ["他赞赏这一做法。"]  # must not match (optional)
    comment = "why the rule exists"

How a rule is applied (see ``vocclean.text.boilerplate``):

- ``line`` rules with ``where = "anywhere"`` are strong: the pattern must match
  the whole stripped line (``fullmatch``) and may fire on any line.
- ``line`` rules with ``head``/``tail``/``edge`` are weak: ``search`` on the
  stripped line, only in the first or last lines of the document.
- ``prefix`` rules (``where = "head"``) strip what the pattern matches at the
  start of one of the first two kept lines (datelines, lead-ins); they need
  no ``literals`` (any given are not used).
- ``cut`` rules match a whole line (an END marker, a "related articles"
  header); in the last part of a document they remove the line and everything
  after it, elsewhere only the line.

``literals`` (lower-cased) are a pre-filter: a line or cut rule is never
tried on a line that contains none of them. A strong or cut rule whose pattern can start
with any character (``[^。]{0,30}扫码…``) and that is longer than
``SHORT_LINE_CHARS`` must have literals: it is found through them in the
whole text. Other rules are tried only on lines that start with a character
their pattern can start with (``Rule.starts``), weak rules only on the head
and tail lines: they need no literals.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from vocclean import regex_cache
from vocclean.text.regex_safety import exponential_backtracking
from vocclean.text.regex_starts import first_chars, is_anchored

KINDS = (
    "disclaimer",
    "qr-follow",
    "reward-contact",
    "credit",
    "end-marker",
    "reading-prompt",
    "related-teaser",
    "navigation",
    "metadata",
    "dateline",
)
WHERE = ("head", "tail", "edge", "anywhere")
ACTIONS = ("line", "prefix", "cut")
BUILTIN_PACKS = ("zh.toml", "zh_hant.toml", "en.toml")
# Strong and cut rules whose pattern can start with any character, longer than
# this, need literals: they are found through them in the whole text.
SHORT_LINE_CHARS = 40
DEFAULT_MAX_CHARS = {"line": 200, "prefix": 60, "cut": 40}
DEFAULT_WHERE = {"line": "edge", "prefix": "head", "cut": "tail"}

_REQUIRED = ("name", "kind", "pattern", "comment")
_OPTIONAL = (
    "where",
    "action",
    "literals",
    "max_chars",
    "ignore_case",
    "examples",
    "counter_examples",
)
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


class RulePackError(ValueError):
    """A rule pack that cannot be used; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One boilerplate rule, compiled.

    ``max_chars`` bounds the stripped line length tested (for prefix rules:
    the length of the matched prefix).
    """

    name: str
    kind: str
    where: str
    action: str
    pattern: str
    regex: re.Pattern[str]
    literals: tuple[str, ...]
    max_chars: int
    comment: str
    pack: str
    starts: frozenset[str] | None = None  # the characters a match can start with (None: any)

    @property
    def strong(self) -> bool:
        return self.where == "anywhere"

    @property
    def indexed(self) -> bool:
        """Found through its literals in the whole text, not by the first character of lines:
        a weak rule with literals, or a strong or cut rule whose start cannot be bounded."""
        if not self.literals or self.action == "prefix":
            return False
        return not ((self.strong or self.action == "cut") and self.starts is not None)

    def matches_line(self, stripped: str) -> bool:
        """Whether the rule removes this (stripped) line, position aside."""
        if len(stripped) > self.max_chars:
            return False
        if self.action == "line" and not self.strong:
            return self.regex.search(stripped) is not None
        return self.regex.fullmatch(stripped) is not None

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled as its fields, in order: compiled by mypyc (``vocclean.native``), a frozen
        dataclass cannot be unpickled field by field."""
        fields = (self.name, self.kind, self.where, self.action, self.pattern, self.regex)
        return Rule, (*fields, self.literals, self.max_chars, self.comment, self.pack, self.starts)

    def match_prefix(self, line: str) -> re.Match[str] | None:
        """The lead-in this prefix rule strips from the start of ``line`` (left-stripped), if any."""
        match = self.regex.match(line)
        if match is None or match.end() == 0 or match.end() > self.max_chars:
            return None
        return match


def rule_starts(pattern: str, flags: int, action: str, where: str) -> frozenset[str] | None:
    """The characters a rule's match must start with when it is anchored at the line start."""
    anchored = action != "line" or where == "anywhere" or is_anchored(pattern)
    return first_chars(pattern, flags) if anchored else None


def needs_literals(action: str, where: str, max_chars: int, starts: frozenset[str] | None) -> bool:
    """Strong and cut rules fire on any line: unless their start is known or they are short,
    the matcher needs literals to find their lines."""
    if action == "prefix" or (action == "line" and where != "anywhere"):
        return False
    return starts is None and max_chars > SHORT_LINE_CHARS


def builtin_pack_paths() -> list[Path]:
    """The packs shipped in ``vocclean/rules``."""
    folder = resources.files("vocclean") / "rules"
    return [Path(str(folder / name)) for name in BUILTIN_PACKS]


def load_packs(paths: list[Path | str]) -> list[Rule]:
    """Load and check packs in order; rule names must be unique across all of them."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in paths:
        for rule in load_pack(path):
            if rule.name in seen:
                raise RulePackError(
                    f"{rule.pack}: rule '{rule.name}': the name is already used in {seen[rule.name]}; "
                    "rename the rule (and --disable the other one if it should be replaced)"
                )
            seen[rule.name] = rule.pack
            rules.append(rule)
    return rules


def load_pack(path: Path | str) -> list[Rule]:
    """Read one TOML pack; raise RulePackError naming the file (and rule) on any problem."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise RulePackError(f"{path}: cannot read the rule pack: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulePackError(f"{path}: not valid TOML: {exc}") from exc
    return parse_pack(document, str(path))


def parse_pack(document: dict[str, Any], origin: str) -> list[Rule]:
    unknown = set(document) - {"rule", "pack"}
    if unknown:
        raise RulePackError(f"{origin}: unknown top-level key(s) {sorted(unknown)}; expected [[rule]] tables")
    entries = document.get("rule", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RulePackError(f"{origin}: 'rule' must be an array of tables ([[rule]])")
    rules = []
    names: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        rule = _parse_rule(entry, origin, position)
        if rule.name in names:
            raise RulePackError(f"{origin}: rule '{rule.name}': the name is used twice in this pack")
        names.add(rule.name)
        rules.append(rule)
    return rules


def _parse_rule(entry: dict[str, Any], origin: str, position: int) -> Rule:
    label = f"rule '{entry['name']}'" if isinstance(entry.get("name"), str) else f"rule #{position}"

    def fail(problem: str) -> RulePackError:
        return RulePackError(f"{origin}: {label}: {problem}")

    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise fail(f"missing key(s) {missing}")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise fail(f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_REQUIRED + _OPTIONAL)}")
    name, kind, pattern, comment = (entry[key] for key in _REQUIRED)
    action = entry.get("action", "line")
    where = entry.get("where", DEFAULT_WHERE.get(action, "edge"))
    for key, value in (("name", name), ("pattern", pattern), ("comment", comment)):
        if not isinstance(value, str) or not value.strip():
            raise fail(f"'{key}' must be a non-empty string")
    if not _NAME.match(name):
        raise fail("the name must be lower-case letters, digits and dashes")
    _check_choice(fail, "kind", kind, KINDS)
    _check_choice(fail, "where", where, WHERE)
    _check_choice(fail, "action", action, ACTIONS)
    literals = _strings(fail, entry, "literals")
    examples = _strings(fail, entry, "examples")
    counter_examples = _strings(fail, entry, "counter_examples")
    ignore_case = entry.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise fail("'ignore_case' must be true or false")
    max_chars = entry.get("max_chars", DEFAULT_MAX_CHARS[action])
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise fail("'max_chars' must be a positive integer")
    if action in ("prefix", "cut") and where != DEFAULT_WHERE[action]:
        raise fail(f"a {action} rule must have where = \"{DEFAULT_WHERE[action]}\" (or no 'where')")
    if not examples:
        raise fail("give at least one example line in 'examples'")
    try:
        regex = regex_cache.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise fail(f"bad pattern: {exc}") from exc
    starts = rule_starts(pattern, regex.flags, action, where)
    if not literals and needs_literals(action, where, max_chars, starts):
        raise fail(
            "give 'literals' for the pre-filter: a strong or cut rule longer than "
            f"{SHORT_LINE_CHARS} characters whose pattern can start with any character needs them"
        )
    # User packs are checked before any example is matched: a ReDoS pattern would hang right here.
    problem = None if _builtin(origin) else exponential_backtracking(pattern, regex.flags)
    if problem:
        raise fail(
            f"the pattern can take exponential time on some lines: {problem}. Rewrite it, or make the "
            "inner repeat possessive (a++) or atomic ((?>...)) so that it never backtracks"
        )
    rule = Rule(
        name=name,
        kind=kind,
        where=where,
        action=action,
        pattern=pattern,
        regex=regex,
        literals=tuple(literal.lower() for literal in literals),
        max_chars=max_chars,
        comment=comment.strip(),
        pack=origin,
        starts=starts,
    )
    for example in examples:
        if not _example_matches(rule, example):
            raise fail(f"the pattern does not match its example {example!r}")
        if rule.literals and not any(literal in example.lower() for literal in rule.literals):
            raise fail(f"the example {example!r} contains none of the literals {list(rule.literals)}")
    for counter in counter_examples:
        if _example_matches(rule, counter):
            raise fail(f"the pattern matches its counter-example {counter!r}")
    return rule


def _builtin(origin: str) -> bool:
    """Whether a pack is one shipped with vocclean (reviewed, and tested on hostile lines)."""
    return Path(origin) in builtin_pack_paths()


def _example_matches(rule: Rule, example: str) -> bool:
    if rule.action == "prefix":
        return rule.match_prefix(example.lstrip()) is not None
    return rule.matches_line(example.strip())


def _check_choice(fail: Any, key: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise fail(f"'{key}' is {value!r}; choose one of {', '.join(choices)}")


def _strings(fail: Any, entry: dict[str, Any], key: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise fail(f"'{key}' must be a list of non-empty strings")
    return value
