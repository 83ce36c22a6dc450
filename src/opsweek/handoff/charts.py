"""The week's alerts as a picture: one bar per day, stacked by kind, each bar labelled with
its total and the day's median time to acknowledge (plain SVG, see opsweek.charts), with the
same numbers as a table beside it (`table_rows`). On the Handoff and on Today."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from opsweek.charts import COLOURS, PATTERNS, legend_swatch, pattern, text
from opsweek.handoff.report import AlertLine

OTHER = "other kinds"
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 560, 220, 24, 46, 8


@dataclass(frozen=True)
class Day:
    day: date
    counts: dict[str, int]  # kind: alerts first seen that day
    median_ack_minutes: float | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def week_days(
    alerts: list[AlertLine], start: datetime, tz: ZoneInfo, most: int = len(COLOURS) - 1
) -> tuple[list[str], list[Day]]:
    """The kinds shown (the ``most`` commonest, the rest as "other kinds") and the seven days
    from ``start``, in ``tz``."""
    common = [k for k, _ in Counter(a.kind for a in alerts).most_common()]
    kinds = common[:most] + ([OTHER] if len(common) > most else [])
    first = start.astimezone(tz).date()
    days = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        seen = [a for a in alerts if a.first_seen.astimezone(tz).date() == day]
        counts = Counter(a.kind if a.kind in kinds else OTHER for a in seen)
        waits = [a.time_to_ack.total_seconds() / 60 for a in seen if a.time_to_ack is not None]
        days.append(Day(day, dict(counts), round(statistics.median(waits), 1) if waits else None))
    return kinds, days


def stacked_days_svg(kinds: list[str], days: list[Day], title: str) -> str:
    top = max((d.total for d in days), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(days), 1)
    bar = slot * 0.6
    usable = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label={quoteattr(title)} class="chart">',
        f"<title>{escape(title)}</title>",
        "<defs>",
        *(pattern(f"kind{n}", COLOURS[n], PATTERNS[n]) for n in range(len(kinds))),
        "</defs>",
    ]
    for index, day in enumerate(days):
        x = LEFT + index * slot + (slot - bar) / 2
        y = float(TOP + usable)
        for n, kind in enumerate(kinds):
            count = day.counts.get(kind, 0)
            if not count:
                continue
            height = usable * count / top
            y -= height
            tip = f"{day.day:%a %d %b}: {count} {kind}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="url(#kind{n})" stroke="#333" stroke-width="0.5">'
                f"<title>{escape(tip)}</title></rect>"
            )
        middle = x + bar / 2
        parts.append(text(middle, y - 4, str(day.total), "total"))
        parts.append(text(middle, HEIGHT - BOTTOM + 14, f"{day.day:%a %d}", "day"))
        ack = (
            f"ack {duration(day.median_ack_minutes)}" if day.median_ack_minutes is not None else ""
        )
        if ack:
            parts.append(text(middle, HEIGHT - BOTTOM + 28, ack, "ack"))
    parts.append("</svg>")
    return "".join(parts)


def table_rows(kinds: list[str], days: list[Day]) -> list[list[str]]:
    """The chart's numbers: a row per day (the day, each kind's count, the total, the median
    time to acknowledge)."""
    return [
        [
            f"{d.day:%a %d %b}",
            *(str(d.counts.get(k, 0)) for k in kinds),
            str(d.total),
            duration(d.median_ack_minutes) if d.median_ack_minutes is not None else "none",
        ]
        for d in days
    ]


def duration(minutes: float) -> str:
    """A time to acknowledge, short enough to sit under a bar: 17 min, 5.2 h, 6.0 d."""
    if minutes < 60:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def week_chart(
    alerts: list[AlertLine], start: datetime, tz: ZoneInfo, title: str
) -> dict[str, Any]:
    """What a page or report shows: the SVG (built from escaped values: safe to place as it
    is), its legend, and its table."""
    from markupsafe import Markup

    kinds, days = week_days(alerts, start, tz)
    return {
        "svg": Markup(stacked_days_svg(kinds, days, title)),
        "legend": [(k, Markup(legend_swatch(n))) for n, k in enumerate(kinds)],
        "kinds": kinds,
        "rows": table_rows(kinds, days),
    }
