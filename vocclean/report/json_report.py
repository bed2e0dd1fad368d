"""``--report PATH.json``: the run's report as JSON (the layout is ``vocclean.report.data``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def write_json_report(report: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(render_json(report), encoding="utf-8")
