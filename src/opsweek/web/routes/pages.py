"""Server-rendered, read-only pages: Today, Inbox, Alert, SAL, Rotation, Handoff. Every value is
escaped by Jinja2's autoescape (alert payloads are hostile text)."""

from __future__ import annotations

import functools
import json
import time as clock
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from opsweek.alerts.groups import own_labels, shared_labels, storm_groups
from opsweek.alerts.query import Query as QueryFilter
from opsweek.alerts.query import about
from opsweek.alerts.runbook import steps_for
from opsweek.alerts.service import AlertFilter, Inbox, inbox_order
from opsweek.alerts.sources import KNOWN_KINDS
from opsweek.alerts.sources.airflow_task_failed import KIND as AIRFLOW_TASK
from opsweek.alerts.sources.refine_failure import KIND as REFINE_FAILURE
from opsweek.charts import bars_svg
from opsweek.checks.airflow import LABELS as AIRFLOW_LABELS
from opsweek.duties.service import status as duty_status
from opsweek.duties.today import channel_mentions, open_by_area, todays_alerts
from opsweek.errors import OpsweekError
from opsweek.handoff.charts import week_chart
from opsweek.handoff.render import to_html
from opsweek.handoff.report import AlertLine
from opsweek.rotation.calendar_grid import month_grid
from opsweek.rotation.solver import WEEK
from opsweek.sal.log import SalFilter
from opsweek.steps import Step
from opsweek.timeutil import iso, parse_date, parse_since, utcnow, zone
from opsweek.watch.answers import answer_status
from opsweek.watch.readings import airflow_polls, check_runs, connections, last_readings
from opsweek.web.page_cache import PageCache
from opsweek.web.services import duties_for, handoff_for, inbox_for, rotation_for, sal_for
from opsweek.web.session_auth import changed_since, csrf_token, current_user, read_access
from opsweek.web.step_actions import step_action

router = APIRouter(include_in_schema=False, dependencies=[Depends(read_access)])
templates = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))
templates.env.filters["iso"] = lambda moment: iso(moment) if moment else ""
templates.env.filters["moment"] = lambda text: datetime.fromisoformat(text) if text else None
# only web links become links (a tracker's data is outside text: never javascript: URLs)
templates.env.tests["safe_url"] = lambda url: (
    isinstance(url, str) and url.startswith(("https://", "http://"))
)


@pass_context
def _path_for(context: Any, name: str, /, **params: Any) -> str:
    """A root-relative link to a route: built from the app's routes and its mount point,
    never from a request header (Host, X-Forwarded-Host, Forwarded), so a page kept in the
    page cache is the same for every reader."""
    request: Request = context["request"]
    return request.scope.get("root_path", "") + str(request.app.url_path_for(name, **params))


templates.env.globals["url_for"] = _path_for
templates.env.filters["about"] = lambda alert: about(alert.kind, alert.details or {})
templates.env.globals["own_labels"] = own_labels
templates.env.globals["step_action"] = step_action
templates.env.filters["local"] = lambda moment, tz: (
    moment.astimezone(zone(tz) if isinstance(tz, str) else tz).strftime("%a %d %b %H:%M %Z")
    if isinstance(moment, datetime)
    else ""
)


def _context(request: Request) -> dict[str, Any]:
    """What every page shows besides its data. Anonymous readers get no session and no CSRF
    token: their pages have no forms."""
    settings = request.app.state.settings
    user = current_user(request)
    with request.app.state.store.session() as session:
        open_counts = inbox_for(request, session).open_counts()
    unacked = sum(n for (status, _), n in open_counts.items() if status == "firing")
    return {
        "unacked": unacked,  # in the title and the icon of every page
        "open_counts": open_counts,
        "tz": zone(settings.team_timezone),
        "window": timedelta(hours=settings.sal.related_window_hours),
        "user": user,
        "csrf": csrf_token(request) if user is not None else "",
        "root": request.scope.get("root_path", ""),
        "rendered_at": clock.time(),  # before the store is read: see opsweek.js (hello)
    }


def _render(request: Request, name: str, values: dict[str, Any]) -> HTMLResponse:
    return templates.TemplateResponse(request, name, values)


