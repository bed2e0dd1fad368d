"""Charts as inline SVG strings: no script, no network, readable in any browser.

Every bar is a ``<rect>`` carrying ``data-label`` and ``data-value``, so a test
(or a person with the page source) can read the numbers back.
"""

from __future__ import annotations

from html import escape

LABEL_CHARS = 30
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
KEPT, REJECTED = "#3c8d40", "#c0392b"


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _svg(title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, color: str, label: str, value: int, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}" '
        f'data-label="{escape(label)}" data-value="{value}"><title>{escape(tip)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'


def bar_chart(
    items: list[tuple[str, int]],
    *,
    title: str,
    color: str = REJECTED,
    width: int = 500,
    label_width: int = 190,
    max_items: int = 20,
) -> str:
    """Horizontal bars, one per (label, value), in the order given; "" when there is nothing to draw."""
    items = [(label, value) for label, value in items if value > 0][:max_items]
    if not items:
        return ""
    bar, gap = 18, 6
    top = max(value for _, value in items)
    plot = width - label_width - 70
    body = []
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar + gap)
        length = max(1.0, plot * value / top)
        body.append(_text(label_width - 8, y + bar - 5, _label(label), "end"))
        body.append(_rect(label_width, y, length, bar, color, label, value, f"{label}: {value:,}"))
        body.append(_text(label_width + length + 6, y + bar - 5, f"{value:,}"))
    return _svg(title, width, len(items) * (bar + gap) + gap, body)


def histogram(
    items: list[tuple[str, int]],
    *,
    title: str,
    x_label: str,
    color: str = "#2e6da4",
    width: int = 500,
    height: int = 220,
) -> str:
    """Vertical bars over ordered categories (e.g. cluster sizes), with the count above each."""
    items = [(label, value) for label, value in items if value > 0]
    if not items:
        return ""
    top = max(value for _, value in items)
    left, bottom, head = 40, 40, 20
    plot_w, plot_h = width - left - 10, height - bottom - head
    slot = plot_w / len(items)
    bar = max(4.0, min(60.0, slot * 0.7))
    base = head + plot_h
    body = [
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#888"/>',
        _text(left + plot_w / 2, height - 6, x_label, "middle"),
    ]
    for index, (label, value) in enumerate(items):
        h = max(1.0, plot_h * value / top)
        x = left + index * slot + (slot - bar) / 2
        body.append(_rect(x, base - h, bar, h, color, label, value, f"{label}: {value:,}"))
        body.append(_text(x + bar / 2, base - h - 4, f"{value:,}", "middle"))
        body.append(_text(x + bar / 2, base + 15, label, "middle"))
    return _svg(title, width, height, body)


def flow_chart(steps: list[tuple[str, int, int]], *, title: str, width: int = 720) -> str:
    """Per step, records passed on (green) and rejected (red) as one bar of the step's input."""
    steps = [(name, kept, rejected) for name, kept, rejected in steps if kept + rejected > 0]
    if not steps:
        return ""
    top = max(kept + rejected for _, kept, rejected in steps)
    label_width, bar, gap = 160, 18, 6
    plot = width - label_width - 170
    body = []
    for index, (name, kept, rejected) in enumerate(steps):
        y = gap + index * (bar + gap)
        kept_w = plot * kept / top
        rejected_w = max(1.0, plot * rejected / top) if rejected else 0.0
        body.append(_text(label_width - 8, y + bar - 5, name, "end"))
        body.append(_rect(label_width, y, kept_w, bar, KEPT, f"{name} out", kept, f"{name}: {kept:,} out"))
        if rejected:
            tip = f"{name}: {rejected:,} rejected"
            body.append(
                _rect(label_width + kept_w, y, rejected_w, bar, REJECTED, f"{name} rejected", rejected, tip)
            )
        body.append(
            _text(label_width + kept_w + rejected_w + 6, y + bar - 5, f"{kept:,} out, {rejected:,} rejected")
        )
    return _svg(title, width, len(steps) * (bar + gap) + gap, body)
