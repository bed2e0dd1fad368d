"""`strip-boilerplate` and `learn-boilerplate`: the click commands over vocclean.steps.strip_boilerplate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vocclean.cli.params import Ratio
from vocclean.record import Record
from vocclean.steps.strip_boilerplate import LearnBoilerplate, StripBoilerplate, describe_removal
from vocclean.text.boilerplate import Removal
from vocclean.text.boilerplate_rules import KINDS, RulePackError
from vocclean.text.learned_boilerplate import DEFAULT_MIN_DOCS, DEFAULT_MIN_SHARE, ModelFileError

_KIND_COLOURS = {
    "disclaimer": "magenta",
    "qr-follow": "cyan",
    "reward-contact": "cyan",
    "credit": "blue",
    "end-marker": "red",
    "reading-prompt": "yellow",
    "related-teaser": "red",
    "navigation": "yellow",
    "metadata": "blue",
    "dateline": "green",
    "learned": "bright_black",
}


def report_styled(record: Record, removals: list[Removal]) -> None:
    """Dry-run report on stderr, coloured when stderr is a terminal (click strips colour otherwise)."""
    where = f" ({record.source})" if record.source else ""
    click.echo(click.style(f"{record.id}{where}", bold=True) + f": {len(removals)} removal(s)", err=True)
    for removal in removals:
        line = click.style(describe_removal(removal), fg=_KIND_COLOURS.get(removal.kind))
        click.echo(f"  {line}", err=True)


def _list_rules(step: StripBoilerplate) -> None:
    active = {rule.name for rule in step.rules}
    rows = [("NAME", "KIND", "WHERE", "ACTION", "PACK", "COMMENT")]
    for rule in step.all_rules:
        name = rule.name if rule.name in active else f"{rule.name} (disabled)"
        rows.append((name, rule.kind, rule.where, rule.action, Path(rule.pack).name, rule.comment))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[5]]))


def learn_threshold_options(prefix: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The learned-line thresholds, shared by strip-boilerplate (--learn-…) and learn-boilerplate."""
    options = [
        click.option(
            f"--{prefix}min-docs",
            type=click.IntRange(min=1),
            default=DEFAULT_MIN_DOCS,
            show_default=True,
            help="A learned line occurs in at least this many documents...",
        ),
        click.option(
            f"--{prefix}min-share",
            type=Ratio(0.0, 1.0),
            default=DEFAULT_MIN_SHARE,
            show_default=True,
            help="...and in at least this share of the documents.",
        ),
        click.option(
            f"--{prefix}max-chars",
            type=click.IntRange(min=2),
            default=60,
            show_default=True,
            help="Only lines up to this many characters are learned.",
        ),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@click.command("strip-boilerplate")
@click.option(
    "--rules",
    "rule_packs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Add a rule pack (TOML, same format as vocclean/rules/*.toml). Repeatable.",
)
@click.option("--no-builtin-rules", is_flag=True, help="Use only the --rules packs.")
@click.option(
    "--disable",
    multiple=True,
    metavar="KIND_OR_RULE",
    help=f"Turn off a rule by name, or a kind ({', '.join(KINDS)}, learned). Repeatable.",
)
@click.option("--list-rules", is_flag=True, help="Print the rules (after --rules and --disable) and exit.")
@click.option(
    "--keep-dateline",
    is_flag=True,
    help="Keep lead-ins and datelines (央视网消息：, 〔記者…報導〕) instead of stripping them.",
)
@click.option(
    "--head-lines",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Weak head rules fire in the first N kept lines.",
)
@click.option(
    "--tail-lines",
    type=click.IntRange(min=0),
    default=4,
    show_default=True,
    help="Weak tail rules fire in the last N kept lines.",
)
@click.option(
    "--cut-from",
    type=Ratio(0.0, 1.0),
    default=0.25,
    show_default=True,
    help="An END marker or related-articles heading cuts the rest only after this share of the text.",
)
@click.option(
    "--learn/--no-learn",
    default=False,
    show_default=True,
    help="Also remove short lines that recur across the corpus (two passes over file input; "
    "a first window of --learn-window records on stdin).",
)
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Apply learned lines saved by `vocclean learn-boilerplate`.",
)
@learn_threshold_options("learn-")
@click.option(
    "--learn-window",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="On stdin, learn from this many first records.",
)
@click.option(
    "--min-chars",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Reject a document left with fewer non-space characters (an emptied one always is).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print per document what would be removed and why (stderr); change nothing.",
)
def strip_boilerplate_command(
    rule_packs: tuple[Path, ...],
    no_builtin_rules: bool,
    disable: tuple[str, ...],
    list_rules: bool,
    model: Path | None,
    **options,
) -> StripBoilerplate:
    """Remove boilerplate lines: disclaimers, QR-code and follow prompts,
    reward and contact lines, source and editor credits, END markers, reading
    prompts, related-article teasers, page navigation and metadata, and
    lead-in datelines (stripped from the line). Weak rules fire only in the
    first and last lines, strong rules on whole lines anywhere; an END marker
    or related-articles heading in the last part cuts what follows. With
    --learn, short lines that recur in many documents go too. --annotate
    records every removal with its rule; an emptied document is rejected.

    \b
    Examples:
      vocclean -i articles.jsonl -o out.jsonl --annotate strip-boilerplate
      vocclean -i articles.jsonl strip-boilerplate --dry-run > /dev/null
      vocclean -i dump/ -o out.jsonl strip-boilerplate --learn --rules site.toml
      vocclean strip-boilerplate --list-rules --disable credit
    """
    try:
        step = StripBoilerplate(
            rules=rule_packs,
            builtin_rules=not no_builtin_rules,
            disable=disable,
            model=model,
            report=report_styled,
            **options,
        )
    except (RulePackError, ModelFileError) as exc:
        raise click.UsageError(str(exc)) from exc
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--disable") from exc
    if list_rules:
        _list_rules(step)
        click.get_current_context().exit(0)
    return step


@click.command("learn-boilerplate")
@click.option(
    "--model",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="PATH",
    help="Write the learned lines here (JSON).",
)
@learn_threshold_options("")
def learn_boilerplate_command(
    model: Path, min_docs: int, min_share: float, max_chars: int
) -> LearnBoilerplate:
    """Learn the corpus's recurring short lines (boilerplate no rule knows)
    and save them as a model for `strip-boilerplate --model`. A line counts
    once per document, a repeated copy of a document not at all; it is
    learned when it occurs in at least max(--min-docs, --min-share x
    documents) documents. Records pass through unchanged (write them to
    /dev/null, or chain more steps after this one).

    \b
    Example:
      vocclean -i dump/ -o /dev/null learn-boilerplate --model site-lines.json
      cat new.jsonl | vocclean strip-boilerplate --model site-lines.json
    """
    return LearnBoilerplate(model=model, min_docs=min_docs, min_share=min_share, max_chars=max_chars)
