"""The REST API for the inbox and the rotation: reading is open like the pages; every change
needs an API token, and the token's user is the actor in the history and the SAL."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from opsweek.alerts.groups import group_alerts
from opsweek.alerts.service import AlertFilter, alert_json, event_json, inbox_order
from opsweek.duties.service import instance_json
from opsweek.sal.log import entry_json
from opsweek.timeutil import parse_date, parse_since, utcnow, zone
from opsweek.web.auth import require_token
from opsweek.web.services import duties_for, handoff_for, inbox_for, rotation_for
from opsweek.web.session_auth import read_access

router = APIRouter(
    prefix="/api/v1",
    tags=["inbox", "rotation", "duties"],
    dependencies=[Depends(read_access)],
)
Caller = Annotated[str, Depends(require_token)]


class Note(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class Resolution(BaseModel):
    note: str = Field(min_length=1, max_length=10_000, description="how it was treated")


def _window(request: Request) -> timedelta:
    return timedelta(hours=request.app.state.settings.sal.related_window_hours)


@router.get("/alerts", summary="List alerts, unacknowledged first")
def list_alerts(
    request: Request,
    status: Annotated[str | None, Query(max_length=20)] = None,
    kind: Annotated[str | None, Query(max_length=48)] = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[
        str | None,
        Query(max_length=40, description="ISO 8601, or an age: 30m, 24h, 7d, 2w"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    group: Annotated[
        bool, Query(description="grouped: one e-mail or notification per group")
    ] = False,
    q: Annotated[
        str,
        Query(
            max_length=500,
            description="the Inbox's filter: team=x severity!=warning alertname=~Hdfs.* "
            "@state=active|silenced|acked|resolved @age>1h, words",
        ),
    ] = "",
) -> dict[str, Any]:
    from opsweek.alerts.query import Query as Filter

    tz = zone(request.app.state.settings.team_timezone)
    flt = AlertFilter(status, kind, source, parse_since(since, tz) if since else None, limit)
    query = Filter.parse(q)
    with request.app.state.store.session() as session:
        inbox = inbox_for(request, session)
        alerts = inbox_order(inbox.search(query, flt, utcnow()))
        related = inbox.with_related_sal(alerts, _window(request))
        shown = {
            a.id: alert_json(a, with_runbook=False) | {"has_related_sal": a.id in related}
            for a in alerts
        }
        if group:
            return {
                "groups": [
                    g.to_json() | {"alerts": [shown[a.id] for a in g.alerts]}
                    for g in group_alerts(alerts)
                ]
            }
        return {"alerts": [shown[a.id] for a in alerts]}


@router.get("/alerts/{alert_id}", summary="One alert: details, runbook, history, related SAL")
def get_alert(request: Request, alert_id: int) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        inbox = inbox_for(request, session)
        alert = inbox.get(alert_id)
        return alert_json(alert, site=request.app.state.opsweek.site) | {
            "history": [event_json(e) for e in inbox.history(alert_id)],
            "related_sal": [entry_json(e) for e in inbox.related_sal(alert, _window(request))],
        }


async def _change(request: Request, action: Any) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        return alert_json(action(request.app.state.opsweek.alert_changes), with_runbook=False)

    return await run_in_threadpool(run)


class Acknowledgement(BaseModel):
    note: str = Field(default="", max_length=2000, description="Why, or what happens next")


@router.post(
    "/alerts/{alert_id}/ack",
    summary="Acknowledge an alert (an Alertmanager alert: silenced there until it resolves)",
)
async def ack(
    request: Request, alert_id: int, caller: Caller, body: Acknowledgement | None = None
) -> dict[str, Any]:
    ops = request.app.state.opsweek
    note = body.note if body else ""
    return await _change(request, lambda _: ops.acknowledge(alert_id, caller, note))


class SilenceRequest(BaseModel):
    matchers: list[str] = Field(
        min_length=1,
        max_length=30,
        description="name=value, name!=value, name=~regex, name!~regex",
    )
    minutes: int = Field(default=120, ge=1, le=60 * 24 * 90)
    comment: str = Field(min_length=1, max_length=2000)
    cluster: str = Field(default="", max_length=64)


@router.get("/silences", summary="Alertmanager silences: active, to come, and not sent yet")
def list_silences(
    request: Request, cluster: Annotated[str, Query(max_length=64)] = ""
) -> dict[str, Any]:
    return {"silences": request.app.state.opsweek.silencing.listed(cluster)}


@router.post("/silences", summary="Silence alerts in Alertmanager (logged to the SAL)")
async def add_silence(request: Request, body: SilenceRequest, caller: Caller) -> dict[str, Any]:
    from opsweek.alerts.silences import Matcher

    matchers = [Matcher.parse(text) for text in body.matchers]

    def run() -> dict[str, Any]:
        row = request.app.state.opsweek.silencing.add(
            matchers, body.minutes, body.comment, caller, body.cluster
        )
        return {
            "id": row.silence_id or f"pending-{row.id}",
            "cluster": row.cluster,
            "ends_at": row.ends_at.isoformat(),
            "state": row.state,
            "error": row.error,
        }

    return await run_in_threadpool(run)


@router.delete("/silences/{silence_id}", summary="Expire a silence (logged to the SAL)")
async def expire_silence(
    request: Request,
    silence_id: Annotated[str, Path(max_length=64, pattern=r"^[\w-]+$")],
    caller: Caller,
    cluster: Annotated[str, Query(max_length=64)] = "",
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        request.app.state.opsweek.silencing.expire(silence_id, caller, cluster)
        return {"expired": silence_id}

    return await run_in_threadpool(run)


@router.post("/alerts/{alert_id}/unack", summary="Take an acknowledgement back (and its silence)")
async def unack(request: Request, alert_id: int, caller: Caller) -> dict[str, Any]:
    ops = request.app.state.opsweek

    def run(changes: Any) -> Any:
        alert = changes.unack(alert_id, caller)
        ops.send_silences()
        return alert

    return await _change(request, run)


@router.post("/alerts/{alert_id}/resolve", summary="Resolve an alert, saying how it was treated")
async def resolve(
    request: Request, alert_id: int, body: Resolution, caller: Caller
) -> dict[str, Any]:
    return await _change(request, lambda changes: changes.resolve(alert_id, caller, body.note))


@router.post("/alerts/{alert_id}/notes", summary="Add a note to an alert's history")
async def note(request: Request, alert_id: int, body: Note, caller: Caller) -> dict[str, Any]:
    return await _change(request, lambda changes: changes.note(alert_id, caller, body.text))


@router.post(
    "/alerts/{alert_id}/airflow/{action}",
    summary="Act on an Airflow alert's task: clear, clear-downstream, mark-success, pause, unpause",
)
async def airflow_action(
    request: Request, alert_id: int, action: str, caller: Caller
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        watch = request.app.state.opsweek.airflow
        sent = watch.action(alert_id, action)
        said = watch.send(sent, caller)
        if said:  # nothing to do (a pause of a paused DAG)
            return {"alert_id": alert_id, "sent": None, "sal": "", "said": said}
        return {"alert_id": alert_id, "sent": sent.describe(), "sal": sent.sal}

    return await run_in_threadpool(run)


@router.post(
    "/alerts/{alert_id}/refine/rerun",
    summary="Rerun a failed Refine hour on the runner host; waits for it, then checks it",
)
async def refine_rerun(request: Request, alert_id: int, caller: Caller) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        runner = request.app.state.opsweek.refine_runner
        return runner.run(runner.plan(alert_id), caller).as_json()

    return await run_in_threadpool(run)


@router.post(
    "/checks/{check}/run",
    summary="Run one of the duties' checks (new-wikis, mw-history) and keep what it said",
)
async def run_check(request: Request, check: str, caller: Caller) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        return request.app.state.opsweek.checks.on_request(check, caller).as_json()

    return await run_in_threadpool(run)


class StepRunRequest(BaseModel):
    confirm: str = Field(
        default="",
        max_length=20_000,
        description="For a step that changes something: its exact command, as shown",
    )


@router.post(
    "/alerts/{alert_id}/steps/{step}/run",
    summary="Run one of an alert's steps on its host (a change: confirm its exact command)",
)
async def run_step(
    request: Request, alert_id: int, step: str, body: StepRunRequest, caller: Caller
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        runner = request.app.state.opsweek.step_runner
        planned = runner.plan(alert_id, step)
        return runner.run(planned, caller, confirmed=body.confirm).as_json()

    return await run_in_threadpool(run)


@router.get("/who", summary="Who is on duty now, and who is next")
def who(request: Request) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        return rotation_for(request, session).who().as_json()


@router.get("/rotation", summary="The rotation from four weeks back, and its conflicts")
def rotation(request: Request) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        rota = rotation_for(request, session)
        return {
            "weeks": [w.as_json() for w in rota.weeks(rota.current_week - timedelta(weeks=4))],
            "conflicts": [c.as_json() for c in rota.conflicts()],
        }


class DutyDone(BaseModel):
    note: str = Field(default="", max_length=2000)
    alerts: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(default=[], max_length=100)


class DutySkip(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get(
    "/duties",
    summary="Duty occurrences of the current ops week (or of ?week=DATE), the on-demand ones "
    "still open from before it first (?status=due|done|skipped|overdue)",
)
def list_duties(
    request: Request,
    week: Annotated[str | None, Query(max_length=10)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        rota = rotation_for(request, session)
        rule = rota.config.rule
        first = rule.normalize(parse_date(week)) if week else rota.current_week
        start, end = rule.bounds(first)
        duties = duties_for(request, session)
        return {
            "week": first.isoformat(),
            "duties": [instance_json(i, duties.now) for i in duties.of_week(start, end, status)],
        }


async def _duty(request: Request, caller: str, action: str, *args: Any) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        with request.app.state.store.session() as session:
            duties = duties_for(request, session, caller)
            return instance_json(getattr(duties, action)(*args), duties.now)

    return await run_in_threadpool(run)


@router.post("/duties/{instance_id}/done", summary="Mark a duty occurrence done")
async def duty_done(
    request: Request, instance_id: int, body: DutyDone, caller: Caller
) -> dict[str, Any]:
    return await _duty(request, caller, "done", str(instance_id), body.note, body.alerts)


@router.post("/duties/{instance_id}/skip", summary="Skip a duty occurrence, saying why")
async def duty_skip(
    request: Request, instance_id: int, body: DutySkip, caller: Caller
) -> dict[str, Any]:
    return await _duty(request, caller, "skip", str(instance_id), body.reason)


@router.post("/duties/{instance_id}/steps/{step}", summary="Tick one step of a duty's checklist")
async def duty_step(
    request: Request,
    instance_id: int,
    step: Annotated[int, Path(ge=1, le=1000)],
    caller: Caller,
) -> dict[str, Any]:
    return await _duty(request, caller, "tick", str(instance_id), step)


@router.get("/handoff", summary="The handoff report of an ops week (default: the one handed off)")
def handoff(
    request: Request, week: Annotated[str | None, Query(max_length=10)] = None
) -> dict[str, Any]:
    with request.app.state.store.session() as session:
        return handoff_for(request, session).report(parse_date(week) if week else None).as_json()
