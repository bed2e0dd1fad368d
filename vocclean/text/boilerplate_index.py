"""The pre-filters of the boilerplate matcher: which rules may match which lines?

``LineRules`` tries rules line by line, only those that can start with the
line's first character (``Rule.starts``) and are not shorter (``max_chars``)
than the line: all of them in one regex call, as an alternation
(``RuleAlternation``) built for each first character and length class
(``vocclean.text.boilerplate_plans``: on first use, shared by matchers).
Rules with literals are tried one by one, only on a line that contains one
(a pattern can be slow on a long line), and so are weak rules that may match
anywhere in the line. Answers for lines of up to ``MEMO_CHARS`` characters
are remembered: a site's footer recurs in every article.

``LiteralIndex`` is for the rules that may match any line whose start cannot
be bounded (a strong rule such as ``[^。]{0,30}扫码…``), and for weak rules
with literals: they are only tried on lines that contain one of their
literals, found in one cheap pass over the whole text. Each literal is found
through one *trigger* character, its least common character (by
``COMMON_CHARS`` for Chinese, by ``COMMON_ASCII`` for ASCII-only literals):
one regex of the triggers, each checked with up to two characters of its
literal either side (a look-behind and a look-ahead), scans the text at C
speed; at each trigger found, the literals with that trigger are compared in
place (``str.startswith`` at the right offset; lower-cased first when the
literal has letters; ASCII letters match in either case). The choice of
trigger changes the speed, never the result.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

from vocclean import regex_cache
from vocclean.text.boilerplate_plans import shared_plans
from vocclean.text.boilerplate_rules import Rule
from vocclean.text.regex_starts import is_anchored

# The 800 most frequent non-ASCII characters in Chinese news, most frequent
# first: ranked by the larger of their shares in Simplified text (xwlb,
# SogouCA samples) and in Traditional text (tw_news). Measured for vocclean;
# only used to pick rare trigger characters.
COMMON_CHARS = (
    "，。的国、中疫新人发在和日大全有一病國例）（会展年天案业不作地动进情市苗是確為化同生接方行文”“個會央为民以出"
    "「診加月種平部時」建者主等今表家高合要实成联示了前工指檢力及用共强产重多台上至对关政近持总染开發推时体个消本增"
    "下於视也区网心查劑對毒區能長长原後设數到务来播過习党息机现可現经看代期面狀第性军闻提來：外將分與眾防员公感冠系"
    "通美所已议理動量這将衛院醫保定場點揮领其關實好約统內報制名各說但深員府雄斯萬我续北因法間利治目預委明相入两縣运"
    "局續度战症學開安水打十更场万變交次于計自道他施坚海進土记色与资基过應电正学歲採起济事之向境际数布最導造強供請並"
    "调社流当特创点间都體就經；席书篩内肺西傳科导或式店研路炎俄称活项南技品质口調訊域此报三程克業组应立港举比機列规"
    "無这園球企證未包亿带源陳农元快聯記步升题藥支由》《计协移測專巴而据义达乌信界世改护往从辦位服去護株療击死站门整"
    "物如广當后任东管異决少亚金首江資得们问四據再育放华村级亡超互抗還精标究城集兩午較取統離团節二完构五里空线车态率"
    "議健京商结稳受果沒小另官疾略装驗尔节意達桃风然气并求断仍考春居队革照届州隔清山策优效落投足蘭拉【】務▪解風收航"
    "榮着洲众住引們传型總确种手使友除兰康群备织伊势結險游規办聚罗德措积延武常贸参女東智知運愿且约还簡漢准免教昨設觸"
    "沙费火聞命組週术河單—维嚴省產论促患复圖显速旅從环志讓兴子边處神必酒客需先每族擴责曾划极融模历英助专预搶类即灣"
    "障核帶转双低況燒马监突停干初见配无思件营網試線李形致史做验門处許溪宣欧把继問影廠呼繼别格納追歐条绿宜電想权跡告"
    "司周創老非医礁铁回急／依乡易累善贯顯福止变朗灾別則讀警础題維費走批署際单卫坦值林濟隨越阿貨輕罩緊透舉被只排減針"
    "師反纪協波范鳳獎陽亞切围媒降讲很隊滿載認莫視括根紧严瑞按望百彻话访观识连扩紀食何响说检車凰著青器益抽些粮袭陰启"
    "破始认響選谈审張閱字哈景頭争价热須備况层溫錄士尼米险古王号澳"
)
_RANK = {char: rank for rank, char in enumerate(COMMON_CHARS)}


# ASCII characters by how common they are in these texts, case folded (the rest count as rare):
# counted in xwlb and tw_news, where most letters come from URLs.
COMMON_ASCII = " 201t/.cv3o5ism4hed69p87lanr:()[]u-gfbwy%kjzxq,+>|@!';~=&?\t\"$_\\#<"
MEMO_CHARS = 40  # LineRules remember their answer for lines this short...
MEMO_LINES = 50_000  # ... this many at a time (then they start again)
_UNKNOWN = object()
CONTEXT_CHARS = 2  # the regex checks up to two characters of the literal either side of its trigger
_ASCII_RANK = {char: rank for rank, char in enumerate(COMMON_ASCII)}


def trigger_offset(literal: str) -> int:
    """Where the literal's trigger is: its least common non-ASCII character (the first of
    equals), or, in an all-ASCII literal, its least common ASCII character."""
    if literal.isascii():
        ranks = [_ASCII_RANK.get(char.lower(), len(_ASCII_RANK)) for char in literal]
    else:
        ranks = [-1 if char.isascii() else _RANK.get(char, len(_RANK)) for char in literal]
    return ranks.index(max(ranks))


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
        # trigger -> (literal, offset of the trigger in it, whether it has cased letters, its rules)
        self._by_trigger: dict[str, list[tuple[str, int, bool, tuple[Rule, ...]]]] = {}
        windows = []
        for literal, literal_rules in by_literal.items():
            offset = trigger_offset(literal)
            cased = any(char.lower() != char.upper() for char in literal)
            entry = (literal, offset, cased, tuple(literal_rules))
            self._by_trigger.setdefault(literal[offset], []).append(entry)
            windows.append(trigger_window(literal, offset))
        self._triggers = regex_cache.compile(trigger_pattern(windows)) if windows else None

    def rules_by_line(self, text: str, lines: list[str] | None = None) -> dict[int, tuple[Rule, ...]]:
        """Line index (in ``text.split("\\n")``, or ``lines``) -> candidate rules, in pack order."""
        if self._triggers is None:
            return {}
        # Most documents hold no trigger: one search says so without finditer's scanner object.
        first = self._triggers.search(text)
        if first is None:
            return {}
        hits: list[tuple[int, tuple[Rule, ...]]] = []
        get = self._by_trigger.get
        for match in self._triggers.finditer(text, first.start()):  # look-behinds see before it
            position = match.start()
            for literal, offset, cased, rules in get(text[position].lower(), ()):
                start = position - offset
                if start < 0:
                    continue
                if cased:
                    if text[start : start + len(literal)].lower() == literal:
                        hits.append((start, rules))
                elif text.startswith(literal, start):
                    hits.append((start, rules))
        if not hits:
            return {}
        if len(hits) > 4:
            starts = line_starts(lines if lines is not None else text.split("\n"))
            numbers = [bisect.bisect_right(starts, position) - 1 for position, _rules in hits]
        else:  # a few hits: counting the newlines before each is cheaper than the line offsets
            numbers = [text.count("\n", 0, position) for position, _rules in hits]
        found: dict[int, dict[str, Rule]] = {}
        for number, (_position, rules) in zip(numbers, hits, strict=True):
            bucket = found.setdefault(number, {})
            for rule in rules:
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
    the start). A rule whose ``starts`` are known (the characters its match
    can start with) is only tried on lines that start with one of them; the
    others on every line they are given. A line longer than a rule's
    ``max_chars`` is not tried (for prefix rules ``max_chars`` bounds the
    lead-in instead), nor, for a rule with literals, a line without one of
    them.

    The rules of one first character are tried as one alternation
    (``RuleAlternation``), except weak rules that may match anywhere in the
    line: those are searched one by one. ``dispatch=False`` tries every rule,
    one by one (the reference).
    """

    def __init__(self, rules: Sequence[Rule], mode: str, dispatch: bool = True) -> None:
        if mode not in ("search", "fullmatch", "prefix"):
            raise ValueError(f"unknown mode {mode!r}")
        self.rules = list(rules)
        self.mode = mode
        self.fullmatch = mode == "fullmatch"
        self.longest = max((r.max_chars for r in self.rules), default=0)
        starts = [r.starts if dispatch else None for r in self.rules]
        self.always = tuple(r for r, chars in zip(self.rules, starts, strict=True) if chars is None)
        self.dispatch: dict[str, tuple[Rule, ...]] = {}
        for char in set().union(*(chars for chars in starts if chars is not None)):
            self.dispatch[char] = tuple(
                r for r, chars in zip(self.rules, starts, strict=True) if chars is None or char in chars
            )
        # The longest line any candidate of a first character may match (0: none): a caller skips
        # longer lines without a call.
        self.always_reach = max((r.max_chars for r in self.always), default=0)
        self.reach = {char: max(r.max_chars for r in rules) for char, rules in self.dispatch.items()}
        self._order = {rule.name: number for number, rule in enumerate(self.rules)}
        # Tried one by one, each behind its own checks: rules with literals (the regex only runs on a
        # line that has one: a pattern can be slow on a long line), and weak rules that may match
        # anywhere in the line (an alternation would prefer an earlier position to an earlier rule).
        # The rest go into alternations.
        alone = [
            r
            for r in self.rules
            if (r.literals and mode != "prefix")
            or (mode == "search" and r in self.always and not is_anchored(r.pattern))
        ]
        self._alone_reach = max((r.max_chars for r in alone), default=0)
        self._alone = {char: tuple(r for r in rules if r in alone) for char, rules in self.dispatch.items()}
        self._alone = {char: rules for char, rules in self._alone.items() if rules}
        self._alone_other = tuple(r for r in self.always if r in alone)
        self._has_literal = {
            r.name: regex_cache.compile("|".join(re.escape(literal) for literal in r.literals)).search
            for r in self.rules
            if r.literals
        }
        # First character -> the alternations to try (built on first use, shared: boilerplate_plans).
        self._plans = None
        if dispatch:
            self._plans = shared_plans(self.rules, self.dispatch, self.always, alone, self.fullmatch)
        # Short lines recur (a site's footer in every article): their answers are remembered.
        self._memo: dict[str, Rule | None] = {}

    def rule_for(self, line: str) -> Rule | None:
        """The first rule that matches ``line`` (search and fullmatch modes)."""
        size = len(line)
        if self._plans is None:
            if size > self.longest:
                return None
            return self._first_of(self.dispatch.get(line[0], self.always), line, size)
        memo = self._memo
        if size <= MEMO_CHARS:
            found = memo.get(line, _UNKNOWN)
            if found is not _UNKNOWN:
                return found  # type: ignore[return-value]
        first_char = line[0]  # a new string for a Chinese character: made and hashed once
        limits, alternations = self._plans[first_char]
        found = None
        number = bisect.bisect_left(limits, size)
        if number < len(limits):
            alternation = alternations[number]
            first = alternation.first(line)
            if first is not None:
                found = alternation.rules[first]
        if size <= self._alone_reach:
            rules = self._alone.get(first_char, self._alone_other)
            alone = self._first_of(rules, line, size) if rules else None
            if alone is not None and (found is None or self._order[alone.name] < self._order[found.name]):
                found = alone
        if size <= MEMO_CHARS:
            if len(memo) >= MEMO_LINES:
                memo.clear()
            memo[line] = found
        return found

    def _first_of(self, rules: Sequence[Rule], line: str, size: int) -> Rule | None:
        """The first of ``rules`` that matches ``line``, one by one."""
        low = None
        fullmatch = self.fullmatch
        for rule in rules:
            if size > rule.max_chars:
                continue
            if rule.literals:
                if low is None:
                    low = line.lower()
                if self._has_literal[rule.name](low) is None:
                    continue
            if (rule.regex.fullmatch if fullmatch else rule.regex.search)(line) is not None:
                return rule
        return None

    def first_prefix(self, line: str) -> tuple[Rule, re.Match[str]] | None:
        """The first prefix rule that matches at the start of ``line``, and its match."""
        rules: Sequence[Rule] = self.dispatch.get(line[0], self.always)
        if self._plans is not None:
            alternations = self._plans[line[0]][1]
            if not alternations:
                return None
            alternation = alternations[0]  # every rule: for a prefix rule max_chars bounds the lead-in
            hit = alternation.first_match(line)
            if hit is None:
                return None
            number, match = hit
            rules = alternation.rules[number:]
            if 0 < match.end() <= rules[0].max_chars:
                return rules[0], match
            rules = rules[1:]
        for rule in rules:
            prefix = rule.match_prefix(line)
            if prefix is not None:
                return rule, prefix
        return None


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


