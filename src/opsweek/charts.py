"""Charts as plain SVG (pure, no library, no JavaScript), readable without colour: every
value escaped for XML, every bar with a pattern as well as a colour and a tooltip. Pages and
reports give the same numbers as a table beside each chart, so it is readable without the
picture too."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
PATTERNS = ("solid", "hatch", "dots", "cross", "vertical", "horizontal", "back")
BAR_HEIGHT, GAP, LABEL_WIDTH, CHART_WIDTH = 18, 6, 230, 560


def bars_svg(rows: list[tuple[str, int]], title: str, unit: str = "") -> str:
    """One horizontal bar per row (label, value), longest first as given, each labelled with
    its value."""
    top = max((value for _, value in rows), default=0) or 1
    height = GAP + len(rows) * (BAR_HEIGHT + GAP) or BAR_HEIGHT
    room = CHART_WIDTH - LABEL_WIDTH - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'role="img" aria-label={quoteattr(title)} class="chart">',
        f"<title>{escape(title)}</title>",
        f"<defs>{pattern('bar0', COLOURS[0], PATTERNS[1])}</defs>",
    ]
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(room * value / top, 1.0)
        shown = label if len(label) <= 38 else label[:37] + "…"
        tip = f"{label}: {value}{' ' + unit if unit else ''}"
        parts.append(text(LABEL_WIDTH - 6, y + 13, shown, "label", anchor="end"))
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'fill="url(#bar0)" stroke="#333" stroke-width="0.5"><title>{escape(tip)}</title>'
            "</rect>"
        )
        parts.append(text(LABEL_WIDTH + width + 4, y + 13, str(value), "value", anchor="start"))
    parts.append("</svg>")
    return "".join(parts)


def legend_swatch(n: int) -> str:
    """A small square in the ``n``-th colour and pattern, for a legend."""
    name = f"swatch{n}"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 14 14" width="14" height="14" '
        f'aria-hidden="true"><defs>{pattern(name, COLOURS[n], PATTERNS[n])}</defs>'
        f'<rect width="14" height="14" fill="url(#{name})" stroke="#333" stroke-width="0.5"/>'
        "</svg>"
    )


def text(x: float, y: float, value: str, css: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" '
        f'font-family="sans-serif" class="{css}">{escape(value)}</text>'
    )


def pattern(name: str, colour: str, kind: str) -> str:
    """A fill in ``colour`` with marks of its own, so bars differ without colour too."""
    marks = {
        "solid": "",
        "hatch": '<path d="M0 6 L6 0" stroke="#fff" stroke-width="1.5"/>',
        "dots": '<circle cx="3" cy="3" r="1.3" fill="#fff"/>',
        "cross": '<path d="M0 0 L6 6 M6 0 L0 6" stroke="#fff" stroke-width="1"/>',
        "vertical": '<path d="M3 0 L3 6" stroke="#fff" stroke-width="1.5"/>',
        "horizontal": '<path d="M0 3 L6 3" stroke="#fff" stroke-width="1.5"/>',
        "back": '<path d="M0 0 L6 6" stroke="#fff" stroke-width="1.5"/>',
    }[kind]
    return (
        f'<pattern id="{name}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{colour}"/>{marks}</pattern>'
    )
