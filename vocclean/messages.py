"""One-line messages to stderr; data never goes there."""

from __future__ import annotations

import sys

# A progress line (vocclean.progress) is on stderr without its newline: a message ends it first,
# so that it does not run on from the end of the progress line.
_progress_open = False


def warn(message: str) -> None:
    global _progress_open
    if _progress_open:
        sys.stderr.write("\n")
        _progress_open = False
    print(f"vocclean: {message}", file=sys.stderr, flush=True)


def progress_line(text: str | None) -> None:
    """Draw the progress line (``None``: end it with its newline)."""
    global _progress_open
    if text is None:
        if _progress_open:
            sys.stderr.write("\n")
    else:
        sys.stderr.write(f"\r{text}")
    sys.stderr.flush()
    _progress_open = text is not None
