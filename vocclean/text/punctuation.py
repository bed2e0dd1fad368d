"""Context-aware punctuation and width normalisation for mixed Chinese/English text.

Upstream tools often flatten punctuation: an NFKC pass turns ``，：；！？（）``
into ASCII between hanzi, a translation pass leaves ``。`` after English
sentences. The rules here put each mark back into the form its *neighbourhood*
wants, character by character, so an English paragraph inside a Chinese
article (or a Chinese name inside an English sentence) keeps its own marks.

Context of a mark = the nearest letter or hanzi on each side on the same line,
skipping digits, spaces, quotes and ASCII symbols. A Latin run counts as an
English sentence only when it starts after punctuation or a line start, or is
long (``我买了iPhone 12 Pro。`` keeps its ``。``; ``...he said。`` does not).

Never touched: URLs, e-mail addresses, numbers (decimals, thousands, times,
dates, versions), abbreviations (U.S., e.g., Co., Ltd.), code-like tokens
(backticks, calls, operators, snake_case, dotted names, markdown links),
and quotation marks of any kind.

Every rule has a name (see ``RULES``) and can be skipped. ``normalize`` returns
the new text and how many edits each rule made.

>>> rules = PunctuationRules()
>>> rules.normalize("会议指出,要(尽快)落实.")
('会议指出，要（尽快）落实。', {'zh-punctuation': 1, 'zh-parentheses': 2, 'zh-period': 1})
>>> rules.normalize("He attended the meeting。The meeting began at 10:30.")[0]
'He attended the meeting. The meeting began at 10:30.'
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from vocclean import regex_cache
from vocclean.text.damage import has_question_ghosts

__all__ = ["RULES", "RULE_NAMES", "PunctuationRules", "Rule", "normalize_punctuation"]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    description: str


RULES: tuple[Rule, ...] = (
    Rule("fullwidth-alnum", "full-width letters, digits and their ．－：／％ to ASCII: ９．３０ -> 9.30"),
    Rule("ideographic-indent", "ideographic spaces (U+3000) indenting a line are removed"),
    Rule("ideographic-latin-space", "an ideographic space between Latin words becomes one ASCII space"),
    Rule("zh-punctuation", "ASCII , : ; ! ? after hanzi become ，：；！？ (spaces after them dropped)"),
    Rule("zh-parentheses", "ASCII ( ) around or after Chinese become （ ）"),
    Rule("zh-period", "a . closing a Chinese sentence becomes 。"),
    Rule("latin-punctuation", "，：； after an English sentence become , : ; with a following space"),
    Rule("latin-period", "。 after an English sentence becomes . with a following space"),
    Rule("latin-sentence-space", "a missing space after . ! ? is restored: meeting.The -> meeting. The"),
    Rule("latin-comma-space", "a missing space after a comma between words is restored: education,Based"),
    Rule("latin-hyphen", "machine-translation hyphens are mended: high -quality -> high-quality"),
)
RULE_NAMES = tuple(rule.name for rule in RULES)

# --- character classes -----------------------------------------------------

# Chinese evidence: ideographs, kana, CJK symbols and punctuation (not U+3000),
# full-width punctuation. Quotes “”‘’ are neutral: English uses them too.
_CJK_RANGES = (
    "\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\U00020000-\U0003134f"
)
_IDEOGRAPH_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_LATIN_RANGES = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_CJK = regex_cache.compile(f"[{_CJK_RANGES}]")
_IDEOGRAPH = regex_cache.compile(f"[{_IDEOGRAPH_RANGES}]")
_LATIN = regex_cache.compile(f"[{_LATIN_RANGES}]")
_LATIN_WORD = regex_cache.compile(r"[A-Za-z\u00c0-\u024f]+")

_HAN, _LAT = "H", "L"
_CONTEXT_REACH = 16  # characters scanned each way for a letter or hanzi
# The nearest letter or hanzi on each side, skipping neutral characters but
# not a line end; group 1 is set when it is CJK. (Searching up to ``index``
# makes \Z match there, so the match is the last letter or hanzi before it.)
_NEUTRAL = f"[^\n{_CJK_RANGES}{_LATIN_RANGES}]{{0,{_CONTEXT_REACH}}}"
_SCRIPT_BEFORE = regex_cache.compile(f"(?:([{_CJK_RANGES}])|[{_LATIN_RANGES}]){_NEUTRAL}\\Z")
_SCRIPT_AFTER = regex_cache.compile(f"{_NEUTRAL}(?:([{_CJK_RANGES}])|[{_LATIN_RANGES}])")
_RUN_REACH = 400  # characters scanned back for the start of a Latin run
_MAX_PASSES = 4
# The last line break or CJK character before a place (searched up to it).
_RUN_BOUNDARY = regex_cache.compile(f"[\\n{_CJK_RANGES}][^\\n{_CJK_RANGES}]*\\Z")

# --- protected spans -------------------------------------------------------

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_ABBREVIATIONS = (
    "Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|No|Nos|Co|Ltd|Inc|Corp|Bros|vs|etc|Fig|Figs|Vol|Vols|pp|"
    "Jan|Feb|Mar|Apr|Aug|Sep|Sept|Oct|Nov|Dec|Gov|Gen|Col|Lt|Sgt|Rep|Sen|Hon|Rev|Dept|"
    "Univ|Assn|Ave|Blvd|Mt|approx|est|ca|cf|al|op|cit|ed|eds"
)
# Protection is checked only where a rule is about to fire, on the token
# around that place: the run of characters without whitespace or hanzi (a
# URL, an e-mail address, a number, ``meeting.The``). Branches that start with
# a run of token characters begin with a lookbehind so that they are tried at
# token starts only, never inside every word.
_TOKEN_START = r"(?<![A-Za-z0-9._%+\-])"
_PROTECTED_TOKEN = regex_cache.compile(
    "|".join(
        (
            rf"(?:(?:https?|ftp)[:：]//|www\.){_URL_CHARS}+",  # URL (also with a full-width colon)
            rf"{_TOKEN_START}[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+",  # e-mail
            rf"{_TOKEN_START}[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.(?:com|net|org|cn|gov|edu|io|tw|hk|info|co|uk)\b"
            rf"(?:/{_URL_CHARS}*)?",  # bare domain
            r"(?<![0-9])[0-9]+(?:[.,:][0-9]+)+",  # decimal, thousands, time, date, version
            r"\b(?:[A-Za-z]\.){2,}",  # U.S., e.g., a.m.
            rf"\b(?:{_ABBREVIATIONS})\.",  # Co., Ltd., Mr.
            r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\([^()\s]{0,80}\)",  # call f(x,y)
            rf"{_TOKEN_START}[A-Za-z0-9_.]*(?:==|!=|<=|>=|->|=>|::|&&|\|\|)[A-Za-z0-9_.]*",  # operators
            r"\b[A-Za-z0-9]*_[A-Za-z0-9_]*",  # snake_case
            r"\b[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+\b",  # dotted names: os.path, file.txt
        )
    ),
    re.ASCII,  # \b must treat hanzi as non-word
)
# Constructs that may hold spaces or hanzi, found per line (only lines with a
# ``(`` or a backtick); every branch starts with a literal, so scans are fast.
# Hanzi alone in parentheses are a gloss, not a call's arguments:
# ``COVID-19(新冠肺炎)``, ``AI(人工智能)``, ``案17592(长外孙女)``.
_PROTECTED_WIDE = regex_cache.compile(
    r"\[[^\]\n]*\]\([^()\s]*\)"  # markdown link [label](url)
    r"|`[^`\n]+`"  # inline code
    rf"|\((?<=[A-Za-z0-9_]\()(?![{_CJK_RANGES}]+\))[^()\n]{{0,80}}\)"  # arguments of a call: f(x, y)
)
_TOKEN_REACH = 120
# Every token-level construct holds one of these characters.
_TOKEN_TRIGGER = regex_cache.compile(r"[.@(_=<>:&|0-9\-/：]")
_TOKEN_HEAD = regex_cache.compile(f"[^\\s{_IDEOGRAPH_RANGES}]{{0,{_TOKEN_REACH}}}")
_URL_TRAILING = ".,;:!?)]'"

# --- candidates: cheap searches that find where a rule might fire -----------

_FULLWIDTH_ALNUM_RANGES = "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_FULLWIDTH_ALNUM = regex_cache.compile(f"[{_FULLWIDTH_ALNUM_RANGES}]")
_FULLWIDTH_TO_ASCII = {
    code: code - 0xFEE0
    for start, end in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(start, end + 1)
}
# Full-width marks inside a full-width token convert with its letters and
# digits (９．３０ -> 9.30, ４Ａ－１０９ -> 4A-109, ｗｗｗ．ａｂｃ．ｃｏｍ). Other
# marks next to hanzi (时间：９：３０, １．加强) are Chinese punctuation and stay.
# A match starts with one character of a class, so the engine skips ahead
# fast, and the branches then check what that character was.
_FULLWIDTH_TOKEN_MARKS = regex_cache.compile(
    f"[{_FULLWIDTH_ALNUM_RANGES}－＋](?:"
    "(?<=[－＋])(?=[０-９])"  # a sign or range dash before a digit: 为－０．８％, ９％－１０％
    f"|(?<=[{_FULLWIDTH_ALNUM_RANGES}])[．－：／＿＠]{{1,3}}(?=[{_FULLWIDTH_ALNUM_RANGES}])"  # ４Ａ－１０９
    "|(?<=[０-９])(?:％|，(?=[０-９]{3}(?![０-９])))"  # per cent after a digit, thousands: １，０００
    ")"
)
_FULLWIDTH_TOKEN_TO_ASCII = {
    **_FULLWIDTH_TO_ASCII,
    **{ord(mark): ord(mark) - 0xFEE0 for mark in "．－＋：／＿＠，％"},
}


def _token_to_ascii(token: re.Match[str]) -> str:
    return token[0].translate(_FULLWIDTH_TOKEN_TO_ASCII)


_IDEOGRAPHIC_INDENT = regex_cache.compile("^[ \t\u3000]*\u3000[ \t\u3000]*", re.MULTILINE)
_IDEOGRAPHIC_BETWEEN_LATIN = regex_cache.compile("(?<=[A-Za-z0-9.,;:!?'\")\\]])\u3000+(?=[A-Za-z0-9(\"'\\[])")
# ASCII marks that may sit in Chinese context. Marks right after a Latin
# letter (English, URLs), the dot of a decimal and markdown link targets
# ``](url)`` are passed over inside the regex engine; parentheses are always
# kept, they are decided in pairs. Every branch starts with a literal, so the
# engine can skip ahead to the next candidate character.
_ASCII_MARKS = regex_cache.compile(
    r"\]\([^()\s]*\)|,(?<![A-Za-z],)|:(?<![A-Za-z]:)|;(?<![A-Za-z];)|!(?<![A-Za-z]!)"
    r"|\?(?<![A-Za-z]\?)|\.(?<![A-Za-z0-9]\.)|\(|\)"
)
# Every Latin-context candidate in one scan. Each branch starts with the
# mark itself (a literal, so the engine skips ahead between marks) and checks
# its left neighbour with a lookbehind: a full-width mark after Latin text
# (not after ``hanzi”`` or ``hanzi5``, everywhere in Chinese), a sentence end
# or comma glued to the next word, a spaced hyphen.
_LATIN_BEFORE_MARK = f"[{_LATIN_RANGES}0-9)\\]\"'’”. \\-，。：；]"  # a full-width mark: see _mark_run_start
_CHINESE_BEFORE_MARK = f"[{_IDEOGRAPH_RANGES}][0-9)\\]\"'’”.]"
_LATIN_CANDIDATES = regex_cache.compile(
    "|".join(
        (
            *(
                f"{mark}(?<={_LATIN_BEFORE_MARK}{mark})(?<!{_CHINESE_BEFORE_MARK}{mark})"
                for mark in "，。：；"
            ),
            r"\.(?<=[a-z]\.)(?=[A-Z])",
            r"!(?<=[a-z]!)(?=[A-Z])",
            r"\?(?<=[a-z]\?)(?=[A-Z])",
            r",(?<=[a-z],)(?=[A-Za-z])",
            r"-(?<=[A-Za-z] -)(?=[a-z])",
        )
    )
)
_LATIN_MARK_RULES = {"，": "latin-punctuation", "：": "latin-punctuation", "；": "latin-punctuation"}

_TO_FULLWIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？"}
_TO_ASCII = {"，": ",", "：": ":", "；": ";", "。": "."}
_CLOSERS = set("”’」』）》)]\"'")
_OPENERS = set("“‘「『（《(\"'")
# Words before " -x" that make it a command-line flag, not a broken hyphen.
_COMMANDS = frozenset(
    (
        *("ls", "rm", "cp", "mv", "cd", "cat", "echo", "find", "sed", "awk", "grep", "tar", "chmod"),
        *("chown", "sudo", "apt", "brew", "ssh", "curl", "wget", "git", "make", "gcc", "rustc"),
        *("cargo", "go", "java", "node", "npm", "pip", "pip3", "python", "python3", "conda"),
        *("docker", "kubectl"),
    )
)


def _script_before(text: str, index: int) -> str | None:
    """The script (H or L) of the nearest letter or hanzi before ``index`` on its line."""
    match = _SCRIPT_BEFORE.search(text, max(0, index - 1 - _CONTEXT_REACH), index)
    return None if match is None else _HAN if match.group(1) else _LAT


def _script_after(text: str, index: int) -> str | None:
    """The script (H or L) of the nearest letter or hanzi after ``index`` on its line."""
    match = _SCRIPT_AFTER.match(text, index + 1)
    return None if match is None else _HAN if match.group(1) else _LAT


def _bracket_opener(text: str, close: int) -> int | None:
    """Where the bracket group that ``)`` or ``）`` at ``close`` closes opens, on its line."""
    depth = 0
    for j in range(close, max(-1, close - _RUN_REACH), -1):
        char = text[j]
        if char in ")）":
            depth += 1
        elif char in "(（":
            depth -= 1
            if depth == 0:
                return j
        elif char == "\n":
            return None
    return None


def _script_before_mark(text: str, index: int) -> str | None:
    """The script a mark at ``index`` follows, looking past a bracket group right before it.

    A parenthesis does not change the sentence it sits in: ``拜登(Joe Biden)。``
    closes a Chinese sentence and ``Center （CECC）, the`` goes on with an
    English one. The text before the opening bracket decides when it is Chinese
    or an English sentence; a Latin term embedded in Chinese
    (``因COVID-19(新冠肺炎),``) or nothing at all leaves it to the group.
    """
    if index and text[index - 1] in ")）":
        opener = _bracket_opener(text, index - 1)
        if opener is not None:
            script = _script_before(text, opener)
            if script == _HAN or (script == _LAT and _in_english_sentence(text, opener)):
                return script
    return _script_before(text, index)


def _in_english_sentence(text: str, index: int) -> bool:
    """Is the mark at ``index`` closing an English sentence (not a word inside Chinese)?

    The Latin run before it reaches back to the last CJK character or line
    start. A run that starts right after a hanzi (``我买了iPhone``) is a term
    embedded in Chinese unless it is long; one that starts after punctuation
    or a line start is a sentence once it has two words.
    """
    window_start = max(0, index - _RUN_REACH)
    boundary = _RUN_BOUNDARY.search(text, window_start, index)
    if boundary is None and window_start > 0:
        return True  # a run longer than the reach is English prose
    j = boundary.start() if boundary else -1
    run = text[j + 1 : index]
    words = len(_LATIN_WORD.findall(run))
    embedded = j >= 0 and _IDEOGRAPH.match(text[j]) is not None and run[:1].isalnum()
    return words >= 5 if embedded else words >= 2


def _short_hanzi_in_english(text: str, index: int) -> bool:
    """Is the hanzi run before ``index`` a short term inside English (``in 北京, Shanghai``)?

    The Latin text before it must be an English sentence, not a term embedded
    in Chinese (``他在Facebook上写道:``).
    """
    j = index - 1
    while j >= 0 and text[j] in _CLOSERS:
        j -= 1
    count = 0
    while j >= 0 and _IDEOGRAPH.match(text[j]):
        count += 1
        j -= 1
    if count == 0 or count > 4:
        return False
    term_start = j + 1
    while j >= 0 and text[j] == " ":
        j -= 1
    return j >= 0 and _LATIN.match(text[j]) is not None and _in_english_sentence(text, term_start)


class _Protected:
    """Is a place inside a URL, e-mail address, number, abbreviation or code?

    Token-level constructs are matched on the token around the place only;
    the few that may hold spaces (code, calls, markdown links) once per line
    that can have them.
    """

    __slots__ = ("_text", "_wide")

    def __init__(self, text: str) -> None:
        self._text = text
        self._wide: dict[int, tuple[list[int], list[int]]] = {}

    def covers(self, index: int) -> bool:
        text = self._text
        start, stop = index, max(0, index - _TOKEN_REACH)
        while start > stop and not (text[start - 1].isspace() or _IDEOGRAPH.match(text[start - 1])):
            start -= 1
        end = _TOKEN_HEAD.match(text, index).end()
        if _TOKEN_TRIGGER.search(text, start, end) is None:
            return self._covered_wide(index)  # a plain word: no token-level construct
        for match in _PROTECTED_TOKEN.finditer(text, start, end):
            span_start, span_end = match.span()
            if span_start > index:
                break
            if match.group().startswith(("http", "ftp", "www")):
                while span_end > span_start and text[span_end - 1] in _URL_TRAILING:
                    span_end -= 1
            if index < span_end:
                return True
        return self._covered_wide(index)

    def _covered_wide(self, index: int) -> bool:
        line_start = self._text.rfind("\n", 0, index) + 1
        starts, ends = self._wide.get(line_start) or self._wide_spans(line_start)
        k = bisect_right(starts, index) - 1
        return k >= 0 and index < ends[k]

    def _wide_spans(self, line_start: int) -> tuple[list[int], list[int]]:
        text = self._text
        line_end = text.find("\n", line_start)
        if line_end < 0:
            line_end = len(text)
        starts: list[int] = []
        ends: list[int] = []
        if text.find("(", line_start, line_end) >= 0 or text.find("`", line_start, line_end) >= 0:
            for match in _PROTECTED_WIDE.finditer(text, line_start, line_end):
                starts.append(match.start())
                ends.append(match.end())
        self._wide[line_start] = (starts, ends)
        return starts, ends


class PunctuationRules:
    """The punctuation and width rules, minus the skipped ones.

    ``PunctuationRules(skip={"latin-hyphen"})`` keeps every rule but that one.
    Unknown names raise ``ValueError``.
    """

    def __init__(self, skip: Iterable[str] = ()) -> None:
        skipped = frozenset(skip)
        unknown = sorted(skipped - set(RULE_NAMES))
        if unknown:
            raise ValueError(f"unknown rule {', '.join(unknown)}; rules are: {', '.join(RULE_NAMES)}")
        self.skipped = skipped
        self.active = frozenset(RULE_NAMES) - skipped

    def __repr__(self) -> str:
        return f"PunctuationRules(skip={sorted(self.skipped)!r})"

    def normalize(self, text: str) -> tuple[str, dict[str, int]]:
        """Return ``(new_text, {rule name: number of edits})`` (only rules that fired)."""
        fired: dict[str, int] = {}
        active = self.active
        # A converted mark changes the context of its neighbours (``(,会议``:
        # once ``(`` is ``（`` the comma is in Chinese context), so passes
        # repeat until nothing changes; real text settles after one.
        for _ in range(_MAX_PASSES):
            before = text
            text = self._normalize_width(text, fired, active)
            edits: list[tuple[int, int, str, str]] = []
            protected = _Protected(text)
            self._chinese_context(text, protected, edits, active)
            self._latin_context(text, protected, edits, active)
            if edits:
                text = _apply(text, edits, fired)
            elif text == before:
                break
        return text, fired

    # --- width ---------------------------------------------------------------

    @staticmethod
    def _normalize_width(text: str, fired: dict[str, int], active: frozenset[str]) -> str:
        if "fullwidth-alnum" in active and _FULLWIDTH_ALNUM.search(text):
            edits = len(_FULLWIDTH_ALNUM.findall(text))
            text, marks = _FULLWIDTH_TOKEN_MARKS.subn(_token_to_ascii, text)
            fired["fullwidth-alnum"] = fired.get("fullwidth-alnum", 0) + edits + marks
            text = text.translate(_FULLWIDTH_TO_ASCII)
        if "\u3000" in text:
            if "ideographic-indent" in active:
                text, count = _IDEOGRAPHIC_INDENT.subn("", text)
                if count:
                    fired["ideographic-indent"] = fired.get("ideographic-indent", 0) + count
            if "ideographic-latin-space" in active:
                text, count = _IDEOGRAPHIC_BETWEEN_LATIN.subn(" ", text)
                if count:
                    fired["ideographic-latin-space"] = fired.get("ideographic-latin-space", 0) + count
        return text

    # --- Chinese context: ASCII marks become full-width -----------------------

    def _chinese_context(self, text: str, protected: _Protected, edits: list, active: frozenset[str]) -> None:
        want_marks = "zh-punctuation" in active
        want_parens = "zh-parentheses" in active
        want_period = "zh-period" in active
        ghosts = "?" in text and has_question_ghosts(text)  # lost characters, not questions
        parens: list[int] = []
        for match in _ASCII_MARKS.finditer(text):
            i = match.start()
            char = text[i]
            if char == "]":
                continue  # a markdown link target
            if char in "()":
                if want_parens:
                    parens.append(i)
            elif char == ".":
                if want_period and _closes_chinese_sentence(text, i) and not protected.covers(i):
                    edits.append((i, i + 1, "。", "zh-period"))
            elif (
                want_marks
                and not (ghosts and char == "?")
                and _is_chinese_mark(text, i)
                and not protected.covers(i)
            ):
                end = i + 1
                while end < len(text) and text[end] == " ":
                    end += 1
                if end == len(text) or text[end] in "\r\n":
                    end = i + 1  # spaces before a line end are someone else's business
                edits.append((i, end, _TO_FULLWIDTH[char], "zh-punctuation"))
        if parens:
            _chinese_parentheses(text, parens, protected, edits)

    # --- Latin context: full-width marks become ASCII, spaces restored --------

    @staticmethod
    def _latin_context(text: str, protected: _Protected, edits: list, active: frozenset[str]) -> None:
        for match in _LATIN_CANDIDATES.finditer(text):
            i = match.start()
            char = text[i]
            if char in _TO_ASCII:
                edit = _latin_mark_edit(text, i, protected, active)
            elif char == ",":
                edit = "latin-comma-space" in active and _comma_space_edit(text, i, protected)
            elif char == "-":
                edit = "latin-hyphen" in active and _hyphen_edit(text, i - 1, protected)
            else:
                edit = "latin-sentence-space" in active and _sentence_space_edit(text, i, protected)
            if edit:
                edits.append(edit)


def _latin_mark_edit(text: str, i: int, protected: _Protected, active: frozenset[str]) -> tuple | None:
    char = text[i]
    rule = _LATIN_MARK_RULES.get(char, "latin-period")
    start = _mark_run_start(text, i)
    if rule not in active or _script_before_mark(text, start) != _LAT:
        return None
    if rule == "latin-punctuation" and _script_after(text, _mark_run_end(text, i)) == _HAN:
        return None  # ``He stresses，要…``: the clause that follows is Chinese
    if not _in_english_sentence(text, start) or protected.covers(i):
        return None
    following = text[i + 1 : i + 2]
    space = "" if not following or following.isspace() or following in _CLOSERS else " "
    return (i, i + 1, _TO_ASCII[char] + space, rule)


def _mark_run_start(text: str, index: int) -> int:
    """Where the run of full-width marks (and spaces) that ends at ``index`` starts.

    Every mark of a run (``U.S.。。，``) takes the decision of its first one, in
    one pass: judged one by one, each would turn Latin only once the one
    before it was converted, one more per pass.
    """
    while index > 0 and (text[index - 1] in _TO_ASCII or text[index - 1] == " "):
        index -= 1
    return index


def _mark_run_end(text: str, index: int) -> int:
    """The last mark of the run that ``index`` is in: the run is decided by what follows it as a whole.

    Judged one by one, each mark of ``U.S.，，：`` saw the next one as Chinese
    context and the run never settled.
    """
    while index + 1 < len(text) and (text[index + 1] in _TO_ASCII or text[index + 1] == " "):
        index += 1
    return index


def _ascii_word_start(text: str, end: int) -> int:
    start = end
    while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
        start -= 1
    return start


_DOMAIN_ENDINGS = frozenset({"com", "net", "org", "cn", "gov", "edu", "info"})


def _sentence_space_edit(text: str, mark: int, protected: _Protected) -> tuple | None:
    """``meeting.The`` -> ``meeting. The``, unless it is a domain, an identifier or an abbreviation."""
    word_start = _ascii_word_start(text, mark)
    word = text[word_start:mark]
    before = text[word_start - 1] if word_start else ""
    if len(word) < 2 or not word[-2:].islower() or not text[mark + 2 : mark + 3].islower():
        return None
    if before and (before in "._-@/\\" or (before.isascii() and before.isalnum())):
        return None  # part of a domain, path, e-mail or identifier
    after = mark + 1
    while after < len(text) and text[after].isascii() and text[after].isalpha():
        after += 1
    if text[mark + 1 : after].lower() in _DOMAIN_ENDINGS:
        return None  # a domain written with a capital: apple.Com
    if protected.covers(mark):
        return None
    return (mark + 1, mark + 1, " ", "latin-sentence-space")


def _comma_space_edit(text: str, comma: int, protected: _Protected) -> tuple | None:
    """``education,Based`` -> ``education, Based``; one-letter words (``x,y``) are left."""
    if comma < 2 or not (text[comma - 2].isascii() and text[comma - 2].isalpha()):
        return None
    after = text[comma + 1 : comma + 3]
    if not (len(after) == 2 and after.isascii() and after.isalpha()) or after[1].isupper():
        return None
    if protected.covers(comma):
        return None
    return (comma + 1, comma + 1, " ", "latin-comma-space")


def _hyphen_edit(text: str, space: int, protected: _Protected) -> tuple | None:
    """``high -quality`` -> ``high-quality``; command-line flags (``tar -xzf``, ``ls -la``) are left."""
    word_start = _ascii_word_start(text, space)
    word = text[word_start:space]
    tail_end = space + 2
    while tail_end < len(text) and "a" <= text[tail_end] <= "z":
        tail_end += 1
    after = text[tail_end : tail_end + 1]
    if len(word) < 2 or word.lower() in _COMMANDS or tail_end - (space + 2) < 3:
        return None
    if after and (after.isalnum() or after in "-_"):
        return None
    if word_start and not (text[word_start - 1].isspace() or _CJK.match(text[word_start - 1])):
        return None
    if protected.covers(space + 1):
        return None
    return (space, space + 1, "", "latin-hyphen")


def _is_chinese_mark(text: str, i: int) -> bool:
    char = text[i]
    if _script_before_mark(text, i) != _HAN:
        return False
    following = text[i + 1 : i + 3]
    if char == ":" and following == "//":
        return False
    if char == ":" and text[i - 1].isdigit() and _is_ascii_letter(following[:1]):
        return False  # a code glued to its digits: 0157:H7
    if char in "!?" and following[:1] == "=":
        return False
    return not (_script_after(text, i) == _LAT and _short_hanzi_in_english(text, i))


def _is_ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _closes_chinese_sentence(text: str, i: int) -> bool:
    if text[i - 1 : i] == "." or text[i + 1 : i + 2] == ".":
        return False  # an ellipsis ... is not a full stop
    j = i - 1
    while j >= 0 and text[j] in _CLOSERS:
        j -= 1
    if j < 0 or not _IDEOGRAPH.match(text[j]):
        return False
    following = text[i + 1 : i + 2]
    if following and not (
        following.isspace() or following in _OPENERS or following in _CLOSERS or _CJK.match(following)
    ):
        return False
    return _script_before_mark(text, i) == _HAN and not _short_hanzi_in_english(text, i)


def _chinese_parentheses(text: str, positions: list[int], protected: _Protected, edits: list) -> None:
    """Pair parentheses on each line and decide each pair (or stray one) by its context."""
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    strays: list[int] = []
    for i in positions:
        if text[i] == "(":
            stack.append(i)
        elif stack and "\n" not in text[stack[-1] : i]:
            pairs.append((stack.pop(), i))
        else:
            strays.append(i)
    strays.extend(stack)
    for open_, close in pairs:
        if text[open_ - 1 : open_] == "]":
            continue  # markdown link target: [label](url)
        before = _script_before(text, open_)
        inside = text[open_ + 1 : close]
        inside_han = _IDEOGRAPH.search(inside) is not None
        after = _script_after(text, close)
        chinese = (
            before == _HAN
            or (before is None and (inside_han or after == _HAN))
            or (inside_han and not _LATIN.search(inside) and after == _HAN)
        )
        if chinese and not (protected.covers(open_) or protected.covers(close)):
            edits.append((open_, open_ + 1, "（", "zh-parentheses"))
            edits.append((close, close + 1, "）", "zh-parentheses"))
    for i in strays:
        before, after = _script_before(text, i), _script_after(text, i)
        if {before, after} <= {_HAN, None} and _HAN in (before, after) and not protected.covers(i):
            edits.append((i, i + 1, "（" if text[i] == "(" else "）", "zh-parentheses"))


def _apply(text: str, edits: list[tuple[int, int, str, str]], fired: dict[str, int]) -> str:
    edits.sort(key=lambda edit: (edit[0], edit[1]))
    pieces: list[str] = []
    position = 0
    for start, end, replacement, rule in edits:
        if start < position:
            continue  # overlaps an earlier edit
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
        fired[rule] = fired.get(rule, 0) + 1
    pieces.append(text[position:])
    return "".join(pieces)


def normalize_punctuation(text: str, skip: Iterable[str] = ()) -> str:
    """Normalise ``text`` with every rule but those in ``skip`` (builds the rules each call)."""
    return PunctuationRules(skip).normalize(text)[0]
