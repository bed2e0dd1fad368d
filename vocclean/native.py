"""The modules compiled by mypyc: use them where they are current, their source elsewhere.

``setup.py`` compiles ``COMPILED`` (the boilerplate matcher's line loops) with
mypyc at install where a C compiler is present; each then exists twice, as
``NAME.py`` and as an extension module beside it, which Python imports first.
The same files run as Python where nothing was compiled. The build records
each source's SHA-256 in ``SOURCES_FILE`` beside this module: a compiled
module whose source has changed since (edited, or checked out, after the
build) would run the old code, so then all of them are imported from their
source (they call each other's compiled code: all or none) until the next
install rebuilds them (``bin/test`` and ``bin/vocclean`` do when these files
change). Hashes, not file times: an install from a wheel writes a module's
source after its extension. ``VOCCLEAN_PURE_PYTHON=1`` imports the source
always.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
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
# Written by setup.py: {"sources": {module: SHA-256 of the source compiled}, "shared": [compiled code]}
SOURCES_FILE = "native_sources.json"
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
    try:
        recorded = json.loads((_ROOT / "vocclean" / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = {}
    sources = recorded.get("sources", {})
    for module in modules:
        if sources.get(module) != source_digest(source_path(module)):
            return f"source ({source_path(module).name} changed after the build: reinstall to compile it)"
    for shared in recorded.get("shared", []):  # the compiled code itself (the modules are its entries)
        if importlib.util.find_spec(shared) is None:
            return f"source ({shared}, the compiled code, is missing: reinstall to compile it)"
    return "compiled"


def source_digest(path: Path) -> str:
    """The SHA-256 of a file, as the build records it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _SourceFinder:
    """A meta path finder, placed first, that finds the compiled modules' source files."""

    @staticmethod
    def find_spec(
        name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(name, source_path(name))


_installed: str | None = None  # what install() found: the status of this process


def install() -> None:
    """Import the compiled modules from source unless all are compiled and current (once, before them)."""
    global _installed
    _installed = status()
    if _installed != "compiled" and _SourceFinder not in sys.meta_path:
        sys.meta_path.insert(0, _SourceFinder)  # type: ignore[arg-type]


def running() -> str:
    """The status this process runs with (``install``'s, found once: the sources are hashed once)."""
    return _installed if _installed is not None else status()
