"""The literal pre-filter of the boilerplate matcher: which lines may each rule match?

Every rule with ``literals`` is only tried on lines that contain one of them.
``LiteralIndex.rules_by_line(text)`` finds those lines in one cheap pass:

- Literals that start with a non-ASCII character (Chinese) are found through
  one *trigger* character each, their least common character by
  ``COMMON_CHARS``: a regex character class of the triggers scans the text
  at C speed, and at each trigger found only the literals with that trigger
  are compared in place (``str.startswith`` at the right offset; lower-cased
  first when the literal has letters). The choice of trigger changes the
  speed, never the result.
- Literals that start with an ASCII character (English, ``](``, ``@``) form
  one trie-shaped alternation that folds ASCII case; inside each hit the
  alternation is tried again at every later position, so overlapping
  literals are all found.

"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from re import _constants, _parser  # type: ignore[attr-defined]
from typing import Any

from vocclean.text.boilerplate_rules import Rule

# The 500 most frequent non-ASCII characters in ~8,000 Chinese news stories
# (xwlb, tw_news, SogouCA samples), most frequent first. Measured for vocclean;
# only used to pick rare trigger characters.
COMMON_CHARS = (
    "，。的、国中新人在一大发和全日年会展作地）（业行动出进民同以方化加文家”央“部高天有等要主平为成合月生建工多了上力"
    "实今联重是共不政持表强产近消能对关推总开查时体个看市增原视区网前示提播长设息务来到代面：习党机现经美通用疫定理军闻"
    "保量公我系员制各法下议期入好分将目指心度领斯利统深安更治外自北次第续委本台性交两十运者水施情基战明道海场局正万事于"
    "社案色坚记与及接资流至已防南过向活电造科学布特济西际数例相式路调席技程当创点间病比品书三最内导就列克俄域立可升称也"
    "项院元质打源报步快其企组应举服供球规这支界世物巴亿带》农信《國首题改计得口协起位金据义之达任取乌完超护放从名二研境"
    "四集受小管击他门后广空所江东决亚育苗；意商府城五精们问求村里此互华级效标型山京团构略航线州拉感车态解群策结稳落投收"
    "装尔节常引果风气并確為断都春革队届优教個會着旅众武传确港种土伊「診兰速游未智备织势種客办准火罗」時命积沙贸参由子德"
    "愿整约还省核友费河因术促模使—件神维染做论复致族需格手显志影先环兴助边突站融史檢非回形责划极历障率福专告预周思李去"
    "类把干措包林转双健马易监毒清想见无营宣居老批验处然降欧继善發反别而往条署抗绿权聚如再午但"
)
_RANK = {char: rank for rank, char in enumerate(COMMON_CHARS)}
_MAX_RANGE = 512  # a character range wider than this counts as "any character"
# What \s matches (str.isspace); no whitespace character lies above U+3000.
_WHITESPACE = frozenset(chr(code) for code in range(0x3001) if chr(code).isspace())


def trigger_char(literal: str) -> str:
    """The literal's non-ASCII character least common in news text (the first of equals)."""
    candidates = [char for char in literal if not char.isascii()]
    return max(candidates, key=lambda char: _RANK.get(char, len(_RANK)))


