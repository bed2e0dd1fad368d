"""Find and remove boilerplate lines: rule packs applied by position, plus learned lines.

``BoilerplateMatcher(rules).find(text)`` returns the removals it would make,
each with the rule (or learned count) that made it; ``remove(text, removals)``
applies them. Lines are ``text.split("\\n")``; a line is tested stripped.

Position (the issue's "boilerplate clusters at the head and tail"):

- The head zone is the first ``head_lines`` lines that are kept, the tail zone
  the last ``tail_lines`` kept lines: a removed line does not use up the zone,
  so a cluster of five footer lines is removed as a whole.
- Weak rules (``where`` head/tail/edge) fire only in their zone; strong rules
  (``anywhere``) fire on any line but must match the whole line.
- Prefix rules strip a lead-in from one of the first ``PREFIX_LINES`` kept
  lines (``央视网消息（新闻联播）：``, ``新华社北京6月12日电``, ``〔記者…／台北報導〕``);
  a line left empty goes.
- A cut rule (END marker, "related articles" heading) that matches a line
  starting at or after ``cut_from`` of the text, with a kept line before it,
  removes that line and every line after it; earlier, only the line.
- Learned lines (``LearnedLines``) are removed anywhere, whole line.

Speed (``vocclean.text.boilerplate_index``): a rule is only tried on lines
that start with a character its pattern can start with, or, when it has
literals and may start anywhere (or is weak), on lines that contain one of
them, found in one pass over the text; weak rules only on head and tail
lines; no rule on a line longer than its ``max_chars``. The rules left for a
line are tried in one regex call (cut rules, then strong rules; or the weak
rules of a zone). ``prefilter=False`` tries every rule, one by one, on every
line its position allows: the same result, slower (the benchmark's baseline
and the tests' reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vocclean.text.boilerplate_index import EveryLine, LineRules, LiteralIndex, line_starts
from vocclean.text.boilerplate_rules import Rule
from vocclean.text.learned_boilerplate import LearnedLines

AFTER_CUT_PREFIX = "after:"
PREFIX_LINES = 2  # lead-ins are stripped from the first two kept lines (a photo caption may come first)


class Removal:
    """One removal: a whole line (``prefix`` False) or a lead-in stripped from it.

    ``line`` is the index in ``text.split("\\n")``; ``text`` the removed line
    (stripped) or prefix; ``rule`` the rule name, ``after:<rule>`` for lines cut
    after a marker, or ``learned:<count>``.

    A plain class, not a dataclass: compiled by mypyc (``vocclean.native``), a
    dataclass is built through Python's ``__init__`` slot, some 2,000
    instructions a removal (callgrind), a tenth of a document's matching on the
    labelled set; this constructor is a native call.
    """

    def __init__(self, line: int, text: str, kind: str, rule: str, prefix: bool = False) -> None:
        self.line = line
        self.text = text
        self.kind = kind
        self.rule = rule
        self.prefix = prefix

    def _fields(self) -> tuple[int, str, str, str, bool]:
        return (self.line, self.text, self.kind, self.rule, self.prefix)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Removal):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value (as the dataclass was)

    def __repr__(self) -> str:
        line, text, kind, rule, prefix = self._fields()
        return f"Removal(line={line!r}, text={text!r}, kind={kind!r}, rule={rule!r}, prefix={prefix!r})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return Removal, self._fields()


class BoilerplateMatcher:
    """Applies a list of rules (and optionally learned lines) to documents."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        head_lines: int = 3,
        tail_lines: int = 4,
        cut_from: float = 0.25,
        keep_dateline: bool = False,
        prefilter: bool = True,
    ) -> None:
        if head_lines < 0 or tail_lines < 0:
            raise ValueError("head_lines and tail_lines must be >= 0")
        if not 0.0 <= cut_from <= 1.0:
            raise ValueError(f"cut_from must be in [0, 1], got {cut_from}")
        self.rules = [r for r in rules if not (keep_dateline and r.action == "prefix")]
        self.head_lines = head_lines
        self.tail_lines = tail_lines
        self.cut_from = cut_from
        self.prefilter = prefilter
        self._order = {rule.name: number for number, rule in enumerate(self.rules)}
        indexed = [r for r in self.rules if r.indexed]
        self._index = LiteralIndex(indexed) if prefilter else EveryLine(indexed)
        rest = [r for r in self.rules if not r.indexed]
        self._prefix = LineRules([r for r in rest if r.action == "prefix"], "prefix", prefilter)
        # Cut rules, then strong rules (a cut rule wins over a strong rule that comes first in the pack),
        # dispatched on the line's first character.
        whole = [r for r in self.rules if r.action == "cut"]
        whole += [r for r in self.rules if r.action == "line" and r.strong]
        self._whole = LineRules([r for r in whole if not r.indexed], "fullmatch", prefilter)
        self._whole_rank = {rule.name: number for number, rule in enumerate(whole)}
        weak = [r for r in rest if r.action == "line" and not r.strong]
        self._head = LineRules([r for r in weak if r.where in ("head", "edge")], "search", prefilter)
        self._tail = LineRules([r for r in weak if r.where in ("tail", "edge")], "search", prefilter)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled as its rules and settings, built again where unpickled (engines send steps to
        workers): a class compiled by mypyc (``vocclean.native``) cannot be rebuilt from its fields."""
        settings = (self.head_lines, self.tail_lines, self.cut_from, self.prefilter)
        return _rebuilt, (self.rules, *settings)

    def find(self, text: str, learned: LearnedLines | None = None) -> list[Removal]:
        """The removals for ``text``, in line order."""
        return self._find(text, text.split("\n"), learned)

    def strip(self, text: str, learned: LearnedLines | None = None) -> tuple[str, list[Removal]]:
        """``text`` without its boilerplate, and the removals (``remove(text, find(text))``, one split)."""
        lines = text.split("\n")
        removals = self._find(text, lines, learned)
        return (_remove_from_lines(text, lines, removals) if removals else text), removals

    def _find(self, text: str, lines: list[str], learned: LearnedLines | None) -> list[Removal]:
        stripped = [line.strip() for line in lines]
        nonempty = [i for i, s in enumerate(stripped) if s]
        if not nonempty:
            return []
        removed: dict[int, Removal] = {}
        prefixes: dict[int, Removal] = {}
        by_line = self._index.rules_by_line(text, lines)
        self._anywhere(lines, stripped, nonempty, by_line, removed, learned)
        # (Arguments spelled out, not unpacked: an unpacked call goes through the Python wrapper.)
        head = self._scan_zone(True, stripped, nonempty, by_line, removed, prefixes)
        tail = self._scan_zone(False, stripped, nonempty, by_line, removed, prefixes)
        # A line that one zone's rules removed may have used up the other zone's room when that zone
        # was scanned (a short document): scan it again, until neither has a removed line among its kept.
        while not removed.keys().isdisjoint(head):
            head = self._scan_zone(True, stripped, nonempty, by_line, removed, prefixes)
            if removed.keys().isdisjoint(tail):
                break
            tail = self._scan_zone(False, stripped, nonempty, by_line, removed, prefixes)
        if prefixes and _lead_in_again(text, prefixes):
            _repeated_lead_ins(stripped, nonempty, removed, prefixes)
        for i, prefix in prefixes.items():
            if i not in removed:
                removed[i] = prefix  # a line is either removed or has its lead-in stripped
        return [removed[i] for i in sorted(removed)]

    def _anywhere(
        self,
        lines: list[str],
        stripped: list[str],
        nonempty: list[int],
        by_line: dict[int, tuple[Rule, ...]],
        removed: dict[int, Removal],
        learned: LearnedLines | None,
    ) -> None:
        """Cut rules, strong rules and learned lines, on every line."""
        if learned is None:  # only lines that an indexed rule or a rule of their first character may match
            reach, far = self._whole.reach.get, self._whole.always_reach
            todo: Iterable[tuple[int, int]] = [
                (order, i)
                for order, i in enumerate(nonempty)
                if len(stripped[i]) <= reach(stripped[i][0], far) or i in by_line
            ]
        else:
            todo = enumerate(nonempty)
        whole, rank = self._whole, self._whole_rank
        for order, i in todo:
            line = stripped[i]
            rule = whole.rule_for(line)  # a method called on its object: a native call
            candidates = by_line.get(i)
            if candidates:
                indexed = _first_match(candidates, line, "cut") or _first_match(candidates, line, "anywhere")
                if indexed is not None and (rule is None or rank[indexed.name] < rank[rule.name]):
                    rule = indexed
            if rule is None:
                if learned is not None:
                    count = learned.lookup(line)
                    if count is not None:
                        removed[i] = Removal(i, line, "learned", f"learned:{count}")
                continue
            removed[i] = Removal(i, line, rule.kind, rule.name)
            if rule.action != "cut" or order == 0:
                continue
            offsets = line_starts(lines)
            if offsets[i] >= self.cut_from * (offsets[-1] + len(lines[-1])):
                for j in nonempty[order + 1 :]:
                    removed[j] = Removal(j, stripped[j], rule.kind, AFTER_CUT_PREFIX + rule.name)
                return

    def _scan_zone(
        self,
        head: bool,
        stripped: list[str],
        nonempty: list[int],
        by_line: dict[int, tuple[Rule, ...]],
        removed: dict[int, Removal],
        prefixes: dict[int, Removal],
    ) -> list[int]:
        """Weak rules (and, at the head, prefix rules) on the first (``head``) or last kept lines;
        returns the lines the zone kept.

        A removed line does not use up the zone, so a cluster of boilerplate
        lines at an edge goes as a whole.
        """
        zone = "head" if head else "tail"
        size, rules = (self.head_lines, self._head) if head else (self.tail_lines, self._tail)
        zone_kept: list[int] = []
        # Lead-ins are looked for in the first PREFIX_LINES kept lines whatever --head-lines says.
        limit = max(size, PREFIX_LINES) if head else size
        if limit == 0:
            return zone_kept
        lead_ins, position = self._prefix, self._order
        kept = 0
        for i in nonempty if head else reversed(nonempty):
            if i in removed:
                continue
            line = stripped[i]
            if head and kept < PREFIX_LINES:
                found = lead_ins.first_prefix(line)
                if found is not None:
                    rule, match = found
                    line = line[match.end() :].strip()
                    if not line:
                        removed[i] = Removal(i, stripped[i], rule.kind, rule.name)
                        continue
                    prefixes[i] = Removal(i, match.group(0), rule.kind, rule.name, prefix=True)
            elif prefixes and i in prefixes:
                line = line[len(prefixes[i].text) :].strip()
            if kept < size:  # the zone of the weak rules
                candidates = by_line.get(i) if by_line else None
                hit_rule: Rule | None = _first_match(candidates, line, zone) if candidates else None
                other = rules.rule_for(line)
                if other is not None and (hit_rule is None or position[other.name] < position[hit_rule.name]):
                    hit_rule = other
                if hit_rule is not None:
                    removed[i] = Removal(i, stripped[i], hit_rule.kind, hit_rule.name)
                    continue
                zone_kept.append(i)
            kept += 1
            if kept >= limit:
                break
        return zone_kept


def _rebuilt(
    rules: Sequence[Rule], head_lines: int, tail_lines: int, cut_from: float, prefilter: bool
) -> BoilerplateMatcher:
    """An unpickled matcher (``BoilerplateMatcher.__reduce__``; datelines were dropped from its rules)."""
    return BoilerplateMatcher(
        rules, head_lines=head_lines, tail_lines=tail_lines, cut_from=cut_from, prefilter=prefilter
    )


def _lead_in_again(text: str, prefixes: dict[int, Removal]) -> bool:
    """Whether the text holds a stripped lead-in twice (one scan each, before any line is looked at)."""
    for found in prefixes.values():
        first = text.find(found.text)
        if text.find(found.text, first + 1) >= 0:
            return True
    return False


def _repeated_lead_ins(
    stripped: list[str], nonempty: list[int], removed: dict[int, Removal], prefixes: dict[int, Removal]
) -> None:
    """A lead-in stripped at the head goes wherever a later line starts with the same text: the
    article pasted again below itself (seed 004), whose copy must then equal its first paragraph.

    Without this, dedup-paragraphs sees the copy as a different paragraph and keeps it, and a second
    run of clean (where the copy has moved into the head) strips and removes it: not idempotent.
    """
    lead_ins = [(found.text, found.kind, found.rule) for found in prefixes.values()]
    after = max(prefixes)
    for i in nonempty:
        if i <= after or i in removed:
            continue
        for text, kind, rule in lead_ins:
            if stripped[i].startswith(text):
                if stripped[i][len(text) :].strip():
                    prefixes[i] = Removal(i, text, kind, rule, prefix=True)
                else:
                    removed[i] = Removal(i, stripped[i], kind, rule)
                break


def _first_match(rules: Iterable[Rule], line: str, role: str) -> Rule | None:
    """The first rule playing ``role`` (anywhere, cut, head, tail) that matches the line."""
    for rule in rules:
        if _plays(rule, role) and rule.matches_line(line):
            return rule
    return None


def _plays(rule: Rule, role: str) -> bool:
    """Whether ``rule`` plays ``role``: anywhere (a strong line rule), cut, head or tail (a weak
    line rule that may fire in that zone)."""
    if role == "cut":
        return rule.action == "cut"
    if rule.action != "line":
        return False
    if role == "anywhere":
        return rule.where == "anywhere"
    return rule.where == role or rule.where == "edge"


def remove(text: str, removals: Sequence[Removal]) -> str:
    """``text`` without the removed lines and prefixes.

    Blank lines that only separated a removed line from its neighbours go
    too (no double blank lines, no blank lines left at the head or tail where
    lines were removed); every other character is kept.
    """
    if not removals:
        return text
    return _remove_from_lines(text, text.split("\n"), removals)


def _remove_from_lines(text: str, lines: list[str], removals: Sequence[Removal]) -> str:
    """``remove`` on ``text.split("\\n")`` (the list is changed in place)."""
    dropped = {r.line for r in removals if not r.prefix}
    for removal in removals:
        if removal.prefix and removal.line not in dropped:
            line = lines[removal.line]
            start = line.find(removal.text)
            lines[removal.line] = line[:start] + line[start + len(removal.text) :]
    if not dropped:
        return "\n".join(lines)
    count = len(lines)
    out: list[str] = []
    kept_from = 0
    for start in sorted(dropped):
        if start < kept_from:
            continue
        out += lines[kept_from:start]
        end = start + 1
        while end in dropped:
            end += 1
        if not out or not out[-1].strip():  # no blank line left doubled (or leading) by the removal
            while end < count and end not in dropped and not lines[end].strip():
                end += 1
        kept_from = end
    out += lines[kept_from:]
    last = count - 1  # the last line that is dropped or not blank
    while last not in dropped and not lines[last].strip():
        last -= 1
    if last in dropped:
        while out and not out[-1].strip():
            out.pop()
        if out and text.endswith("\n"):
            out.append("")
    first = 0  # the first line that is dropped or not blank
    while first not in dropped and not lines[first].strip():
        first += 1
    if first in dropped:
        start = 0
        while start < len(out) and not out[start].strip():
            start += 1
        del out[:start]
    return "\n".join(out)
