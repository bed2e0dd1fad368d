"""The group's --report and --show-config options, and what the group does with them."""

from __future__ import annotations

import click

from vocclean.config import show_config
from vocclean.report.files import report_renderer


def _report_paths(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    for path in value:
        try:
            report_renderer(path)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return tuple(dict.fromkeys(value))  # a path given twice is one report


report_option = click.option(
    "--report",
    metavar="PATH",
    multiple=True,
    type=click.Path(dir_okay=False),  # several in one environment variable: separated by os.pathsep
    callback=_report_paths,
    help="Write a report of the run: PATH.json (numbers per step, removals by kind and rule, "
    "encodings, scripts, duplicate clusters, time) or PATH.html (the same as a page with charts "
    "and before/after samples). Repeatable: --report r.json --report r.html writes both.",
)

show_config_option = click.option(
    "--show-config",
    is_flag=True,
    allow_from_autoenv=False,
    help="Print every setting in effect and where it comes from (command line, VOCCLEAN_* "
    "environment, vocclean.toml or pyproject.toml [tool.vocclean], default), then exit.",
)


def before_chain(ctx: click.Context) -> None:
    """--show-config prints and exits; otherwise a command is required (as click would demand)."""
    if ctx.params.get("show_config"):
        click.echo(show_config(ctx), nl=False)
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        raise click.UsageError("Missing command.", ctx)