def trigger_window(literal: str, offset: int) -> tuple[str, str, str]:
    """The characters of ``literal`` that the trigger regex checks: up to ``CONTEXT_CHARS``
    before the trigger, the trigger, and up to ``CONTEXT_CHARS`` after it."""
    return (
        literal[max(0, offset - CONTEXT_CHARS) : offset],
        literal[offset],
        literal[offset + 1 : offset + 1 + CONTEXT_CHARS],
    )


def trigger_pattern(windows: Iterable[tuple[str, str, str]]) -> str:
    """A regex that matches (one character long) at each trigger surrounded by its window.

    A window is (before, trigger, after): the trigger is matched, what is
    before it by a look-behind and what is after it by a look-ahead, so that
    every match is the trigger alone and ``finditer`` sees every position.
    ASCII letters match in either case; each branch starts with a plain
    character so that ``re`` skips at C speed over characters that start none.
    """
    around: dict[str, set[tuple[str, str]]] = {}
    for before, trigger, after in windows:
        around.setdefault(trigger, set()).add((before, after))

    def cases(char: str) -> list[str]:
        return sorted({char.lower(), char.upper()}) if char.isascii() and char.isalpha() else [char]

    def folded(text: str) -> str:
        return "".join(
            f"[{''.join(cases(char))}]" if len(cases(char)) > 1 else re.escape(char) for char in text
        )

    branches = []
    for trigger, contexts in sorted(around.items()):
        checks = []
        for before, after in sorted(contexts):
            behind = f"(?<={folded(before + trigger)})" if before else ""
            ahead = f"(?={folded(after)})" if after else ""
            checks.append(behind + ahead)
        condition = "" if "" in checks else "(?:" + "|".join(checks) + ")"
        branches += [re.escape(case) + condition for case in cases(trigger)]
    return "|".join(branches)
