"""The Record: one article flowing through every step.

A record keeps every input field, in input order, so that what vocclean does
not touch comes back out unchanged. Steps read and replace ``text``; plain-text
inputs start with ``raw`` bytes and no text until a decoding step runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Rejection:
    """Why a record left the stream: the step that dropped it and a reason."""

    step: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Record:
    """One article.

    ``fields`` holds every input field in order (including the id and text
    fields when the input had them); ``text`` and ``id`` are the working
    copies that steps change and that the writer puts back into ``fields``.
    ``source`` is ``FILE:LINE`` (or the relative path of a plain-text file) and
    ``file`` the input file the record came from, used to route output.
    """

    id: str
    text: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = None
    source: str = ""
    file: str = ""
    annotations: dict[str, Any] = field(default_factory=dict)
    rejection: Rejection | None = None

    def annotate(self, **values: Any) -> None:
        """Add vocclean annotations (written under the ``vocclean`` key with --annotate)."""
        self.annotations.update(values)

    def reject(self, step: str, reason: str, **details: Any) -> Record:
        """Mark the record as dropped by ``step``; the pipeline sends it to the rejects file."""
        self.rejection = Rejection(step, reason, details)
        return self

    @property
    def rejected(self) -> bool:
        return self.rejection is not None


_TYPES = (
    ("id", str, "a str"),
    ("text", (str, type(None)), "a str or None"),
    ("raw", (bytes, type(None)), "bytes or None"),
    ("fields", dict, "a dict"),
    ("annotations", dict, "a dict"),
)


def check_record(record: object) -> None:
    """Raise ``TypeError`` for a record not of the documented types (one built by hand).

    Readers always build valid records; a program's own could otherwise fail
    deep inside a step, or be rejected as an internal error.
    """
    if not isinstance(record, Record):
        raise TypeError(f"records must be vocclean.record.Record objects, not {type(record).__name__}")
    for name, types, wanted in _TYPES:
        value = getattr(record, name)
        if not isinstance(value, types):
            who = f"record {record.id!r}" if isinstance(record.id, str) else "a record"
            hint = (
                "bytes to decode go in raw, as Record(id, None, raw=...), before FixEncoding"
                if name == "text" and isinstance(value, bytes)
                else "build records as Record(id: str, text: str | None)"
            )
            found = f"{type(value).__name__} ({value!r:.60})"
            raise TypeError(f"{who}: {name} must be {wanted}, not {found}; {hint}")
