"""`fix-encoding`: the click command over vocclean.steps.fix_encoding."""

from __future__ import annotations

import click

from vocclean.cli.params import Ratio
from vocclean.steps.fix_encoding import FixEncoding
from vocclean.text.decode import preferred_codec

EXAMPLES = "try gb18030, big5, utf-16, shift_jis"


def _codec_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        preferred_codec(value)
    except LookupError:
        raise click.BadParameter(f"unknown encoding {value!r} ({EXAMPLES})") from None
    except ValueError as exc:
        raise click.BadParameter(f"{exc} ({EXAMPLES})") from None
    return value


@click.command("fix-encoding")
@click.option(
    "--encoding",
    metavar="NAME",
    default=None,
    callback=_codec_name,
    help="Decode plain-text inputs with this codec instead of detecting it "
    "(GB2312/GBK decode as GB18030, Big5 as Big5-HKSCS). Undecodable bytes become U+FFFD and are counted.",
)
@click.option(
    "--drop-unrecoverable",
    metavar="RATIO",
    type=Ratio(0.0, 1.0),
    default=None,
    help="Reject articles whose share of unrecoverable characters (锟斤拷, 烫烫烫, U+FFFD, ? between hanzi) "
    "is above RATIO, e.g. 0.05. Default: keep them, annotated.",
)
@click.option(
    "--guess-lost-bytes/--no-guess-lost-bytes",
    default=True,
    show_default=True,
    help="Where UTF-8 read as GB18030 lost the last byte of a character, guess it from context "
    "(annotated as guessed-char); --no-guess-lost-bytes leaves U+FFFD there.",
)
def fix_encoding_command(
    encoding: str | None, drop_unrecoverable: float | None, guess_lost_bytes: bool
) -> FixEncoding:
    """Decode GBK/GB18030/Big5/UTF-16/UTF-8 inputs and repair mojibake.

    Plain-text inputs are decoded (BOM, strict UTF-8, then the best-scoring
    CJK reading, chardet voting); every article's text is then repaired:
    UTF-8 read as cp1252/latin-1 (ftfy, configured to leave Chinese
    punctuation and width alone), UTF-8 read as GBK (鑱屼笟鏁欒偛 -> 职业教育),
    GBK read as latin-1 (ÖÐ¹ú -> 中国), Big5/GBK swaps; a character whose
    last byte the wrong decode lost is guessed from context; invisible junk is
    stripped and line endings normalised. Binary files are rejected.

    \b
    Examples:
      vocclean -i dump/ -o fixed.jsonl --annotate fix-encoding
      vocclean -i old_gbk/ fix-encoding --encoding gbk --drop-unrecoverable 0.05
    """
    return FixEncoding(
        encoding=encoding, drop_unrecoverable=drop_unrecoverable, guess_lost_bytes=guess_lost_bytes
    )
