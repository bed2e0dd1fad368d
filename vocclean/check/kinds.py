"""What ``vocclean check`` looks for: the kinds of findings and how they fail a check."""

from __future__ import annotations

# Every kind of finding, in the order reports list them, with what it means.
KINDS: dict[str, str] = {
    "invalid-record": "input line or file that is not a valid record (bad JSON, no text field, too long)",
    "empty": "empty file or blank text",
    "tiny": "article shorter than --min-chars non-blank characters",
    "undecodable": "bytes that decode in no known encoding (replaced or rejected)",
    "non-utf8": "plain-text file in a legacy encoding (GB18030, Big5...), not UTF-8",
    "mojibake": "mis-decoded text that can be repaired (UTF-8 read as Latin-1, GBK...)",
    "unrecoverable": "damage no decoder can undo (锟斤拷, U+FFFD)",
    "junk": "control, private-use or zero-width characters",
    "mixed-script": "Traditional and Simplified Chinese mixed in one article",
    "other-script": "article in the other script than the corpus target (would be converted)",
    "punctuation": "punctuation or width that does not fit its context (ASCII , between hanzi...)",
    "boilerplate": "boilerplate line (disclaimer, QR prompt, credit, teaser...)",
    "repeated-paragraph": "paragraph repeated inside the article",
    "duplicate-exact": "article that is an exact copy of an earlier one",
    "duplicate-near": "article that is a near copy of an earlier one",
    "step-error": "a detector failed on the record (a bug: please report it)",
    "rejected": "record a detector would drop for another reason",
}

# --max-<name>-rate: the share of records with any finding of these kinds.
RATE_GROUPS: dict[str, tuple[str, ...]] = {
    "duplicate": ("duplicate-exact", "duplicate-near"),
    "mojibake": ("mojibake", "unrecoverable", "undecodable"),
    "boilerplate": ("boilerplate",),
}

DEFAULT_MAX_RATES: dict[str, float] = {"duplicate": 0.01, "mojibake": 0.001, "boilerplate": 0.05}

# Kinds that fail the check on a single occurrence unless --fail-on says otherwise.
DEFAULT_FAIL_ON: tuple[str, ...] = ("invalid-record", "step-error")


def parse_kinds(value: str | list[str] | tuple[str, ...]) -> frozenset[str]:
    """``KIND,KIND`` (or a list of kinds) as a set; ``all`` and ``none`` are shorthands.

    Raises ValueError naming the unknown kind and the known ones.
    """
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    kinds: set[str] = set()
    for item in (i.strip() for i in items):
        if not item or item == "none":
            continue
        if item == "all":
            kinds.update(KINDS)
        elif item in KINDS:
            kinds.add(item)
        else:
            raise ValueError(f"unknown kind {item!r}; known kinds: all, none, {', '.join(KINDS)}")
    return frozenset(kinds)
