"""The command line: a thin click layer over vocclean's Python API."""

from vocclean.cli.main import main

__all__ = ["main"]