def reusable(page: Callable[..., Response]) -> Callable[..., Awaitable[Response]]:
    """A page served from the page cache: the same URL for the same user (and CSRF token)
    while nothing was committed to the store. FastAPI reads the page's own signature."""

    @functools.wraps(page)
    async def handler(request: Request, **params: Any) -> Response:
        user = current_user(request)
        key = (
            request.url.path,
            request.url.query,
            user,
            csrf_token(request) if user is not None else "",
        )
        pages: PageCache = request.app.state.pages
        since = changed_since(request)  # a live part, or the user's own change
        return await pages.page(key, lambda: run_in_threadpool(page, request, **params), since)

    return handler


INBOX_LIMIT = 1000  # alerts the Inbox shows at most (a storm's groups fold them)
WEEK_CHART_ALERTS = 100_000  # a week's alerts read for Today's chart, at most
TODAY_PARTS = {
    "duties": "parts/today_duties.html",
    "alerts": "parts/today_alerts.html",
    "sal": "parts/today_sal.html",
    "week": "parts/today_week.html",  # loaded after the page: not live (a week of alerts)
}


@router.get("/", response_class=HTMLResponse, name="today")
@reusable
def today(
    request: Request,
    part: Annotated[str | None, Query(pattern="^(duties|alerts|sal|week)$")] = None,
) -> HTMLResponse:
    """Today; ``part``: only one of its parts (what a live update fetches)."""
    context = _context(request)
    with request.app.state.store.session() as session:
        values: dict[str, Any] = {**context, "back": "/"}
        if part == "week":
            values["chart"] = _week_chart(request, session, context["tz"])
            return _render(request, TODAY_PARTS[part], values)
        if part in (None, "duties"):
            values |= _today_duties(request, session)
        if part in (None, "alerts"):
            values |= _today_alerts(request, session, context)
        if part in (None, "sal"):
            values["sal"] = sal_for(request, session).list(SalFilter(limit=10))
        if part is not None:
            return _render(request, TODAY_PARTS[part], values)
        rotation = rotation_for(request, session)
        inbox = inbox_for(request, session)
        values["duty"] = rotation.who()
        values["people"] = {p.username: p for p in rotation.team.members(include_inactive=True)}
        values["outside"] = last_readings(session)
        values["connections"] = connections(session, request.app.state.opsweek.connection_names())
        values["overdue"] = sum(
            1
            for instance, _ in values["duties"].open
            if duty_status(instance, values["now"]) == "overdue"
        )
        values["airflow_polls"] = airflow_polls(session, request.app.state.opsweek.airflow_urls)
        watch = request.app.state.opsweek.channel_watch(session)
        values["mentions"] = (
            channel_mentions(inbox, values["duty"], watch, values["now"]) if watch else None
        )
        values["answer_status"] = lambda due: answer_status(due, values["now"])
        return _render(request, "today.html", values)


def _week_chart(request: Request, session: Any, tz: Any) -> dict[str, Any]:
    """This ops week's alerts per day by kind, with the day's median time to acknowledge."""
    rotation = rotation_for(request, session)
    start, _ = rotation.config.rule.bounds(rotation.current_week)
    rows = inbox_for(request, session).seen_since(start, WEEK_CHART_ALERTS)
    alerts = [
        AlertLine(0, kind, "", 1, "", first_seen, first_seen, acked_at=acked_at)
        for kind, first_seen, acked_at in rows
    ]
    return week_chart(alerts, start, tz, "Alerts per day this ops week")


def _today_duties(request: Request, session: Any) -> dict[str, Any]:
    rotation = rotation_for(request, session)
    duties = duties_for(request, session)
    week_start, _ = rotation.config.rule.bounds(rotation.current_week)
    return {
        "duties": duties.today(week_start),
        "now": duties.now,
        "duty_status": duty_status,
        "check_runs": check_runs(session),
    }


def _today_alerts(request: Request, session: Any, context: dict[str, Any]) -> dict[str, Any]:
    inbox, open_counts = inbox_for(request, session), context["open_counts"]
    open_alerts = todays_alerts(inbox)
    dumps_instances = request.app.state.opsweek.dumps_instances
    return {
        "counts": inbox.counts(open_only=True, open_counts=open_counts),
        "open_alerts": open_alerts,
        "related": inbox.with_related_sal(open_alerts, context["window"]),
        "areas": open_by_area(inbox, dumps_instances, open_counts),
    }


