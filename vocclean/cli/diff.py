"""`diff`: one record before and after a chain, for tuning rules.

``diff`` is a chain command whose own options come first and whose steps
follow it: ``vocclean diff -i CORPUS --id ID strip-boilerplate`` parses as the
diff command (with -i and --id) chained with strip-boilerplate, which is the
chain the record goes through. ``vocclean -i CORPUS diff --id ID`` works too.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import click

from vocclean.cli.actions import ChainAction, default_steps
from vocclean.io.writers import write_stdout
from vocclean.report.record_diff import DiffLine, diff_lines, diff_summary, label_for, removal_labels
from vocclean.report.record_trace import Trace, trace_record
from vocclean.runner import RunOptions
from vocclean.steps.base import Step

EXIT_SAME, EXIT_CHANGED = 0, 1


class DiffAction(ChainAction):
    name = "diff"

    def __init__(self, inputs: tuple[str, ...], record_id: str, color: bool | None) -> None:
        self.inputs = inputs
        self.record_id = record_id
        self.color = color

    def execute(self, steps: list[Step], options: RunOptions, ctx: click.Context) -> int:
        if self.inputs:
            options = replace(options, inputs=self.inputs)
        steps = steps or default_steps(ctx, options.inputs)
        trace = trace_record(steps, replace(options, jobs=1), self.record_id)
        color = sys.stdout.isatty() if self.color is None else self.color
        text = render_trace(trace, color)
        write_stdout(text)
        changed = trace.record.rejected or trace.record.text != trace.before
        return EXIT_CHANGED if changed else EXIT_SAME


def render_trace(trace: Trace, color: bool = False) -> str:
    record = trace.record
    out = [f"{record.id} ({record.source}) through {', '.join(trace.steps)}", ""]
    if record.rejection is not None:
        details = (
            f" {json.dumps(record.rejection.details, ensure_ascii=False)}" if record.rejection.details else ""
        )
        out.append(
            _style(f"rejected by {record.rejection.step}: {record.rejection.reason}{details}", color, "red")
        )
        out.append("")
        lines = diff_lines(trace.before, "")
    else:
        lines = diff_lines(trace.before, record.text or "")
    notes = removal_labels(record.annotations)
    out.extend(_line(line, notes, color) for line in lines)
    counts = diff_summary(lines)
    out.append("")
    out.append(
        f"{counts['removed']} line(s) removed, {counts['changed']} changed, "
        f"{counts['added']} added, {counts['same']} unchanged"
    )
    annotations = {k: v for k, v in record.annotations.items() if v not in (None, [], {}, 0, False)}
    if annotations:
        out.append("what the steps recorded:")
        out.extend(f"  {key}: {json.dumps(value, ensure_ascii=False)}" for key, value in annotations.items())
    return "\n".join(out) + "\n"


def _style(text: str, color: bool, fg: str, strike: bool = False) -> str:
    return click.style(text, fg=fg, strikethrough=strike) if color else text


def _line(line: DiffLine, notes: dict[str, str], color: bool) -> str:
    if line.op == "same":
        return f"  {line.before}"
    if line.op == "added":
        return _style(f"+ {line.after}", color, "green")
    if line.op == "removed":
        why = label_for(notes, line.before or "")
        label = f"   [{why}]" if why else ""
        return _style(f"- {line.before}", color, "red", strike=True) + _style(label, color, "yellow")
    parts = []
    for span in line.spans:
        if span.op == "same":
            parts.append(span.text)
        elif color:
            parts.append(
                _style(span.text, color, "red" if span.op == "removed" else "green", span.op == "removed")
            )
        else:
            parts.append(f"[-{span.text}-]" if span.op == "removed" else f"{{+{span.text}+}}")
    return "~ " + "".join(parts)


@click.command("diff")
@click.option(
    "-i",
    "--input",
    "inputs",
    multiple=True,
    metavar="PATH",
    help="Corpus to read (replaces the global -i; either may be used).",
)
@click.option("--id", "record_id", required=True, help="The record's id, or its FILE:LINE source.")
@click.option(
    "--color/--no-color", default=None, help="Colour the output (default: when stdout is a terminal)."
)
def diff_command(inputs: tuple[str, ...], record_id: str, color: bool | None) -> DiffAction:
    """Show one record before and after the steps that follow (every
    step, as clean, when none follows): removed lines marked '-' with
    the rule that removed them, added '+', changed '~' with [-old-]{+new+}.
    Exit 0 when the chain leaves the record unchanged, 1 when it changes
    or drops it, 2 when there is no such record.

    \b
    Examples:
      vocclean diff -i corpus.jsonl --id 42 strip-boilerplate
      vocclean diff -i corpus.jsonl --id corpus.jsonl:17
      vocclean -i raw/ diff --id 2024/0412.txt fix-encoding normalize-script
    """
    return DiffAction(inputs, record_id, color)
