"""`normalize-script`: the click command over vocclean.steps.normalize_script."""

from __future__ import annotations

import click
from click.core import ParameterSource

from vocclean.steps.normalize_script import MIXED_CHOICES, NormalizeScript
from vocclean.text.punctuation import RULE_NAMES, RULES
from vocclean.text.script import CONFIGS, TARGETS


def _list_rules(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    width = max(len(name) for name in RULE_NAMES)
    for rule in RULES:
        click.echo(f"{rule.name:<{width}}  {rule.description}")
    ctx.exit(0)


@click.command("normalize-script")
@click.option(
    "--to",
    type=click.Choice(tuple(TARGETS)),
    default="simplified",
    show_default=True,
    help="Target script. Only articles detected in the other script are converted.",
)
@click.option(
    "--config",
    type=click.Choice(CONFIGS),
    default=None,
    help="Use this opencc config instead of --to (e.g. t2tw, hk2s, jp2t).",
)
@click.option(
    "--phrases",
    is_flag=True,
    help="Convert vocabulary too: tw2sp for --to simplified, s2twp for taiwan, s2hkp for hongkong.",
)
@click.option(
    "--mixed",
    type=click.Choice(MIXED_CHOICES),
    default="keep",
    show_default=True,
    help="Articles mixing Simplified and Traditional: keep them (annotated script=mixed), "
    "convert them, or reject them.",
)
@click.option(
    "--punctuation/--no-punctuation",
    default=True,
    show_default=True,
    help="Normalise punctuation and width by context (full-width marks between hanzi, "
    "ASCII marks after English).",
)
@click.option(
    "--skip-rule",
    "skip_rules",
    multiple=True,
    type=click.Choice(RULE_NAMES),
    metavar="NAME",
    help="Leave out one punctuation rule (repeatable); see --list-rules.",
)
@click.option(
    "--list-rules",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_rules,
    help="Print the punctuation rules and exit.",
)
@click.pass_context
def normalize_script_command(
    ctx: click.Context,
    to: str,
    config: str | None,
    phrases: bool,
    mixed: str,
    punctuation: bool,
    skip_rules: tuple[str, ...],
) -> NormalizeScript:
    """Make each article's Chinese script consistent (opencc) and put its
    punctuation into the form its context wants.

    Each article's script is detected first (simplified, traditional, mixed
    or neither); only articles in the other script are converted, so
    Simplified text converted to Simplified is left byte for byte. Then
    ASCII , : ; ! ? ( ) . between hanzi become full-width, ，。：； after
    English become ASCII with a space, full-width letters and digits become
    ASCII, and missing spaces after English sentence ends are restored. URLs,
    e-mails, numbers, times, versions, abbreviations, code and quotes are
    never touched.

    \b
    Examples:
      vocclean -i articles.jsonl -o out.jsonl --annotate normalize-script
      vocclean -i tw.jsonl normalize-script --to taiwan --phrases --mixed reject
      vocclean -i mixed.jsonl normalize-script --no-punctuation
      vocclean normalize-script --skip-rule latin-hyphen < in.jsonl > out.jsonl
    """
    if config is not None:
        explicit = [
            name
            for name in ("to", "phrases")
            if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
        ]
        if explicit:
            raise click.UsageError(f"--config cannot be combined with --{explicit[0]}", ctx)
    try:
        return NormalizeScript(
            to=to if config is None else None,
            config=config,
            phrases=phrases,
            mixed=mixed,
            punctuation=punctuation,
            skip_rules=skip_rules,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc), ctx) from None