@router.get("/handoff", response_class=HTMLResponse, name="handoff_page")
@reusable
def handoff_page(
    request: Request, week: Annotated[str | None, Query(max_length=10)] = None
) -> HTMLResponse:
    context = _context(request)
    with request.app.state.store.session() as session:
        service = handoff_for(request, session)
        report = service.report(parse_date(week) if week else None)
        body = Markup(to_html(report, context["tz"], standalone=False))  # escaped when built
        previous = report.inputs.week - WEEK
        following = report.inputs.week + WEEK
        return _render(
            request,
            "handoff.html",
            {
                **context,
                "report": report,
                "body": body,
                "previous": previous,
                "following": following if following <= service.default_week() else None,
            },
        )


@router.get("/inbox", response_class=HTMLResponse, name="inbox")
@reusable
def inbox(
    request: Request,
    q: Annotated[str, Query(max_length=500)] = "",
    status: Annotated[str, Query(max_length=20)] = "open",
    kind: Annotated[str | None, Query(max_length=48)] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    view: Annotated[str, Query(pattern="^(list|groups)$")] = "groups",
) -> HTMLResponse:
    """The alerts, filtered (``q``: `opsweek.alerts.query`, in the URL to share); grouped as
    Alertmanager groups them by default (its alerts by name, with the labels they share and
    those that tell them apart), or one row per alert; each with its forms for a logged-in
    user, and each group with one acknowledgement for all of it."""
    context = _context(request)
    query = QueryFilter.parse(q)
    flt = AlertFilter(
        status=status or None,
        kind=kind or None,
        source=source or None,
        since=parse_since(since, context["tz"]) if since and since.strip() else None,
        limit=INBOX_LIMIT,
    )
    with request.app.state.store.session() as session:
        box = inbox_for(request, session)
        alerts = inbox_order(box.search(query, flt, utcnow()))
        groups = storm_groups(alerts) if view == "groups" else []
        values = {
            **context,
            "alerts": alerts,
            "groups": [(g, shared_labels(g.alerts)) for g in groups],
            "q": q,
            "status": status,
            "kind": kind,
            "source": source,
            "since": since,
            "view": view,
            "kinds": KNOWN_KINDS,
            "limit": INBOX_LIMIT,
            "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "related": box.with_related_sal(alerts, context["window"]),
        }
        return _render(request, "inbox.html", values)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse, name="alert_page")
@reusable
def alert_page(request: Request, alert_id: int) -> HTMLResponse:
    context = _context(request)
    with request.app.state.store.session() as session:
        box = inbox_for(request, session)
        alert = box.get(alert_id)
        raw = box.raw(alert)
        runbook = steps_for(
            alert.kind,
            alert.details,
            alert.first_seen,
            alert.last_seen,
            alert.id,
            request.app.state.opsweek.site,
        )
        values = {
            **context,
            "alert": alert,
            "airflow": request.app.state.opsweek.airflow.instance_of(alert.kind, alert.details),
            "airflow_actions": AIRFLOW_LABELS.get(alert.kind, {}),
            "airflow_log": alert.kind == AIRFLOW_TASK,
            # the button only where the steps hold a rerun opsweek will run
            "refine_runner": _refine_runner(request)
            if any(s.id == "rerun" for s in runbook) and alert.kind == REFINE_FAILURE
            else "",
            "history": box.history(alert_id),
            "runbook": runbook,
            "step_keys": step_keys(runbook),
            "runnable": {
                key: request.app.state.opsweek.step_runner.runnable(step)
                for key, step in zip(step_keys(runbook), runbook, strict=True)
                if key
            },
            "runs": request.app.state.opsweek.step_runner.runs(alert_id),
            **_silences(request.app.state.opsweek, alert),
            "related_sal": box.related_sal(alert, context["window"]),
            "details_json": json.dumps(alert.details, indent=2, ensure_ascii=False, default=str),
            "raw": raw.content.decode("utf-8", errors="replace") if raw else "",
        }
        return _render(request, "alert.html", values)


