"""``--report PATH.html``: the run's report as one self-contained page for a curator.

Inline CSS and SVG only: no script, no font, no image, no link to fetch, so
the page opens offline and can be mailed or attached to a CI run as is.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from vocclean.report.charts import bar_chart, flow_chart, histogram
from vocclean.report.record_diff import DiffLine, diff_lines, label_for

CONTEXT_LINES = 2
# Samples with removed lines first (what a curator checks first), dropped records last.
_SAMPLE_ORDER = {"boilerplate": 0, "repeated paragraphs": 1, "encoding": 2, "script and punctuation": 3}
REJECTED_LINES_SHOWN = 6

CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
.meta { color: #666; font-size: .9rem; } code { background: #f4f4f4; padding: 0 .2rem; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.5rem; } .card span { color: #666; font-size: .85rem; }
table { border-collapse: collapse; margin: .5rem 0; }
td, th { border: 1px solid #ddd; padding: .25rem .6rem; }
th { background: #f6f6f6; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #3c8d40; } .bad { color: #c0392b; font-weight: bold; }
.empty { color: #888; font-style: italic; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; } figure { margin: 0; }
figcaption { font-weight: bold; margin-bottom: .3rem; }
.sample { border: 1px solid #ddd; border-radius: 6px; margin: 1rem 0; }
.sample header { background: #f6f6f6; padding: .4rem .8rem; border-bottom: 1px solid #ddd; }
.lines { padding: .4rem .8rem; white-space: pre-wrap; word-break: break-word; font-size: .92rem; }
.ln { padding: 1px 4px; } .ln.removed { background: #fdecea; } .ln.added { background: #e9f6ea; }
.ln.changed { background: #fff8e1; } .skip { color: #888; font-style: italic; }
del { color: #a93226; text-decoration: line-through; } ins { color: #1e6b22; text-decoration: none;
       background: #c8ecc9; } .why { font-size: .78rem; color: #fff; background: #a93226; border-radius: 3px;
       padding: 0 .3rem; margin-left: .4rem; white-space: nowrap; }
"""