class LiteralIndex:
    """Maps each line of a text to the rules one of whose literals it contains."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [rule for rule in rules if rule.literals]
        order = {rule.name: n for n, rule in enumerate(self.rules)}
        self._order = order
        by_literal: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for literal in rule.literals:
                by_literal.setdefault(literal, []).append(rule)
        # A literal found also stands for the literals inside it: the ASCII trie
        # reports only the longest literal starting at a position.
        self._rules_for: dict[str, tuple[Rule, ...]] = {}
        for literal in by_literal:
            chosen = {r.name: r for inner in by_literal if inner in literal for r in by_literal[inner]}
            self._rules_for[literal] = tuple(sorted(chosen.values(), key=lambda r: order[r.name]))
        ascii_first = [literal for literal in by_literal if literal[0].isascii()]
        self._ascii = re.compile(trie_pattern(ascii_first, fold_ascii_case=True)) if ascii_first else None
        # trigger character -> (literal, offset of the trigger in it, whether it has cased letters)
        self._by_trigger: dict[str, list[tuple[str, int, bool]]] = {}
        for literal in by_literal:
            if not literal[0].isascii():
                trigger = trigger_char(literal)
                cased = any(char.lower() != char.upper() for char in literal)
                self._by_trigger.setdefault(trigger, []).append((literal, literal.index(trigger), cased))
        triggers = "".join(re.escape(char) for char in sorted(self._by_trigger))
        self._triggers = re.compile(f"[{triggers}]") if triggers else None

    def rules_by_line(self, text: str, lines: list[str] | None = None) -> dict[int, tuple[Rule, ...]]:
        """Line index (in ``text.split("\\n")``, or ``lines``) -> candidate rules, in pack order."""
        hits: list[tuple[int, str]] = []
        if self._triggers is not None:
            by_trigger = self._by_trigger
            for match in self._triggers.finditer(text):
                position = match.start()
                for literal, offset, cased in by_trigger[match.group()]:
                    start = position - offset
                    if start < 0:
                        continue
                    if cased:
                        if text[start : start + len(literal)].lower() == literal:
                            hits.append((start, literal))
                    elif text.startswith(literal, start):
                        hits.append((start, literal))
        if self._ascii is not None:
            regex = self._ascii
            for match in regex.finditer(text):
                hits.append((match.start(), match.group().lower()))
                # A literal may start inside this match and run past it: look there too.
                for position in range(match.start() + 1, match.end()):
                    inner = regex.match(text, position)
                    if inner is not None:
                        hits.append((position, inner.group().lower()))
        if not hits:
            return {}
        starts = line_starts(lines if lines is not None else text.split("\n"))
        found: dict[int, dict[str, Rule]] = {}
        for position, literal in hits:
            bucket = found.setdefault(bisect.bisect_right(starts, position) - 1, {})
            for rule in self._rules_for[literal]:
                bucket[rule.name] = rule
        order = self._order.__getitem__
        return {
            line: tuple(bucket.values())
            if len(bucket) == 1
            else tuple(sorted(bucket.values(), key=lambda r: order(r.name)))
            for line, bucket in found.items()
        }


class LineRules:
    """Rules tried line by line, dispatched on the line's first character.

    ``mode`` is how a rule applies to a (stripped) line: ``search`` (weak
    rules), ``fullmatch`` (strong and cut rules) or ``prefix`` (a lead-in at
    the start). A rule whose match must start at the line start (every
    fullmatch and prefix rule; a search rule whose pattern is anchored with
    ``^``) is only tried on lines that start with one of the characters its
    pattern can start with (``first_chars``); the others on every line. A line
    longer than a rule's ``max_chars`` is not tried (for prefix rules
    ``max_chars`` bounds the lead-in instead).
    """

    def __init__(self, rules: Sequence[Rule], mode: str, dispatch: bool = True) -> None:
        if mode not in ("search", "fullmatch", "prefix"):
            raise ValueError(f"unknown mode {mode!r}")
        self.rules = list(rules)
        self.mode = mode
        self.longest = max((r.max_chars for r in self.rules), default=0)
        starts: list[frozenset[str] | None] = [
            first_chars(r.pattern, r.regex.flags)
            if dispatch and (mode != "search" or is_anchored(r.pattern))
            else None
            for r in self.rules
        ]
        self._always = tuple(r for r, chars in zip(self.rules, starts, strict=True) if chars is None)
        self._dispatch: dict[str, tuple[Rule, ...]] = {}
        for char in set().union(*(chars for chars in starts if chars is not None)):
            self._dispatch[char] = tuple(
                r for r, chars in zip(self.rules, starts, strict=True) if chars is None or char in chars
            )

    def rule_for(self, line: str) -> Rule | None:
        """The first rule that matches ``line`` (search and fullmatch modes)."""
        if len(line) > self.longest:
            return None
        for rule in self._dispatch.get(line[0], self._always):
            if len(line) <= rule.max_chars:
                if self.mode == "fullmatch":
                    if rule.regex.fullmatch(line) is not None:
                        return rule
                elif rule.regex.search(line) is not None:
                    return rule
        return None

    def first_prefix(self, line: str) -> tuple[Rule, re.Match[str]] | None:
        """The first prefix rule that matches at the start of ``line``, and its match."""
        for rule in self._dispatch.get(line[0], self._always):
            match = rule.match_prefix(line)
            if match is not None:
                return rule, match
        return None


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


class EveryLine:
    """No pre-filter: every rule is a candidate on every line (reference and baseline)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rule for rule in rules if rule.literals)

    def rules_by_line(self, text: str, lines: list[str] | None = None) -> dict[int, tuple[Rule, ...]]:
        if not self.rules:
            return {}
        count = len(lines) if lines is not None else text.count("\n") + 1
        return dict.fromkeys(range(count), self.rules)


def line_starts(lines: Sequence[str]) -> list[int]:
    """The offset of each line in ``"\\n".join(lines)``."""
    starts, offset = [], 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    return starts


def trie_pattern(words: Iterable[str], *, fold_ascii_case: bool = False) -> str:
    """A regex alternation of ``words`` shaped as a trie (shared prefixes written once).

    With ``fold_ascii_case`` ASCII letters match either case; the first
    character of each branch stays a plain literal (one branch per case) so
    that ``re`` keeps its fast skip over characters that start no word.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word.lower() if fold_ascii_case else word:
            node = node.setdefault(char, {})
        node[""] = {}

    def folds(char: str) -> bool:
        return fold_ascii_case and char.isascii() and char.isalpha()

    def build(node: dict[str, dict], root: bool = False) -> str:
        branches = []
        for char, child in sorted(node.items()):
            if not char:
                continue
            rest = build(child)
            if root and folds(char):
                branches += [char.lower() + rest, char.upper() + rest]
            elif folds(char):
                branches.append(f"[{char.lower()}{char.upper()}]{rest}")
            else:
                branches.append(re.escape(char) + rest)
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie, root=True)
