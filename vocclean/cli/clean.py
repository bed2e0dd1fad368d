"""`clean`: every step in order with its defaults."""

from __future__ import annotations

import click

from vocclean.cli.main import current_run_inputs
from vocclean.steps.dedup_articles import DedupArticles
from vocclean.steps.dedup_paragraphs import DedupParagraphs
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.steps.normalize_script import NormalizeScript
from vocclean.steps.strip_boilerplate import StripBoilerplate


@click.command("clean")
@click.option(
    "--learn/--no-learn",
    default=None,
    help="Learn corpus-specific boilerplate (default: on when every input is a file, off for stdin).",
)
def clean_command(learn: bool | None) -> list:
    """Run all steps in order with their defaults: fix-encoding,
    normalize-script, strip-boilerplate, dedup-paragraphs, dedup-articles.

    \b
    Example:
      vocclean -i dump/ -o cleaned.jsonl --rejects rejects.jsonl clean
    """
    if learn is None:
        learn = "-" not in current_run_inputs()
    return [
        FixEncoding(),
        NormalizeScript(),
        StripBoilerplate(learn=learn),
        DedupParagraphs(),
        DedupArticles(),
    ]
