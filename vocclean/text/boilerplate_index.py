"""The pre-filters of the boilerplate matcher: which rules may match which lines?

``LineRules`` tries rules line by line, only those that can start with the
line's first character (``Rule.starts``) and, for rules with literals, only
when the line contains one.

``LiteralIndex`` is for the rules that may match any line whose start cannot
be bounded (a strong rule such as ``[^。]{0,30}扫码…``): they are only tried on
lines that contain one of their literals, found in one cheap pass over the
whole text:

- Literals that start with a non-ASCII character (Chinese) are found through
  one *trigger* character each, their least common character by
  ``COMMON_CHARS``: a regex character class of the triggers scans the text
  at C speed, and at each trigger found only the literals with that trigger
  and the same next character are compared in place (``str.startswith`` at
  the right offset; lower-cased first when the literal has letters). The choice of trigger changes the
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

from vocclean.text.boilerplate_rules import Rule

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
        # trigger + the (lower-cased) character after it -> (literal, offset of the trigger in it,
        # whether it has cased letters); a literal that ends with its trigger is under the trigger alone.
        self._by_trigger: dict[str, list[tuple[str, int, bool]]] = {}
        for literal in by_literal:
            if not literal[0].isascii():
                trigger = trigger_char(literal)
                offset = literal.index(trigger)
                cased = any(char.lower() != char.upper() for char in literal)
                self._by_trigger.setdefault(literal[offset : offset + 2], []).append((literal, offset, cased))
        # One alternation of the keys (a trigger, or a trigger and the next character): the regex
        # skips at C speed to a trigger and checks the next character before Python sees a match.
        keys = sorted(self._by_trigger)
        self._triggers = re.compile(trie_pattern(keys, fold_ascii_case=True)) if keys else None

    def rules_by_line(self, text: str, lines: list[str] | None = None) -> dict[int, tuple[Rule, ...]]:
        """Line index (in ``text.split("\\n")``, or ``lines``) -> candidate rules, in pack order."""
        hits: list[tuple[int, str]] = []
        if self._triggers is not None:
            get = self._by_trigger.get
            search = self._triggers.search
            match = search(text)
            while match is not None:
                position = match.start()
                found = match.group().lower()
                # The search resumes one character on (a key may start inside this one); the
                # alternation reports the longer key, and the trigger alone may be a key too.
                match = search(text, position + 1)
                for key in (found, found[0]) if len(found) == 2 else (found,):
                    for literal, offset, cased in get(key, ()):
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
        if len(hits) > 4:
            starts = line_starts(lines if lines is not None else text.split("\n"))
            numbers = [bisect.bisect_right(starts, position) - 1 for position, _literal in hits]
        else:  # a few hits: counting the newlines before each is cheaper than the line offsets
            numbers = [text.count("\n", 0, position) for position, _literal in hits]
        found: dict[int, dict[str, Rule]] = {}
        for number, (_position, literal) in zip(numbers, hits, strict=True):
            bucket = found.setdefault(number, {})
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
    the start). A rule whose ``starts`` are known (the characters its match
    can start with) is only tried on lines that start with one of them; the
    others on every line they are given. A line longer than a rule's
    ``max_chars`` is not tried (for prefix rules ``max_chars`` bounds the
    lead-in instead), nor, for a rule with literals, a line without one of
    them. ``dispatch=False`` tries every rule (the reference).
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
        self._any_prefix = _union(self.rules) if mode == "prefix" else None
        self.reach = {char: max(r.max_chars for r in rules) for char, rules in self.dispatch.items()}

    def rule_for(self, line: str) -> Rule | None:
        """The first rule that matches ``line`` (search and fullmatch modes)."""
        size = len(line)
        if size > self.longest:
            return None
        low = None
        fullmatch = self.fullmatch
        for rule in self.dispatch.get(line[0], self.always):
            if size > rule.max_chars:
                continue
            if rule.literals:
                if low is None:
                    low = line.lower()
                if not any(literal in low for literal in rule.literals):
                    continue
            if (rule.regex.fullmatch if fullmatch else rule.regex.search)(line) is not None:
                return rule
        return None

    def first_prefix(self, line: str) -> tuple[Rule, re.Match[str]] | None:
        """The first prefix rule that matches at the start of ``line``, and its match."""
        if self._any_prefix is not None and self._any_prefix.match(line) is None:
            return None  # no prefix rule can match here: one regex call instead of one per rule
        for rule in self.dispatch.get(line[0], self.always):
            match = rule.match_prefix(line)
            if match is not None:
                return rule, match
        return None


def _union(rules: Sequence[Rule]) -> re.Pattern[str] | None:
    """One pattern that matches where any of the rules' patterns matches (None if there are no
    rules, or if a pattern has groups: a backreference would change meaning in the union)."""
    if not rules or any(r.regex.groups for r in rules):
        return None
    parts = [f"(?{'i' if r.regex.flags & re.IGNORECASE else ''}:{r.pattern})" for r in rules]
    try:
        return re.compile("|".join(parts))
    except re.error:
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
