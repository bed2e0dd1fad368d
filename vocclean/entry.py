"""The ``vocclean`` command's entry point: Ctrl-C while Python is still importing vocclean (the
first few tenths of a second) ends with exit 130 and one line, not a traceback."""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from vocclean.cli import main as cli
    except KeyboardInterrupt:
        sys.stderr.write("vocclean: interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    cli(prog_name="vocclean")