def render_html(report: dict[str, Any]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>vocclean report</title>",
        f"<style>{CSS}</style></head><body>",
        _header(report),
        _summary(report),
        _steps(report),
        _removals(report),
        _duplicates(report),
        _seen(report),
        _rejections(report),
        _samples(report),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def write_html_report(report: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(render_html(report), encoding="utf-8")


def _header(report: dict[str, Any]) -> str:
    command = " ".join(report["command"]) or "(Python API)"
    inputs = ", ".join(report["inputs"])
    return (
        "<h1>vocclean report</h1>"
        f'<p class="meta">vocclean {escape(report["version"])} · <code>{escape(command)}</code><br>'
        f"inputs: {escape(inputs)} · output: {escape(report['output'])}"
        f"{' · rejects: ' + escape(report['rejects']) if report['rejects'] else ''}</p>"
    )


def _card(value: int | str, label: str) -> str:
    shown = f"{value:,}" if isinstance(value, int) else value
    return f'<div class="card"><b>{escape(shown)}</b><span>{escape(label)}</span></div>'


def _summary(report: dict[str, Any]) -> str:
    totals = report["totals"]
    cards = [
        _card(totals["records_in"], "records in"),
        _card(totals["written"], "written"),
        _card(totals["rejected"], "rejected"),
        _card(totals["bad_input"], "of them bad input"),
        _card(sum(report["lines_removed_by_kind"].values()), "lines removed"),
        _card(sum(report["chars_removed_by_kind"].values()), "characters removed"),
        _card(sum(report["paragraphs_removed_by_kind"].values()), "paragraphs removed"),
        _card(sum(report["duplicates"].values()), "duplicate articles"),
        _card(f"{totals['seconds']:.2f} s", "time in steps"),
    ]
    failed = [c for c in report["invariants"] if not c["holds"]]
    if failed:
        items = "".join(f"<li>{escape(c['check'])}: {c['left']:,} ≠ {c['right']:,}</li>" for c in failed)
        verdict = f'<p class="bad">Counts do not add up:</p><ul>{items}</ul>'
    else:
        verdict = (
            f'<p class="ok">✓ All {len(report["invariants"])} conservation checks hold '
            "(every record read was written or rejected, at every step).</p>"
        )
    return f'<h2 id="summary">Summary</h2><div class="cards">{"".join(cards)}</div>{verdict}'


def _steps(report: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{escape(s['name'])}</td><td class='n'>{s['records_in']:,}</td>"
        f"<td class='n'>{s['records_out']:,}</td><td class='n'>{s['rejected']:,}</td>"
        f"<td class='n'>{s['seconds']:.3f}</td></tr>"
        for s in report["steps"]
    )
    table = (
        "<table><tr><th>step</th><th>records in</th><th>out</th><th>rejected</th><th>seconds</th></tr>"
        f"{rows}</table>"
    )
    flow = flow_chart(
        [(s["name"], s["records_out"], s["rejected"]) for s in report["steps"]], title="Records per step"
    )
    return f"<h2 id='steps'>Steps</h2>{table}{_figure('Records per step', flow)}"


def _figure(caption: str, svg: str) -> str:
    body = svg or '<p class="empty">nothing to show</p>'
    return f"<figure><figcaption>{escape(caption)}</figcaption>{body}</figure>"


def _items(counts: dict[str, int]) -> list[tuple[str, int]]:
    return list(counts.items())


def _removals(report: dict[str, Any]) -> str:
    figures = [
        _figure("Lines removed by kind", bar_chart(_items(report["lines_removed_by_kind"]), title="by kind")),
        _figure(
            "Lines removed by rule (top 20)",
            bar_chart(_items(report["lines_removed_by_rule"]), title="by rule", color="#d35400"),
        ),
        _figure(
            "Line prefixes stripped by kind",
            bar_chart(_items(report["prefixes_stripped_by_kind"]), title="prefixes", color="#e67e22"),
        ),
        _figure(
            "Characters removed by kind",
            bar_chart(_items(report["chars_removed_by_kind"]), title="characters", color="#8e44ad"),
        ),
        _figure(
            "Paragraphs removed by kind",
            bar_chart(_items(report["paragraphs_removed_by_kind"]), title="paragraphs", color="#7f8c8d"),
        ),
    ]
    return f'<h2 id="removals">Removals</h2><div class="charts">{"".join(figures)}</div>'


def _duplicates(report: dict[str, Any]) -> str:
    sizes = sorted(report["cluster_sizes"].items(), key=lambda item: _size_order(item[0]))
    counts = ", ".join(f"{kind}: {n:,}" for kind, n in report["duplicates"].items()) or "none"
    chart = histogram(sizes, title="Duplicate cluster sizes", x_label="articles in the cluster")
    return (
        f"<h2 id='duplicates'>Duplicates</h2><p>Duplicate articles removed: {escape(counts)}.</p>"
        f"{_figure('Duplicate clusters by size (number of clusters)', chart)}"
    )


def _size_order(label: str) -> tuple[int, str]:
    digits = "".join(c for c in label if c.isdigit())
    return (int(digits) if digits else 1 << 62, label)


def _seen(report: dict[str, Any]) -> str:
    figures = [
        _figure("Encodings seen", bar_chart(_items(report["encodings"]), title="encodings", color="#16a085")),
        _figure(
            "Mojibake repaired", bar_chart(_items(report["mojibake"]), title="mojibake", color="#c0392b")
        ),
        _figure("Scripts seen", bar_chart(_items(report["scripts"]), title="scripts", color="#2e6da4")),
    ]
    return f'<h2 id="encodings">Encodings and scripts</h2><div class="charts">{"".join(figures)}</div>'


def _rejections(report: dict[str, Any]) -> str:
    if not report["rejections"]:
        return '<h2 id="rejections">Rejections</h2><p class="empty">No record was rejected.</p>'
    rows = "".join(
        f"<tr><td>{escape(r['step'])}</td><td>{escape(r['reason'])}</td>"
        f"<td class='n'>{r['records']:,}</td></tr>"
        for r in report["rejections"]
    )
    head = "<tr><th>step</th><th>reason</th><th>records</th></tr>"
    return f"<h2 id='rejections'>Rejections</h2><table>{head}{rows}</table>"


def _samples(report: dict[str, Any]) -> str:
    if not report["samples"]:
        return '<h2 id="samples">Before and after</h2><p class="empty">No record was changed.</p>'
    ordered = sorted(report["samples"], key=_sample_rank)
    cards = "".join(_sample(sample) for sample in ordered)
    return (
        "<h2 id='samples'>Before and after</h2><p>A few changed records per kind of change: "
        "<del>removed</del> text is struck through, <ins>added</ins> text is green.</p>" + cards
    )


def _sample_rank(sample: dict[str, Any]) -> int:
    return _SAMPLE_ORDER.get(sample["category"], 4 if sample["after"] is not None else 5)


def _sample(sample: dict[str, Any]) -> str:
    title = f"<b>{escape(sample['id'])}</b> · {escape(sample['source'])} · {escape(sample['category'])}"
    if sample["rejected_by"]:
        title += f"<br>rejected by <b>{escape(sample['rejected_by'])}</b>: {escape(sample['reason'] or '')}"
        lines = diff_lines(sample["before"], "")
        shown = lines[:REJECTED_LINES_SHOWN]
        body = "".join(_line(line, {}) for line in shown)
        if len(lines) > len(shown):
            body += f'<div class="skip">⋯ {len(lines) - len(shown)} more lines</div>'
    else:
        body = _with_context(diff_lines(sample["before"], sample["after"] or ""), sample["labels"])
    return f'<section class="sample"><header>{title}</header><div class="lines">{body}</div></section>'


def _with_context(lines: list[DiffLine], notes: dict[str, str]) -> str:
    """Changed lines with a little unchanged context; long unchanged runs folded."""
    near = set()
    for index, line in enumerate(lines):
        if line.op != "same":
            near.update(range(index - CONTEXT_LINES, index + CONTEXT_LINES + 1))
    out, skipped = [], 0
    for index, line in enumerate(lines):
        if index in near:
            if skipped:
                out.append(f'<div class="skip">⋯ {skipped} unchanged lines</div>')
                skipped = 0
            out.append(_line(line, notes))
        else:
            skipped += 1
    if skipped:
        out.append(f'<div class="skip">⋯ {skipped} unchanged lines</div>')
    return "".join(out)


def _line(line: DiffLine, notes: dict[str, str]) -> str:
    if line.op == "same":
        return f'<div class="ln">{escape(line.before or "")}</div>'
    if line.op == "added":
        return f'<div class="ln added"><ins>{escape(line.after or "")}</ins></div>'
    if line.op == "removed":
        text = line.before or ""
        why = label_for(notes, text)
        label = f'<span class="why">{escape(why)}</span>' if why else ""
        return f'<div class="ln removed"><del>{escape(text)}</del>{label}</div>'
    spans = "".join(
        escape(s.text) if s.op == "same" else f"<{_TAG[s.op]}>{escape(s.text)}</{_TAG[s.op]}>"
        for s in line.spans
    )
    return f'<div class="ln changed">{spans}</div>'


_TAG = {"removed": "del", "added": "ins"}
