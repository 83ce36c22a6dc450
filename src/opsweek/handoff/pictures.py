"""The handoff's charts as PNG, for the channels that show no SVG: mail clients (inline images
of the HTML part) and Slack (a file in the report's thread). Rendered from the same SVG as the
pages (cairosvg, on the system's cairo library); without it the report goes out without the
pictures, its tables being there anyway."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from opsweek.charts import bars_svg
from opsweek.handoff.charts import stacked_days_svg, week_days
from opsweek.handoff.render import noise_name
from opsweek.handoff.report import HandoffReport

log = logging.getLogger(__name__)
PIXELS_WIDE = 1120  # twice the charts' width: sharp on high-density screens


@dataclass(frozen=True)
class Picture:
    name: str  # week, noise
    title: str
    png: bytes


def pictures(report: HandoffReport, tz: ZoneInfo) -> list[Picture]:
    """The week's chart, and the noise chart when something fired; none without cairo."""
    kinds, days = week_days(report.inputs.alerts, report.inputs.start, tz)
    week_title = f"Alerts per day, {report.title}"
    charts = [("week", week_title, stacked_days_svg(kinds, days, week_title))]
    noise = [(noise_name(n.kind, n.job), n.count) for n in report.most_fired]
    if noise:
        noise_title = f"Most fired over {report.inputs.noise_weeks} weeks"
        charts.append(("noise", noise_title, bars_svg(noise, noise_title, "occurrences")))
    found = []
    for name, title, svg in charts:
        png = svg_to_png(svg)
        if png is None:
            return []
        found.append(Picture(name, title, png))
    return found


def svg_to_png(svg: str) -> bytes | None:
    try:
        import cairosvg
    except (ImportError, OSError) as exc:  # OSError: the cairo library is not installed
        log.warning("handoff charts go out without pictures: %s", exc)
        return None
    png: bytes = cairosvg.svg2png(bytestring=svg.encode(), output_width=PIXELS_WIDE)
    return png