def _silences(ops: Any, alert: Any) -> dict[str, Any]:
    """An Alertmanager alert's silences, when an Alertmanager is configured: ``silencing``
    says whether acknowledging it silences it there (None: no Alertmanager)."""
    labels = alert.details.get("labels")
    if alert.kind != "alertmanager" or not ops.settings.alertmanager_entries:
        return {"silencing": None}
    from opsweek.alerts.silences import VOLATILE, Matcher

    shown = sorted((labels or {}).items()) if isinstance(labels, dict) else []
    return {
        "silencing": ops.ack_policy is not None,
        "silences": ops.silencing.for_alert(alert.id),
        "silence_matchers": [str(Matcher(k, v)) for k, v in shown if k not in VOLATILE],
    }


@router.get(
    "/alerts/{alert_id}/airflow/{action}", response_class=HTMLResponse, name="airflow_confirm"
)
def airflow_confirm(request: Request, alert_id: int, action: str) -> HTMLResponse:
    """What an Airflow action will send, to confirm before it is sent; for `log`, the end of
    the task try's log, read from Airflow now."""
    context = _context(request)
    watch = request.app.state.opsweek.airflow
    with request.app.state.store.session() as session:
        alert = inbox_for(request, session).get(alert_id)
    values: dict[str, Any] = {**context, "alert": alert, "action": action}
    if action == "log":
        values["log"] = watch.log_tail(alert_id, 200)
    else:
        values["call"] = watch.action(alert_id, action).describe()
    return _render(request, "airflow.html", values)


def _refine_runner(request: Request) -> str:
    """The host Refine reruns run on; "" when none is configured."""
    host = request.app.state.opsweek.refine_runner.host
    return host.name if host is not None else ""


@router.get(
    "/alerts/{alert_id}/refine/rerun", response_class=HTMLResponse, name="refine_rerun_confirm"
)
def refine_rerun_confirm(request: Request, alert_id: int) -> HTMLResponse:
    """The command a Refine rerun will run, and where, to confirm before it runs."""
    context = _context(request)
    with request.app.state.store.session() as session:
        alert = inbox_for(request, session).get(alert_id)
    plan = request.app.state.opsweek.refine_runner.plan(alert_id)
    values = {**context, "alert": alert, "runner": plan.runner, "command": plan.command}
    return _render(request, "refine_rerun.html", values)


def step_keys(steps: list[Step]) -> list[str]:
    """Each step's key for running it: its id, id#n for the n-th with that id; "" for a step
    without a command."""
    seen: Counter[str] = Counter()
    keys = []
    for step in steps:
        if not (step.id and step.command):
            keys.append("")
            continue
        seen[step.id] += 1
        keys.append(step.id if seen[step.id] == 1 else f"{step.id}#{seen[step.id]}")
    return keys


@router.get("/alerts/{alert_id}/steps/{step}/run", response_class=HTMLResponse)
def step_run_confirm(request: Request, alert_id: int, step: str) -> HTMLResponse:
    """A step that changes something, its exact command shown, to confirm before it runs."""
    context = _context(request)
    with request.app.state.store.session() as session:
        alert = inbox_for(request, session).get(alert_id)
    planned = request.app.state.opsweek.step_runner.plan(alert_id, step)
    return _render(request, "step_run.html", {**context, "alert": alert, "planned": planned})


@router.get("/handoff/tasks", response_class=HTMLResponse, name="handoff_tasks")
def handoff_tasks(
    request: Request, week: Annotated[str | None, Query(max_length=10)] = None
) -> HTMLResponse:
    """What the handoff will do to the outgoing person's tasks (read from the tracker now),
    with a button to do it."""
    context = _context(request)
    error = ""
    changes: list[Any] = []
    with request.app.state.store.session() as session:
        service = request.app.state.opsweek.handoff(session, "web")
        try:
            changes = service.task_changes(parse_date(week) if week else None)
        except OpsweekError as exc:
            error = str(exc)
    values = {**context, "changes": changes, "error": error, "week": week or ""}
    return _render(request, "handoff_tasks.html", values)


