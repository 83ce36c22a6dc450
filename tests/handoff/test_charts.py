"""The week's chart: a bar per day stacked by kind, totals and median time to acknowledge as
text, patterns as well as colours, escaped for XML, and the same numbers as a table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from opsweek.handoff.charts import OTHER, duration, stacked_days_svg, table_rows, week_days
from opsweek.handoff.report import AlertLine

START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # a Thursday handoff
NS = {"svg": "http://www.w3.org/2000/svg"}


def alert(n: int, kind: str, day: int, ack_minutes: int | None = None) -> AlertLine:
    seen = START + timedelta(days=day, hours=1)
    acked = seen + timedelta(minutes=ack_minutes) if ack_minutes is not None else None
    return AlertLine(n, kind, f"alert {n}", 1, "resolved", seen, seen, "ana", acked)


def test_days_are_counted_by_kind_with_the_median_time_to_acknowledge() -> None:
    alerts = [
        alert(1, "refine_failure", 0, 10),
        alert(2, "refine_failure", 0, 30),
        alert(3, "airflow_task_failed", 0),
        alert(4, "airflow_task_failed", 2, 5),
    ]
    kinds, days = week_days(alerts, START, ZoneInfo("UTC"))
    assert kinds == ["refine_failure", "airflow_task_failed"]
    assert [d.total for d in days] == [3, 0, 1, 0, 0, 0, 0]
    assert (days[0].counts, days[0].median_ack_minutes) == (
        {"refine_failure": 2, "airflow_task_failed": 1},
        20.0,
    )
    assert table_rows(kinds, days)[0] == ["Thu 26 Nov", "2", "1", "3", "20 min"]
    assert [duration(m) for m in (17.4, 312, 8640.1)] == ["17 min", "5.2 h", "6.0 d"]
    assert table_rows(kinds, days)[1][-1] == "none"


def test_uncommon_kinds_are_grouped_and_the_svg_is_well_formed_and_escaped() -> None:
    alerts = [alert(n, f"kind_{n}", n % 7) for n in range(10)] + [alert(99, "<script>", 1)]
    kinds, days = week_days(alerts, START, ZoneInfo("UTC"), most=3)
    assert len(kinds) == 4 and kinds[-1] == OTHER
    svg = stacked_days_svg(kinds, days, 'Alerts per day, week of "26 Nov" <b>')
    root = ET.fromstring(svg)  # well formed: every value was escaped
    assert root.get("aria-label") == 'Alerts per day, week of "26 Nov" <b>'
    bars = root.findall("svg:rect", NS)
    assert len(bars) == sum(len(d.counts) for d in days)
    assert all(bar.get("fill", "").startswith("url(#kind") for bar in bars)  # a pattern each
    labels = [t.text for t in root.findall("svg:text", NS)]
    assert [str(d.total) for d in days] == [labels[i] for i in range(0, len(labels), 2)][:7]
    assert "<script>" not in svg


def handoff_html(alerts: list[AlertLine], noise: list[AlertLine]) -> str:
    """The HTML handoff of the week from START, with these alerts and these noise alerts."""
    from opsweek.handoff.render import to_html
    from opsweek.handoff.report import HandoffInputs, build_handoff

    inputs = HandoffInputs(
        week=START.date(),
        start=START,
        end=START + timedelta(days=7),
        now=START + timedelta(days=7),
        from_person="ana",
        to_person="bob",
        alerts=alerts,
        duties=[],
        sal=[],
        decisions=[],
        noise_alerts=noise,
        noise_weeks=8,
    )
    return to_html(build_handoff(inputs), ZoneInfo("UTC"), standalone=False)


def test_the_handoff_html_carries_the_chart_and_its_table() -> None:
    alerts = [alert(1, "refine_failure", 0, 10), alert(2, "data_loss", 3)]
    html = handoff_html(alerts, alerts)
    assert '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 560 220" role="img"' in html
    assert "The same numbers as a table" in html and "<td>Thu 26 Nov</td>" in html
    assert 'fill="url(#swatch0)"' in html  # the legend's own patterns, not the chart's ids


def test_the_noise_section_has_its_chart_with_names_escaped() -> None:
    noisy = [alert(n, "refine_failure", n % 3) for n in range(1, 6)]
    hostile = replace(alert(9, "data_loss", 1), job='<script>alert("x")</script>')
    html = handoff_html([], [*noisy, hostile])
    assert 'aria-label="Most fired over 8 weeks"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    chart = html[
        html.index('aria-label="Most fired') : html.index("</svg>", html.index("Most fired"))
    ]
    assert chart.count("<rect x=") == 2  # refine_failure (5 alerts) and the data_loss job


def test_bars_keep_their_order_and_scale() -> None:
    from opsweek.charts import bars_svg

    svg = bars_svg([("alice", 4), ("bob", 2), ("carol", 0)], "Weeks on duty", "weeks")
    widths = [float(w) for w in re.findall(r'<rect x="230" y="\d+" width="([\d.]+)"', svg)]
    assert widths[0] == 2 * widths[1] and widths[2] == 1.0  # zero is a sliver, still there
    assert [t for t in re.findall(r">(\w+)</text>", svg)][:2] == ["alice", "4"]
    assert "<title>bob: 2 weeks</title>" in svg
