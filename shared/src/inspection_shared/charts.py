"""Inline SVG bar charts of percentages: a bar per key question, its interval, and the band lines.

Plain functions over plain data returning SVG markup, with no dependency, so that the gateway's printable
reports and, later, the dashboard's pages draw the same chart (the dashboard imports nothing of the
gateway's). WeasyPrint renders inline SVG as it is, and browsers do. Every chart is an image with a title
and a description stating its numbers, and callers print its numbers in a table beside it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAND_COLOURS = {
    "outstanding": "#00703c",
    "good": "#1d70b8",
    "requires_improvement": "#f47738",
    "inadequate": "#d4351c",
}
"""Bar colours by band (GOV.UK palette); a bar with no band is grey."""
NO_BAND = "#b1b4b6"
INK = "#0b0c0c"
MUTED = "#505a5f"


@dataclass(frozen=True)
class Bar:
    label: str
    percent: float | None
    """None: nothing to show (no applicable cases)."""
    interval: tuple[float, float] | None = None
    """Low and high end, in percent."""
    band: str | None = None


@dataclass(frozen=True)
class BandLine:
    percent: float
    label: str


@dataclass(frozen=True)
class Layout:
    width: int = 640
    row: int = 30
    label_width: int = 72
    value_width: int = 56
    top: int = 26
    bottom: int = 26


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _whole(percent: float) -> str:
    return f"{percent:.0f}%"


def describe(bars: Sequence[Bar]) -> str:
    """The chart's numbers in words, for its description."""
    parts = []
    for bar in bars:
        if bar.percent is None:
            parts.append(f"{bar.label}: no applicable cases")
            continue
        text = f"{bar.label}: {bar.percent:.1f}%"
        if bar.interval is not None:
            text += f" (interval {bar.interval[0]:.1f}% to {bar.interval[1]:.1f}%)"
        parts.append(text)
    return "; ".join(parts) + "."


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], lines: Sequence[BandLine] = (),
              layout: Layout = Layout()) -> str:
    """An SVG chart of `bars` on a 0-100% scale, each with its interval as a whisker, and a dashed line
    at each of `lines` (such as the 50/65/80 band edges). `chart_id` must be unique in the page."""
    plot_left = layout.label_width
    plot_width = layout.width - layout.label_width - layout.value_width
    height = layout.top + layout.row * len(bars) + layout.bottom
    plot_bottom = height - layout.bottom

    def x(percent: float) -> float:
        return plot_left + plot_width * max(0.0, min(100.0, percent)) / 100

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {layout.width} {height}" '
        f'width="{layout.width}" height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'font-family="Arial, Helvetica, sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(describe(bars))}</desc>',
        f'<line x1="{_n(plot_left)}" y1="{layout.top}" x2="{_n(plot_left)}" y2="{plot_bottom}" stroke="{INK}"/>',
        f'<line x1="{_n(plot_left)}" y1="{plot_bottom}" x2="{_n(x(100))}" y2="{plot_bottom}" stroke="{INK}"/>',
    ]
    for tick in (0, 25, 50, 75, 100):
        out.append(f'<text x="{_n(x(tick))}" y="{plot_bottom + 16}" text-anchor="middle" fill="{MUTED}">{tick}%</text>')
    for line in lines:
        at = _n(x(line.percent))
        out.append(f'<line class="band-line" x1="{at}" y1="{layout.top - 4}" x2="{at}" y2="{plot_bottom}" '
                   f'stroke="{MUTED}" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{at}" y="{layout.top - 8}" text-anchor="middle" fill="{MUTED}">'
                   f'{escape(line.label)}</text>')
    bar_height = layout.row * 0.55
    for i, bar in enumerate(bars):
        top = layout.top + i * layout.row + (layout.row - bar_height) / 2
        middle = top + bar_height / 2
        out.append(f'<text x="{plot_left - 8}" y="{_n(middle + 4)}" text-anchor="end" fill="{INK}">'
                   f'{escape(bar.label)}</text>')
        if bar.percent is None:
            out.append(f'<text x="{_n(plot_left + 6)}" y="{_n(middle + 4)}" fill="{MUTED}">no applicable cases</text>')
            continue
        colour = BAND_COLOURS.get(bar.band or "", NO_BAND)
        out.append(f'<rect class="bar" x="{_n(plot_left)}" y="{_n(top)}" width="{_n(x(bar.percent) - plot_left)}" '
                   f'height="{_n(bar_height)}" fill="{colour}"/>')
        if bar.interval is not None:
            low, high = _n(x(bar.interval[0])), _n(x(bar.interval[1]))
            cap_top, cap_bottom = _n(top - 3), _n(top + bar_height + 3)
            out.append(f'<g class="interval" stroke="{INK}" stroke-width="1.5">'
                       f'<line x1="{low}" y1="{_n(middle)}" x2="{high}" y2="{_n(middle)}"/>'
                       f'<line x1="{low}" y1="{cap_top}" x2="{low}" y2="{cap_bottom}"/>'
                       f'<line x1="{high}" y1="{cap_top}" x2="{high}" y2="{cap_bottom}"/></g>')
        out.append(f'<text x="{_n(x(100) + 6)}" y="{_n(middle + 4)}" fill="{INK}">{_whole(bar.percent)}</text>')
    out.append("</svg>")
    return "".join(out)


def key_question_chart(standard: str, name: str, bars: Sequence[Bar], band_edges: Sequence[float] = ()) -> str:
    """The chart of one case-based standard's key questions, as the report and the dashboard draw it: a
    bar per key question with its interval, and a dashed line at each band edge (50, 65 and 80%)."""
    lines = [BandLine(edge, f"{edge:g}%") for edge in band_edges]
    title = f"Standard {standard}, {name}: the share of applicable cases answered yes"
    return bar_chart(f"chart-{standard.replace('.', '-')}", title, bars, lines)


def stacked_bar_chart(chart_id: str, title: str, rows: Sequence[tuple[str, dict[str, int]]],
                      layout: Layout = Layout(label_width=120, value_width=48)) -> str:
    """An SVG chart with one bar per row, split by rating in the band colours (each part's width its
    share of the row's total), such as the distribution of ratings of each standard."""
    plot_left = layout.label_width
    plot_width = layout.width - layout.label_width - layout.value_width
    height = layout.top + layout.row * len(rows) + layout.bottom
    described = "; ".join(f"{label}: " + ", ".join(f"{n} {band.replace('_', ' ')}" for band, n in counts.items())
                          for label, counts in rows)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {layout.width} {height}" '
        f'width="{layout.width}" height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'font-family="Arial, Helvetica, sans-serif" font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(described)}.</desc>',
    ]
    bar_height = layout.row * 0.6
    for i, (label, counts) in enumerate(rows):
        top = layout.top + i * layout.row + (layout.row - bar_height) / 2
        total = sum(counts.values())
        out.append(f'<text x="{plot_left - 8}" y="{_n(top + bar_height / 2 + 4)}" text-anchor="end" fill="{INK}">'
                   f'{escape(label)}</text>')
        left = float(plot_left)
        for band, count in counts.items():
            if not total or not count:
                continue
            width = plot_width * count / total
            out.append(f'<rect class="part" x="{_n(left)}" y="{_n(top)}" width="{_n(width)}" height="{_n(bar_height)}" '
                       f'fill="{BAND_COLOURS.get(band, NO_BAND)}"/>')
            left += width
        out.append(f'<text x="{_n(plot_left + plot_width + 6)}" y="{_n(top + bar_height / 2 + 4)}" fill="{INK}">'
                   f'{total}</text>')
    out.append("</svg>")
    return "".join(out)
