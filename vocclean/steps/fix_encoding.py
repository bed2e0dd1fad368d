"""`fix-encoding`: bytes to text, mojibake repaired, invisible junk stripped, lost bytes flagged."""

from __future__ import annotations

from collections import Counter

from vocclean.record import Record
from vocclean.steps.base import RecordStep, in_range
from vocclean.text.clean_gate import may_need_fixing
from vocclean.text.damage import find_unrecoverable
from vocclean.text.decode import NotText, decode_bytes, preferred_codec
from vocclean.text.junk import strip_c0_controls, strip_invisible_junk
from vocclean.text.mojibake import repair_mojibake

MAX_REPAIR_PASSES = 3  # a bound: a pass runs only when the one before it repaired something


class FixEncoding(RecordStep):
    """Decode plain-text inputs and repair the text of every record.

    ``encoding`` forces one codec for raw bytes (undecodable bytes are
    replaced and counted). ``drop_unrecoverable`` rejects a record whose
    share of unrecoverable characters (``锟斤拷``, U+FFFD, ``?`` between hanzi)
    is above it; None keeps every record and only annotates the damage.
    ``guess_lost_bytes``: where a wrong GB18030 decode lost the last byte of
    a UTF-8 character, guess the character from context (annotated as a
    ``guessed-char`` repair); False leaves U+FFFD there.
    """

    name = "fix-encoding"
    reads_fields = False
    accepts_bytes = True

    def __init__(
        self,
        encoding: str | None = None,
        drop_unrecoverable: float | None = None,
        guess_lost_bytes: bool = True,
    ) -> None:
        super().__init__()
        self.guess_lost_bytes = guess_lost_bytes
        self.encoding = preferred_codec(encoding) if encoding else None
        if drop_unrecoverable is not None:
            in_range("drop_unrecoverable", drop_unrecoverable, 0, 1)
        self.drop_unrecoverable = drop_unrecoverable

    def process(self, record: Record) -> Record:
        if record.text is None and record.raw is not None:
            try:
                decoded = decode_bytes(record.raw, self.encoding)
            except NotText as exc:
                return record.reject(self.name, str(exc), bytes=len(record.raw))
            record.text = decoded.text
            record.raw = None
            record.annotate(encoding=decoded.encoding)
            self.stats[f"encoding/{decoded.encoding}"] += 1
            if decoded.replaced_bytes:
                record.annotate(replaced_bytes=decoded.replaced_bytes)
                self.stats["replaced_bytes/bytes"] += decoded.replaced_bytes
        if record.text is None or not may_need_fixing(record.text):
            return record  # one scan clears most articles for every stage below
        # Controls first: one inside a damaged run would block its repair until a second run.
        text, controls = strip_c0_controls(record.text)
        text, fixes = repair_mojibake(text, guess_lost=self.guess_lost_bytes)
        text, removed = strip_invisible_junk(text)
        if fixes or removed:
            # A repair, or the junk's removal, can leave a damaged run that was not one before (ftfy
            # turning `Â»` into `»` next to a GBK-read-as-latin-1 run; a C1 control, which latin-1
            # mojibake needs left in place until now, inside one): repair again, as a next run would.
            for _ in range(MAX_REPAIR_PASSES - 1):
                text, freed = repair_mojibake(text, guess_lost=self.guess_lost_bytes)
                if not freed:
                    break
                fixes += freed
        if fixes:
            record.annotate(mojibake=[{"kind": f.kind, "start": f.start, "length": f.length} for f in fixes])
            self.stats.update(Counter(f"mojibake/{f.kind}" for f in fixes))
        removed += controls
        if removed:
            record.annotate(junk_removed=removed)
            self.stats["junk_removed/chars"] += removed
        record.text = text
        damage = find_unrecoverable(text)
        if damage.chars:
            record.annotate(unrecoverable={"chars": damage.chars, "ratio": round(damage.ratio, 4)})
            self.stats["unrecoverable/docs"] += 1
            if self.drop_unrecoverable is not None and damage.ratio > self.drop_unrecoverable:
                return record.reject(
                    self.name,
                    f"unrecoverable damage: {damage.chars} of {round(damage.chars / damage.ratio)} "
                    f"characters, {damage.ratio:.1%} (above --drop-unrecoverable {self.drop_unrecoverable})",
                    chars=damage.chars,
                    ratio=round(damage.ratio, 4),
                )
        return record
