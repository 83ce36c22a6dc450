"""The handoff report: figures and groups (pure), rendering, and the report built from a
week of demo data in the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import Alert
from opsweek.db.session import Store
from opsweek.demo import seed
from opsweek.handoff.render import to_html, to_markdown
from opsweek.handoff.report import AlertLine, HandoffInputs, build_handoff

T0 = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
UTC_TZ = ZoneInfo("UTC")


def line(id_: int, kind: str, job: str, minutes_to_ack: int | None, **kw) -> AlertLine:  # type: ignore[no-untyped-def]
    first = T0 + timedelta(hours=id_)
    return AlertLine(
        id=id_,
        kind=kind,
        title=kw.pop("title", f"{job} failed"),
        count=kw.pop("count", 1),
        status=kw.pop("status", "resolved"),
        first_seen=first,
        last_seen=first,
        acked_by="ana" if minutes_to_ack is not None else None,
        acked_at=first + timedelta(minutes=minutes_to_ack) if minutes_to_ack is not None else None,
        job=job,
        **kw,
    )


def inputs(alerts: list[AlertLine], noise: list[AlertLine] | None = None) -> HandoffInputs:
    return HandoffInputs(
        week=date(2026, 11, 19),
        start=T0,
        end=T0 + timedelta(days=7),
        now=T0 + timedelta(days=7),
        from_person="ana",
        to_person="bastien",
        alerts=alerts,
        duties=[],
        sal=[],
        decisions=[],
        noise_alerts=alerts if noise is None else noise,
        noise_weeks=8,
    )


def test_figures_groups_and_noise() -> None:
    alerts = [
        line(1, "refine_failure", "refine_event", 10, count=3, resolved_by="ana", note="reran"),
        line(2, "refine_failure", "refine_event", 30, resolved_by="ana", note="reran"),
        line(3, "airflow_task_failed", "edit_hourly", None, status="firing"),
        line(4, "alertmanager", "HdfsCorruptBlocks", None, resolved_by="source:alertmanager"),
        line(5, "alertmanager", "HdfsCorruptBlocks", None, resolved_by="source:alertmanager"),
        line(6, "alertmanager", "SystemdUnitFailed", 90, status="acknowledged"),
    ]
    report = build_handoff(inputs(alerts))
    f = report.figures
    assert (f.alerts, f.occurrences, f.acknowledged, f.still_open) == (6, 8, 3, 2)
    assert f.median_minutes_to_ack == 30.0
    assert [g.kind for g in report.groups] == [
        "refine_failure",  # 4 occurrences
        "alertmanager",  # 3
        "airflow_task_failed",  # 1
    ]
    assert [a.id for a in report.still_open] == [3, 6]
    assert (report.most_fired[0].job, report.most_fired[0].count) == ("refine_event", 4)
    assert [(n.job, n.count) for n in report.resolved_by_itself] == [("HdfsCorruptBlocks", 2)]


def test_markdown_and_html_say_how_each_alert_was_treated() -> None:
    hostile = "<script>alert(1)</script> | pipe"
    alerts = [
        line(1, "refine_failure", "refine_event", 12, resolved_by="ana", note="reran the hour"),
        line(2, "canary_failure", "canary", None, title=hostile, status="firing"),
        line(3, "alertmanager", "HdfsCorruptBlocks", None, resolved_by="source:alertmanager"),
    ]
    report = build_handoff(inputs(alerts))
    md = to_markdown(report, UTC_TZ)
    assert md.startswith("# Ops week handoff, week of 2026-11-19: ana → bastien\n")
    assert (
        "| 1 | refine_event failed | 1 | ana after 12 min | resolved by ana: reran the hour |" in md
    )
    assert "recovered by itself" in md
    assert "\\| pipe" in md  # a pipe cannot break the table
    assert "No tracker configured." in md
    html = to_html(report, UTC_TZ)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_for_a_week_of_demo_data(store: Store) -> None:
    ops = App(load_settings(env={}), store=store)
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # a Saturday in the week of Nov 26
    with store.writing() as session:
        seed(AlertChanges(store), session, ops.rotation_config, now, duties=ops.duty_book)
    with store.session() as session:
        service = ops.handoff(session, actor="tester", now=now)
        assert service.default_week() == date(2026, 11, 26)
        report = service.report(date(2026, 11, 20))  # any day of the previous week
        start, end = report.inputs.start, report.inputs.end
        expected = list(
            session.scalars(select(Alert).where(Alert.first_seen < end, Alert.last_seen >= start))
        )
        data = report.as_json()
    assert data["week"] == "2026-11-19"
    assert (data["from"], data["to"]) == (report.inputs.from_person, report.inputs.to_person)
    assert data["from"] and data["to"] and data["from"] != data["to"]
    assert data["figures"]["alerts"] == len(expected) > 0
    assert data["figures"]["still_open"] == sum(a.status != "resolved" for a in expected)
    kinds = {g["kind"] for g in data["alerts_by_kind"]}
    assert kinds == {a.kind for a in expected}
    # last week was handed off properly in the demo: everything done but one skipped duty
    statuses = [d["status"] for d in data["duties"]]
    assert statuses.count("skipped") == 1
    assert set(statuses) == {"done", "skipped"}
    assert any(d["duty"] == "handoff" and d["status"] == "done" for d in data["duties"])
    assert data["tasks"] is None and data["unavailable"] == []
    assert data["noise"]["most_fired"]
    # the SAL section leaves out opsweek's duty bookkeeping: the Duties section says it
    assert data["sal"] and not any(e["message"].startswith("duty #") for e in data["sal"])
    markdown = to_markdown(report, UTC_TZ)
    assert "- Look at the alarms: acknowledge every new alert: 5 done of 5\n" in markdown
    assert (
        "- Check #wikimedia-analytics for anything that needs you: 4 done, 1 skipped of 5\n"
        "  - Thu 19 Nov 09:00 **skipped** by " in markdown
    )


def test_a_storm_is_counted_and_its_first_alerts_listed() -> None:
    """A week of 10,000 alerts made a page of 10,000 rows (and took a second to render):
    each kind lists its first 50 and says where the rest are."""
    storm = [
        line(n, "alertmanager", "HdfsCorruptBlocks", None, status="firing") for n in range(1, 121)
    ]
    report = build_handoff(inputs(storm))
    html, md = to_html(report, UTC_TZ, standalone=False), to_markdown(report, UTC_TZ)
    assert html.count("<td>HdfsCorruptBlocks failed</td>") == 50
    assert "… and 70 more alertmanager alerts" in html
    assert 'href="/inbox?kind=alertmanager&amp;status=&amp;since=2026-11-19"' in html
    assert "… and 70 more still open" in html
    assert md.count("| HdfsCorruptBlocks failed |") == 50
    assert "`opsweek alerts list --kind alertmanager --since 2026-11-19 --limit 120`" in md
    assert "- … and 70 more: `opsweek alerts list --status open`" in md
    mailed = to_html(report, UTC_TZ)  # standalone, as mailed: no link into a site
    assert "<code>opsweek alerts list --kind alertmanager" in mailed and "/inbox?" not in mailed
