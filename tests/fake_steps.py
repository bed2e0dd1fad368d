"""Small stand-ins for the five steps, annotating and counting the way the real ones do.

They let the check and report machinery be tested on their own: each fake
recognises one obvious marker (a QR prompt, a repeated line, "Ã", "锟斤拷"...)
and reports it with the real step's annotation keys, stats keys and rejections.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from difflib import SequenceMatcher

from vocclean.record import Record
from vocclean.steps.base import RecordStep, Step

BOILERPLATE = {"扫描二维码": ("qr-follow", "zh-qr-scan"), "免责声明": ("disclaimer", "zh-disclaimer")}
TRADITIONAL, SIMPLIFIED = "這們國", "这们国"
ZH_COMMA = re.compile(r",(?=[\u4e00-\u9fff])")


class FakeFixEncoding(RecordStep):
    name = "fix-encoding"
    accepts_bytes = True

    def process(self, record: Record) -> Record:
        if record.text is None and record.raw is not None:
            if record.raw.startswith(b"\x00\x00"):
                return record.reject(self.name, "binary data, not text")
            try:
                record.text, encoding = record.raw.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                record.text, encoding = record.raw.decode("gb18030", errors="replace"), "gb18030"
            record.raw = None
            record.annotate(encoding=encoding)
            self.stats[f"encoding/{encoding}"] += 1
        text = record.text or ""
        if "Ã" in text:
            fixed = text.encode("latin-1", errors="ignore").decode("utf-8", errors="ignore")
            record.annotate(mojibake=[{"kind": "utf8-as-latin1", "start": 0, "length": len(text)}])
            self.stats["mojibake/utf8-as-latin1"] += 1
            text = fixed
        if "\u200b" in text:
            record.annotate(junk_removed=text.count("\u200b"))
            self.stats["junk_removed/chars"] += text.count("\u200b")
            text = text.replace("\u200b", "")
        if "锟斤拷" in text:
            record.annotate(unrecoverable={"chars": 3, "ratio": 0.01})
            self.stats["unrecoverable/docs"] += 1
        record.text = text
        return record


class FakeNormalizeScript(RecordStep):
    name = "normalize-script"

    def process(self, record: Record) -> Record:
        text = record.text or ""
        traditional = any(c in text for c in TRADITIONAL)
        simplified = any(c in text for c in SIMPLIFIED)
        script = "mixed" if traditional and simplified else "traditional" if traditional else "simplified"
        record.annotate(script=script)
        self.stats[f"script/{script}"] += 1
        if script == "traditional":
            text = text.translate(str.maketrans(TRADITIONAL, SIMPLIFIED))
            record.annotate(converted="t2s")
            self.stats["converted/t2s"] += 1
        commas = len(ZH_COMMA.findall(text))
        if commas:
            text = ZH_COMMA.sub("，", text)
            record.annotate(punctuation_rules={"zh-punctuation": commas})
            self.stats["punctuation_rule/zh-punctuation"] += commas
        record.text = text
        return record


class FakeStripBoilerplate(RecordStep):
    name = "strip-boilerplate"

    def process(self, record: Record) -> Record:
        lines = (record.text or "").split("\n")
        kept, removed = [], []
        for line in lines:
            hit = next((kind_rule for marker, kind_rule in BOILERPLATE.items() if marker in line), None)
            if hit is None:
                kept.append(line)
                continue
            kind, rule = hit
            removed.append({"line": line, "kind": kind, "rule": rule})
            self.stats[f"removed_lines/{kind}"] += 1
            self.stats[f"removed_lines_rule/{rule}"] += 1
            self.stats[f"removed_chars/{kind}"] += len(line)
        if not removed:
            return record
        record.annotate(boilerplate=removed, removed_lines=len(removed))
        if not any(line.strip() for line in kept):
            return record.reject(self.name, "the whole article is boilerplate")
        record.text = "\n".join(kept)
        return record


class FakeDedupParagraphs(RecordStep):
    name = "dedup-paragraphs"

    def process(self, record: Record) -> Record:
        lines = (record.text or "").split("\n")
        seen: dict[str, int] = {}
        kept, removed = [], []
        for number, line in enumerate(lines):
            key = line.strip()
            if len(key) >= 8 and key in seen:
                removed.append({"paragraph": number, "repeats": seen[key], "similarity": 1.0, "text": key})
                self.stats["removed_paragraphs/in-doc-exact"] += 1
                self.stats["removed_chars/dedup-paragraphs"] += len(line)
                continue
            seen.setdefault(key, number)
            kept.append(line)
        if removed:
            record.annotate(repeated_paragraphs=removed)
            record.text = "\n".join(kept)
        return record


class FakeDedupArticles(Step):
    name = "dedup-articles"

    def __call__(self, records: Iterable[Record]) -> Iterator[Record]:
        kept: list[tuple[str, str]] = []
        sizes: Counter[str] = Counter()
        for record in records:
            text = record.text or ""
            match = None
            for keeper_id, keeper_text in kept:
                similarity = 1.0 if text == keeper_text else SequenceMatcher(None, text, keeper_text).ratio()
                if similarity >= 0.9:
                    match = (keeper_id, round(similarity, 4))
                    break
            if match is None:
                kept.append((record.id, text))
                record.annotate(cluster=record.id)
                yield record
                continue
            keeper_id, similarity = match
            kind = "exact" if similarity == 1.0 else "near"
            sizes[keeper_id] += 1
            self.stats[f"duplicates/{kind}"] += 1
            record.annotate(
                duplicate_of=keeper_id, similarity=similarity, duplicate_kind=kind, cluster=keeper_id
            )
            yield record.reject(
                self.name, f"duplicate of {keeper_id}", duplicate_of=keeper_id, similarity=similarity
            )
        for copies in sizes.values():
            self.stats[f"cluster_size/{copies + 1}"] += 1


def fake_chain() -> list[Step]:
    return [
        FakeFixEncoding(),
        FakeNormalizeScript(),
        FakeStripBoilerplate(),
        FakeDedupParagraphs(),
        FakeDedupArticles(),
    ]


class FieldPeek(RecordStep):
    """Notes which input fields it can see (it reads them)."""

    name = "field-peek"

    def process(self, record: Record) -> Record:
        record.annotate(seen=sorted(record.fields))
        return record


class BlindPeek(FieldPeek):
    """Notes which input fields it can see, saying it does not read them."""

    reads_fields = False


class WorkerFirst:
    """A mixin holding this process's first record until a worker has cleaned one (``armed``
    gives the flag file). At the end of its input this process takes back the chunks a worker
    has not started, so on a small input a freshly forked worker may get none; a test of what
    workers do has at least one chunk done there."""

    flag: str | None = None
    parent = os.getpid()

    @classmethod
    def armed(cls, directory) -> None:
        cls.flag, cls.parent = str(directory / "a-worker-cleaned-a-record"), os.getpid()

    def process(self, record):
        if os.getpid() != self.parent:
            if not os.path.exists(self.flag):
                open(self.flag, "w").close()
        else:
            deadline = time.monotonic() + 60
            while not os.path.exists(self.flag):
                assert time.monotonic() < deadline, "no worker cleaned a record in 60 s"
                time.sleep(0.001)
        return super().process(record)
