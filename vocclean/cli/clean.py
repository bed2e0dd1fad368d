"""`clean`: every step in order, each built by its own command so that settings apply."""

from __future__ import annotations

import click

from vocclean.cli.actions import default_steps
from vocclean.cli.main import current_run_inputs


@click.command("clean")
@click.option(
    "--learn/--no-learn",
    default=None,
    help="Learn corpus-specific boilerplate (default: on when every input is a file, off for stdin).",
)
def clean_command(learn: bool | None) -> list:
    """Run all steps in order with their defaults (or the settings in
    vocclean.toml / VOCCLEAN_*): fix-encoding, normalize-script,
    strip-boilerplate, dedup-paragraphs, dedup-articles.

    \b
    Example:
      vocclean -i dump/ -o cleaned.jsonl --rejects rejects.jsonl clean
    """
    return default_steps(click.get_current_context(), current_run_inputs(), learn)
