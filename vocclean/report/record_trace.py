"""Follow one record through a chain: its text before, and the record as the chain leaves it.

The whole corpus goes through the steps up to the record (duplicates and
learned boilerplate depend on the records before it), then the run stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vocclean.errors import VoccleanError
from vocclean.io.readers import ReadOptions, read_inputs
from vocclean.io.sources import expand_inputs
from vocclean.pipeline import Pipeline
from vocclean.record import Record
from vocclean.runner import RunOptions, inputs_are_files
from vocclean.steps.base import Step


@dataclass
class Trace:
    """``before`` is the text as read (undecoded bytes shown as UTF-8); ``record`` as it came out."""

    before: str
    record: Record
    steps: list[str]


def trace_record(steps: list[Step], options: RunOptions, record_id: str) -> Trace:
    """The record whose id (or FILE:LINE source) is ``record_id``, before and after ``steps``."""
    inputs = expand_inputs(options.inputs)
    read_options = ReadOptions(options.text_field, options.id_field, options.max_record_bytes)
    before: dict[str, str] = {}

    def wanted(records: Iterator[Record]) -> Iterator[Record]:
        for record in records:
            if record.id == record_id or record.source == record_id:
                text = (
                    record.text if record.text is not None else (record.raw or b"").decode("utf-8", "replace")
                )
                before[record.source] = text
            yield record

    def replay() -> Iterator[Record]:
        return read_inputs(inputs, read_options)

    pipeline = Pipeline(steps)
    found: list[Record] = []

    def on_reject(record: Record) -> None:
        if record.source in before:
            found.append(record)

    records = wanted(read_inputs(inputs, read_options))
    for record in pipeline.run(records, on_reject, replay if inputs_are_files(options) else None):
        if record.source in before:
            found.append(record)
        if found:
            break
    if not found:
        where = ", ".join(options.inputs)
        raise VoccleanError(f"no record with id {record_id!r} in {where}")
    record = found[0]
    return Trace(before[record.source], record, [step.name for step in pipeline.steps])
