"""The modules compiled by mypyc: use them where they are current, their source elsewhere.

``setup.py`` compiles ``COMPILED`` (the boilerplate matcher's line loops) with
mypyc at install where a C compiler is present; each then exists twice, as
``NAME.py`` and as an extension module beside it, which Python imports first.
The same files run as Python where nothing was compiled. A compiled module
older than its source (edited, or checked out, after the build) would run
the old code: then all of them are imported from their source (they call
each other's compiled code, so it is all or none) until the next install
rebuilds them (``bin/test`` and ``bin/vocclean`` do when these files change).
``VOCCLEAN_PURE_PYTHON=1`` imports the source always.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path

COMPILED = (
    "vocclean.text.boilerplate",
    "vocclean.text.boilerplate_alternation",
    "vocclean.text.boilerplate_index",
    "vocclean.text.boilerplate_notes",
    "vocclean.text.boilerplate_plans",
    "vocclean.text.boilerplate_rules",
    "vocclean.text.learned_boilerplate",
)
PURE_ENV = "VOCCLEAN_PURE_PYTHON"
_ROOT = Path(__file__).resolve().parent.parent


def source_path(module: str) -> Path:
    return _ROOT.joinpath(*module.split(".")).with_suffix(".py")


def compiled_path(module: str) -> Path | None:
    """The module's extension file beside its source, if there is one."""
    source = source_path(module)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_name(source.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def status(modules: Sequence[str] = COMPILED) -> str:
    """``compiled``, or why the modules run from their source."""
    if os.environ.get(PURE_ENV):
        return f"source ({PURE_ENV} is set)"
    built = [compiled_path(module) for module in modules]
    if not any(built):
        return "source (not compiled: no C compiler at install, or installed without setup.py)"
    for module, path in zip(modules, built, strict=True):
        if path is None:
            return f"source ({module} was not compiled)"
        if path.stat().st_mtime < source_path(module).stat().st_mtime:
            return f"source ({source_path(module).name} changed after the build: reinstall to compile it)"
    return "compiled"


class _SourceFinder:
    """A meta path finder, placed first, that finds the compiled modules' source files."""

    @staticmethod
    def find_spec(
        name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(name, source_path(name))


def install() -> None:
    """Import the compiled modules from source unless all are compiled and current (once, before them)."""
    if status() != "compiled" and _SourceFinder not in sys.meta_path:
        sys.meta_path.insert(0, _SourceFinder)  # type: ignore[arg-type]