@router.get("/sal", response_class=HTMLResponse, name="sal_page")
@reusable
def sal_page(
    request: Request,
    q: Annotated[str | None, Query(max_length=500)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    """The newest entries, a search, or one day (in the team timezone) with links to the days
    before and after."""
    context = _context(request)
    shown_day = parse_date(day, "day") if day else None
    with request.app.state.store.session() as session:
        sal = sal_for(request, session)
        if q and q.strip():
            entries = sal.search(q, 100)
        elif shown_day is not None:
            start = datetime.combine(shown_day, time(), context["tz"])
            entries = sal.list(SalFilter(since=start, until=start + timedelta(days=1), limit=2000))
        else:
            entries = sal.list(SalFilter(limit=100))
        values = {**context, "entries": entries, "q": q, "day": shown_day}
        if shown_day is not None:
            values["previous_day"] = shown_day - timedelta(days=1)
            values["next_day"] = shown_day + timedelta(days=1)
        return _render(request, "sal.html", values)


@router.get("/sal/{entry_id}", response_class=HTMLResponse, name="sal_entry")
@reusable
def sal_entry(request: Request, entry_id: int) -> HTMLResponse:
    """The page the IRC bot links to: one entry (and its corrections' target)."""
    context = _context(request)
    with request.app.state.store.session() as session:
        entry = sal_for(request, session).get(entry_id)
        return _render(request, "sal.html", {**context, "entries": [entry], "q": None})


@router.get("/rotation", response_class=HTMLResponse, name="rotation_page")
@reusable
def rotation_page(request: Request) -> HTMLResponse:
    context = _context(request)
    with request.app.state.store.session() as session:
        rotation = rotation_for(request, session)
        people = [p.username for p in rotation.team.members()]
        current = rotation.current_week
        away = [a for a in rotation.team.away_periods() if a.end >= current]
        tz = context["tz"]
        today_local = rotation.now.astimezone(tz).date()
        values = {
            **context,
            "people": people,
            "weeks": rotation.weeks(current - WEEK * 4),
            "conflicts": rotation.conflicts(),
            "away": away,
            "current_week": current,
            "months": month_grid(
                today_local, 2, rotation.weeks(current - WEEK * 6), away, today_local, tz
            ),
            "load": _rotation_load(inbox_for(request, session), rotation, people),
        }
        return _render(request, "rotation.html", values)


def _rotation_load(inbox: Inbox, rotation: Any, people: list[str]) -> dict[str, Any]:
    """Each member's weeks on duty over the planner's lookback window (the fairness it keeps),
    the weeks planned ahead, and the alerts each acknowledged in that window."""
    lookback = rotation.config.lookback_weeks
    done, ahead = rotation.load()
    start, _ = rotation.config.rule.bounds(rotation.current_week - WEEK * lookback)
    acked = inbox.acknowledged_by(start)
    rows = sorted(people, key=lambda name: (-done.get(name, 0), name))
    title = f"Weeks on duty over the last {lookback} weeks"
    bars = [(name, done.get(name, 0)) for name in rows]
    return {
        "title": title,
        "svg": Markup(bars_svg(bars, title, "weeks")),  # built from escaped values
        "rows": [(n, done.get(n, 0), ahead.get(n, 0), acked.get(n, 0)) for n in rows],
    }


@router.get("/login", response_class=HTMLResponse, name="login_page")
def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> HTMLResponse:
    context = _context(request) | {"csrf": csrf_token(request)}  # the login form needs one
    return _render(request, "login.html", {**context, "next": next})


@router.get("/rotation.ics", name="rotation_ics")
def rotation_ics(request: Request) -> Response:
    """The team's iCalendar feed: one event per ops week."""
    return _calendar(request, None)


@router.get("/rotation/{username}.ics", name="person_ics")
def person_ics(request: Request, username: str) -> Response:
    """One person's ops weeks as an iCalendar feed."""
    return _calendar(request, username)


def _calendar(request: Request, username: str | None) -> Response:
    with request.app.state.store.session() as session:
        data = rotation_for(request, session).calendar(username)
    return Response(data, media_type="text/calendar; charset=utf-8")
