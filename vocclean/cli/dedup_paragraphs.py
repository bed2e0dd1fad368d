"""`dedup-paragraphs`: the click command over vocclean.steps.dedup_paragraphs."""

from __future__ import annotations

import click

from vocclean.cli.params import Ratio
from vocclean.steps.dedup_paragraphs import DedupParagraphs


@click.command("dedup-paragraphs")
@click.option(
    "--similarity",
    type=Ratio(0.0, 1.0, min_open=True),
    default=0.85,
    show_default=True,
    help="Near repeats: rapidfuzz ratio of the normalised paragraphs, 0..1.",
)
@click.option(
    "--min-chars",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Shorter paragraphs (counting letters, digits, hanzi) are not fuzzy-matched "
    "and not compared across documents.",
)
@click.option(
    "--min-exact-chars",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Shorter paragraphs (dates, headings, markers) are removed only inside a repeated block.",
)
@click.option(
    "--max-edit-regions",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="A near repeat may differ from the earlier paragraph in at most this many places.",
)
@click.option(
    "--across-docs",
    is_flag=True,
    help="Also remove paragraphs seen in an earlier document of the stream (runs in one process).",
)
@click.option(
    "--max-docs-with-paragraph",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Across documents, keep a paragraph in the first N documents that have it and remove it "
    "from later ones (implies --across-docs; --across-docs alone means N=1).",
)
@click.option(
    "--max-index-paragraphs",
    type=click.IntRange(min=1),
    default=50_000_000,
    show_default=True,
    help="Bound of the cross-document index (16 bytes a paragraph); "
    "beyond it new paragraphs are not recorded.",
)
@click.option(
    "--fold-script", is_flag=True, help="Treat Traditional and Simplified forms as equal (opencc t2s)."
)
@click.option("--dry-run", is_flag=True, help="Print what would be removed on stderr; change nothing.")
def dedup_paragraphs_command(**options) -> DedupParagraphs:
    """Remove repeated paragraphs (lines): exact repeats after normalising
    width, punctuation, whitespace and case, near repeats by similarity, and
    repeated blocks such as an article pasted twice. The first occurrence is
    kept; the kept text is not rewritten. With --across-docs, also paragraphs
    that earlier documents already had (boilerplate appended to many
    articles). A document left with nothing goes to the rejects.

    \b
    Examples:
      vocclean -i articles.jsonl -o out.jsonl --annotate dedup-paragraphs
      vocclean -i articles.jsonl dedup-paragraphs --dry-run > /dev/null
      vocclean -i dump/ -o out.jsonl dedup-paragraphs --max-docs-with-paragraph 5
    """
    return DedupParagraphs(**options)
