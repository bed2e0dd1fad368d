"""One-line messages to stderr; data never goes there."""

from __future__ import annotations

import sys


def warn(message: str) -> None:
    print(f"vocclean: {message}", file=sys.stderr, flush=True)
