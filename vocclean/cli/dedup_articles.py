"""`dedup-articles`: the click command over vocclean.steps.dedup_articles."""

from __future__ import annotations

import click

from vocclean.cli.params import Ratio
from vocclean.steps.dedup_articles import DedupArticles, parse_keep


def _check_keep(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        parse_keep(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command("dedup-articles")
@click.option(
    "--threshold",
    type=Ratio(0.0, 1.0, min_open=True),
    default=0.6,
    show_default=True,
    help="Near duplicates: Jaccard similarity of the shingle sets, verified on every candidate pair.",
)
@click.option(
    "--num-perm",
    type=click.IntRange(2, 65535),
    default=128,
    show_default=True,
    help="MinHash permutations (more: fewer missed candidates, more memory with --bands).",
)
@click.option(
    "--ngram",
    type=click.IntRange(1, 32),
    default=5,
    show_default=True,
    help="Units per shingle; a unit is one hanzi (kana, hangul) or one Latin word or number.",
)
@click.option(
    "--bands",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="LSH bands (rows = num-perm // bands); 0 derives them from --threshold. "
    "Each band costs 8 bytes a document.",
)
@click.option(
    "--lead-threshold",
    type=Ratio(0.0, 1.0),
    default=0.9,
    show_default=True,
    help="Also duplicates when the openings (first --lead-shingles shingles) are this similar: "
    "one article with different junk appended. 0 turns it off.",
)
@click.option(
    "--lead-shingles",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Length of the opening compared by --lead-threshold, in shingles (about characters).",
)
@click.option(
    "--keep",
    default="first",
    show_default=True,
    callback=_check_keep,
    metavar="first|longest|field:NAME",
    help="Which copy survives: the first seen (streams), the longest, or the smallest value of "
    "field NAME (e.g. field:date for the earliest). Ties go to the earliest record.",
)
@click.option(
    "--clusters",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="PATH",
    help="Write every cluster of two or more records (ids, kind, similarity) to this JSONL file.",
)
@click.option("--mark-only", is_flag=True, help="Annotate duplicates instead of removing them.")
@click.option(
    "--max-candidates",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Candidate pairs verified per document at most.",
)
@click.option(
    "--min-shingles",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Texts of fewer shingles (a line or two, a link) are matched as exact copies only.",
)
@click.option(
    "--within-days",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Near duplicates only when their dates are at most N days apart (the same ceremony a "
    "year later is another story); undated records are compared with all. Exact copies are "
    "duplicates whatever their dates. Default: dates ignored.",
)
@click.option(
    "--date-field",
    default="date",
    show_default=True,
    metavar="NAME",
    help="The field --within-days reads: 20220924, 2022-01-25 11:36:29, ISO 8601, 2022/1/25, "
    "2022年1月25日, or epoch seconds or milliseconds.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Records indexed together (shingled and hashed in one numpy pass; with -j, one task per batch).",
)
@click.option(
    "--tmp-dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Directory of the temporary shingle file (and records, with --keep other than first). "
    "Default: $TMPDIR.",
)
def dedup_articles_command(**options) -> DedupArticles:
    """Remove duplicate articles, keeping one copy of each story: exact
    copies (after folding width, punctuation, whitespace, case and
    Traditional to Simplified, for the comparison only) and near copies
    (MinHash LSH over character 5-grams, every candidate verified by the
    exact Jaccard similarity of the shingle sets). Removed copies go to the
    rejects with the id of the kept copy and the similarity.

    \b
    Examples:
      vocclean -i news.jsonl -o unique.jsonl --rejects dups.jsonl dedup-articles
      vocclean -i news.jsonl -o unique.jsonl dedup-articles --keep field:date --clusters clusters.jsonl
      vocclean -i news.jsonl -o unique.jsonl dedup-articles --within-days 7 --date-field published
      vocclean -i news.jsonl --annotate dedup-articles --mark-only --threshold 0.7
    """
    try:
        return DedupArticles(**options)
    except ValueError as exc:  # settings that are valid one by one but not together (--bands, --num-perm)
        raise click.UsageError(str(exc)) from None
