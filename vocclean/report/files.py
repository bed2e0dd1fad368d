"""Write a run's report to PATH.json or PATH.html (the suffix chooses), atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vocclean.io.writers import AtomicFile
from vocclean.report.data import build_report
from vocclean.report.html_report import render_html
from vocclean.report.json_report import render_json
from vocclean.report.observer import RunObserver
from vocclean.runner import RunOptions, RunResult

RENDERERS = {".json": render_json, ".html": render_html, ".htm": render_html}


def report_renderer(path: str):
    """The renderer for ``path``'s suffix; ValueError for any other suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in RENDERERS:
        raise ValueError(f"{path}: a report is .json or .html (or .htm); rename it")
    return RENDERERS[suffix]


def write_reports(
    paths: Sequence[str],
    result: RunResult,
    options: RunOptions,
    observer: RunObserver | None = None,
    command: list[str] | None = None,
) -> None:
    """One report of the run, written to each path in the format its suffix names."""
    report = build_report(result, options, observer, command)
    for path in paths:
        write_text_atomically(path, report_renderer(path)(report))


def write_text_atomically(path: str, text: str) -> None:
    """UTF-8 text to ``path`` under a temporary name, renamed when complete."""
    with AtomicFile(path) as target:
        target.stream.write(text.encode("utf-8"))
