"""`check`: run every detector over a corpus, change nothing, exit 1 when a threshold fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from vocclean.check import DEFAULT_FAIL_ON, DEFAULT_MAX_RATES, KINDS, Thresholds, check_corpus, parse_kinds
from vocclean.check.detectors import DEFAULT_MIN_CHARS
from vocclean.check.formats import FORMATS, render, summary_line
from vocclean.cli.actions import ChainAction, default_steps, on_command_line
from vocclean.cli.params import Ratio
from vocclean.io.writers import write_stdout
from vocclean.report.files import write_text_atomically
from vocclean.runner import RunOptions
from vocclean.steps.base import Step

EXIT_OK, EXIT_FAILED = 0, 1


class KindList(click.ParamType):
    """``KIND,KIND`` on the command line, a list in a config file; ``all`` and ``none`` allowed."""

    name = "kinds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> frozenset[str]:
        if isinstance(value, frozenset):
            return value
        try:
            return parse_kinds(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class CheckAction(ChainAction):
    name = "check"

    def __init__(self, thresholds: Thresholds, report_format: str, min_chars: int, max_findings: int) -> None:
        self.thresholds = thresholds
        self.report_format = report_format
        self.min_chars = min_chars
        self.max_findings = max_findings

    def execute(self, steps: list[Step], options: RunOptions, ctx: click.Context) -> int:
        if options.rejects and on_command_line(ctx, "rejects"):
            raise click.UsageError("check writes no records: --rejects does not apply to it")
        if options.output != "-" and (options.output.endswith("/") or Path(options.output).is_dir()):
            raise click.UsageError(
                f"check writes one report file, and -o {options.output} names a directory: "
                "name a file (-o check.xml)"
            )
        result = check_corpus(
            steps or default_steps(ctx, options.inputs),
            options,
            self.thresholds,
            min_chars=self.min_chars,
            max_findings=self.max_findings,
        )
        text = render(result, self.report_format)
        if options.output == "-":
            write_stdout(text)
        else:
            write_text_atomically(options.output, text)
            click.echo(summary_line(result), err=True)
        return EXIT_OK if result.passed else EXIT_FAILED


def _rate_option(name: str, what: str):
    return click.option(
        f"--max-{name}-rate",
        type=Ratio(0.0, 1.0),
        default=DEFAULT_MAX_RATES[name],
        show_default=True,
        metavar="R",
        help=f"Fail when more than this share of records has {what}.",
    )


@click.command("check")
@_rate_option("duplicate", "an exact or near duplicate earlier in the corpus")
@_rate_option("mojibake", "mojibake, unrecoverable damage or undecodable bytes")
@_rate_option("boilerplate", "boilerplate lines")
@click.option(
    "--fail-on",
    type=KindList(),
    default=",".join(DEFAULT_FAIL_ON),
    show_default=True,
    metavar="KIND,...",
    help=f"Fail on any finding of these kinds (all, none, or: {', '.join(KINDS)}).",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for people, json for programs, junit (XML) and github (workflow annotations) for CI.",
)
@click.option(
    "--min-chars",
    type=click.IntRange(min=0),
    default=DEFAULT_MIN_CHARS,
    show_default=True,
    help="Articles with fewer non-blank characters are reported as tiny.",
)
@click.option(
    "--min-records",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Fail when fewer records are read (an empty input is more often a broken one); 0 accepts it.",
)
@click.option(
    "--max-findings",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Findings listed per kind (0: all); the counts always cover every record.",
)
def check_command(
    max_duplicate_rate: float,
    max_mojibake_rate: float,
    max_boilerplate_rate: float,
    fail_on: frozenset[str],
    report_format: str,
    min_chars: int,
    min_records: int,
    max_findings: int,
) -> CheckAction:
    """Check a corpus without changing it: run every step as a detector
    and report what it would fix or drop, with file, line and record id.
    Exit 0 when every threshold holds, 1 when one fails (an empty input
    fails too: see --min-records), 2 on usage or I/O error. Steps named
    before or after check replace the default set (all steps, with their
    settings from vocclean.toml). The report goes to stdout, or to the
    file named by the global -o.

    \b
    Examples:
      vocclean -i corpus/ check
      vocclean -i corpus/ -o check.xml check --format junit
      vocclean -i corpus/ check --format github --fail-on all
      vocclean -i corpus/ strip-boilerplate --rules site.toml check
    """
    rates = {
        "duplicate": max_duplicate_rate,
        "mojibake": max_mojibake_rate,
        "boilerplate": max_boilerplate_rate,
    }
    thresholds = Thresholds(rates, fail_on, min_records)
    return CheckAction(thresholds, report_format, min_chars, max_findings)
