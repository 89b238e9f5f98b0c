"""Server-side SVG bar charts: pure functions from plain values to markup, readable without JS."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
LABEL_W = 190
VALUE_W = 50
BAR_H = 12
GAP = 10
LEGEND_H = 28
COLOURS = ("#1f5f8b", "#b35c00", "#2e7d32", "#6a1b9a")


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]

    @property
    def empty(self) -> bool:
        return not self.labels or not any(v for s in self.series for v in s.values)


def grid(
    title: str,
    labels: Sequence[str],
    names: Sequence[str],
    counts: Iterable[tuple[str, str, int]],
) -> Chart:
    """A chart from (label, series name, count) triples; missing pairs count zero."""
    table = {(label, name): n for label, name, n in counts}
    return Chart(
        title,
        tuple(labels),
        tuple(Series(name, tuple(table.get((lb, name), 0) for lb in labels)) for name in names),
    )


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], LABEL_W
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="18">{escape(s.name)}</text>')
        x += 24 + 8 * len(s.name)
    return parts


def render_svg(chart: Chart) -> str:
    """Horizontal grouped bars, one group per label; every bar has a <title> with its value."""
    n = max(1, len(chart.series))
    group_h = n * BAR_H + GAP
    height = LEGEND_H + max(1, len(chart.labels)) * group_h + GAP
    peak = max((v for s in chart.series for v in s.values), default=0) or 1
    scale = (WIDTH - LABEL_W - VALUE_W) / peak
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f"<title>{escape(chart.title)}</title>",
        *_legend(chart.series),
    ]
    if chart.empty:
        out.append(f'<text x="{LABEL_W}" y="{LEGEND_H + 16}">No usage in this period.</text>')
    for row, label in enumerate(chart.labels):
        top = LEGEND_H + row * group_h
        out.append(
            f'<text x="{LABEL_W - 6}" y="{top + n * BAR_H / 2 + 4:.0f}" '
            f'text-anchor="end">{escape(label[:30])}</text>'
        )
        for i, s in enumerate(chart.series):
            value, y = s.values[row], top + i * BAR_H
            w = round(value * scale, 1)
            tip = escape(f"{label}, {s.name}: {value:,}")
            out.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H - 2}" '
                f'fill="{COLOURS[i % len(COLOURS)]}"><title>{tip}</title></rect>'
            )
            out.append(f'<text x="{LABEL_W + w + 4}" y="{y + BAR_H - 3}">{value:,}</text>')
    out.append("</svg>")
    return "".join(out)
