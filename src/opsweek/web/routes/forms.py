"""Web forms: log in and out, acknowledge, resolve and annotate alerts, log to the SAL, tick,
finish or skip duties, swap and cover ops weeks.
Each needs a logged-in user (except logging in), the session's CSRF token and a same-site
origin; the user is the actor in the history and the SAL."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from opsweek.errors import BadInput, OpsweekError
from opsweek.passwords import check_password
from opsweek.timeutil import parse_date
from opsweek.web.login_guard import LoginGuard, Reservation
from opsweek.web.problems import problem
from opsweek.web.services import duties_for, rotation_for, sal_for
from opsweek.web.session_auth import (
    check_form,
    client_address,
    end_sessions,
    mark_changed,
    session_user,
    start_session,
)

router = APIRouter(tags=["forms"])
Csrf = Annotated[str | None, Form()]
MAX_GROUP = 1000  # alerts acknowledged by one form
Back = Annotated[str | None, Form(max_length=1000)]  # the page the form was on


def _back(request: Request, path: str) -> RedirectResponse:
    """Back to ``path`` after a change: the user's next pages show it (never a page rendered
    before it, see opsweek.web.page_cache)."""
    mark_changed(request)
    return RedirectResponse(path, status_code=303)


@router.post("/login", summary="Log in (form)")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Csrf = None,
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    check_form(request, csrf, login_required=False)
    guard: LoginGuard = request.app.state.login_guard
    reservation = await run_in_threadpool(guard.reserve, username, client_address(request))
    if not isinstance(reservation, Reservation):
        response = problem(429, "too many failed logins; wait before trying again")
        response.headers["Retry-After"] = str(int(reservation) + 1)
        return response

    def verify() -> bool:
        with guard.hashing, request.app.state.store.session() as session:
            return check_password(session, username, password)  # a few hashes at a time

    if not await run_in_threadpool(verify):
        return problem(401, "wrong user name or password")  # it stays counted as failed
    await run_in_threadpool(guard.succeeded, reservation)
    await run_in_threadpool(start_session, request, username)
    return _back(request, local_path(next, "/"))


@router.post("/logout", summary="Log out (form)")
async def logout(request: Request, csrf: Csrf = None) -> RedirectResponse:
    user = check_form(request, csrf)
    if session_user(request) is not None:
        await run_in_threadpool(end_sessions, request, user)
    return _back(request, "/")


def local_path(target: str | None, default: str) -> str:
    """Where to go back to after a form: a path on this site only (never //host or a URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def _inbox_change(
    request: Request,
    alert_id: int,
    csrf: str | None,
    action: str,
    text: str = "",
    back: str | None = None,
) -> RedirectResponse:
    user = check_form(request, csrf)

    def run() -> None:
        ops = request.app.state.opsweek
        changes = ops.alert_changes
        if action == "ack":
            ops.acknowledge(alert_id, user, text)
        elif action == "unack":
            changes.unack(alert_id, user)
            ops.send_silences()
        elif action == "resolve":
            changes.resolve(alert_id, user, text)
        else:
            changes.note(alert_id, user, text)

    await run_in_threadpool(run)
    return _back(request, local_path(back, f"/alerts/{alert_id}"))


@router.post("/alerts/{alert_id}/airflow/{action}", summary="Send an Airflow action (form)")
async def airflow_form(
    request: Request, alert_id: int, action: str, csrf: Csrf = None
) -> RedirectResponse:
    """Send the action the confirmation page showed (`/alerts/{id}/airflow/{action}`)."""
    user = check_form(request, csrf)

    def run() -> None:
        watch = request.app.state.opsweek.airflow
        watch.send(watch.action(alert_id, action), user)

    await run_in_threadpool(run)
    return _back(request, f"/alerts/{alert_id}")


@router.post("/alerts/{alert_id}/refine/rerun", summary="Rerun a failed Refine hour (form)")
async def refine_rerun_form(request: Request, alert_id: int, csrf: Csrf = None) -> RedirectResponse:
    """Start the rerun the confirmation page showed; it runs on after the answer (a Refine
    job takes minutes), and its result goes to the alert's history and the SAL."""
    user = check_form(request, csrf)
    ops = request.app.state.opsweek
    plan = await run_in_threadpool(ops.refine_runner.plan, alert_id)

    def rerun() -> None:
        try:
            ops.refine_runner.run(plan, user)
        except OpsweekError as exc:  # the runner could not be reached: said on the alert
            ops.alert_changes.note(alert_id, user, f"the Refine rerun could not run: {exc}")

    threading.Thread(target=rerun, name=f"refine-rerun-{alert_id}", daemon=True).start()
    return _back(request, f"/alerts/{alert_id}")


@router.post("/alerts/{alert_id}/steps/{step}/run", summary="Run one of an alert's steps (form)")
async def step_run_form(
    request: Request,
    alert_id: int,
    step: str,
    csrf: Csrf = None,
    confirm: Annotated[str, Form(max_length=20_000)] = "",
) -> RedirectResponse:
    """Start the step; it runs on after the answer, and its output shows on the alert."""
    user = check_form(request, csrf)
    runner = request.app.state.opsweek.step_runner
    planned = await run_in_threadpool(runner.plan, alert_id, step)
    if planned.step.effect != "read" and confirm != planned.step.command:
        raise BadInput("confirm the exact command shown before it runs")

    def run() -> None:
        runner.run(planned, user, confirmed=confirm)

    threading.Thread(target=run, name=f"step-run-{alert_id}", daemon=True).start()
    return _back(request, f"/alerts/{alert_id}")


@router.post("/handoff/tasks", summary="Unassign and hand over the outgoing tasks (form)")
async def handoff_tasks_form(
    request: Request,
    csrf: Csrf = None,
    week: Annotated[str, Form(max_length=10)] = "",
) -> RedirectResponse:
    """Make the changes the page showed (each re-read first: a task changed since is left
    alone); each one made goes to the SAL with who asked."""
    user = check_form(request, csrf)

    def run() -> None:
        ops = request.app.state.opsweek
        with ops.session() as session:
            service = ops.handoff(session, user)
            service.apply_task_changes(service.task_changes(parse_date(week) if week else None))

    await run_in_threadpool(run)
    return _back(request, "/handoff/tasks" + (f"?week={week}" if week else ""))


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge (form)")
async def ack_form(
    request: Request,
    alert_id: int,
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = None,
    back: Back = None,
) -> RedirectResponse:
    return await _inbox_change(request, alert_id, csrf, "ack", note, back=back)


@router.post("/alerts/{alert_id}/unack", summary="Take an acknowledgement back (form)")
async def unack_form(
    request: Request, alert_id: int, csrf: Csrf = None, back: Back = None
) -> RedirectResponse:
    return await _inbox_change(request, alert_id, csrf, "unack", back=back)


@router.post("/alerts/ack", summary="Acknowledge several alerts: a group (form)")
async def ack_all_form(
    request: Request,
    alert: Annotated[list[int] | None, Form()] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = None,
    back: Back = None,
) -> RedirectResponse:
    """The firing ones; one silence for those of Alertmanager (what they share)."""
    user = check_form(request, csrf)
    ids = alert or []
    if len(ids) > MAX_GROUP:
        raise BadInput(f"at most {MAX_GROUP} alerts at once")

    def run() -> None:
        ops = request.app.state.opsweek
        ops.alert_changes.ack_all(ids, user, note)
        ops.send_silences()

    await run_in_threadpool(run)
    return _back(request, local_path(back, "/alerts"))


@router.post("/alerts/{alert_id}/silence", summary="Silence in Alertmanager (form)")
async def silence_form(
    request: Request,
    alert_id: int,
    matchers: Annotated[str, Form(max_length=4000)] = "",
    duration: Annotated[str, Form(max_length=20)] = "2h",
    comment: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = None,
) -> RedirectResponse:
    """A silence from the alert's page: its matchers one per line (its labels to start)."""
    from opsweek.alerts.silences import Matcher, minutes_of

    user = check_form(request, csrf)
    parsed = [Matcher.parse(line) for line in matchers.splitlines() if line.strip()]
    minutes = minutes_of(duration)

    def run() -> None:
        request.app.state.opsweek.silencing.add(parsed, minutes, comment, user)

    await run_in_threadpool(run)
    return _back(request, f"/alerts/{alert_id}")


@router.post("/silences/{silence_id}/expire", summary="Expire a silence (form)")
async def expire_silence_form(
    request: Request, silence_id: str, csrf: Csrf = None, back: Back = None
) -> RedirectResponse:
    user = check_form(request, csrf)

    def run() -> None:
        request.app.state.opsweek.silencing.expire(silence_id, user)

    await run_in_threadpool(run)
    return _back(request, local_path(back, "/alerts"))


@router.post("/alerts/{alert_id}/resolve", summary="Resolve (form)")
async def resolve_form(
    request: Request,
    alert_id: int,
    note: Annotated[str, Form(max_length=10_000)] = "",
    csrf: Csrf = None,
    back: Back = None,
) -> RedirectResponse:
    return await _inbox_change(request, alert_id, csrf, "resolve", note, back)


@router.post("/alerts/{alert_id}/note", summary="Add a note (form)")
async def note_form(
    request: Request,
    alert_id: int,
    text: Annotated[str, Form(max_length=10_000)] = "",
    csrf: Csrf = None,
    back: Back = None,
) -> RedirectResponse:
    return await _inbox_change(request, alert_id, csrf, "note", text, back)


@router.post("/sal", summary="Log to the SAL (form)")
async def log_form(
    request: Request, message: Annotated[str, Form(max_length=65_536)] = "", csrf: Csrf = None
) -> RedirectResponse:
    user = check_form(request, csrf)
    project = request.app.state.settings.sal.project

    def run() -> None:
        with request.app.state.store.session() as session:
            sal_for(request, session).append(user, message, project=project, source="web")

    await run_in_threadpool(run)
    return _back(request, "/sal")


async def _duty_change(request: Request, csrf: str | None, action: str, *args: object) -> Response:
    user = check_form(request, csrf)

    def run() -> None:
        with request.app.state.store.session() as session:
            getattr(duties_for(request, session, user), action)(*args)

    await run_in_threadpool(run)
    return _back(request, "/")


@router.post("/checks/{check}/run", summary="Run one of the duties' checks (form)")
async def check_run_form(request: Request, check: str, csrf: Csrf = None) -> Response:
    """The check runs as its command would; what it said shows beside its step on Today."""
    user = check_form(request, csrf)
    await run_in_threadpool(request.app.state.opsweek.checks.on_request, check, user)
    return _back(request, "/#duties")


@router.post("/duties/{instance_id}/steps/{step}", summary="Tick a duty's step (form)")
async def duty_step_form(
    request: Request, instance_id: int, step: int, csrf: Csrf = None
) -> Response:
    return await _duty_change(request, csrf, "tick", str(instance_id), step)


@router.post("/duties/{instance_id}/done", summary="Mark a duty done (form)")
async def duty_done_form(
    request: Request,
    instance_id: int,
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = None,
) -> Response:
    return await _duty_change(request, csrf, "done", str(instance_id), note)


@router.post("/duties/{instance_id}/skip", summary="Skip a duty, saying why (form)")
async def duty_skip_form(
    request: Request,
    instance_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: Csrf = None,
) -> Response:
    return await _duty_change(request, csrf, "skip", str(instance_id), reason)


async def _rotation_change(request: Request, csrf: str | None, change: str, *args: str) -> Response:
    user = check_form(request, csrf)

    def run() -> None:
        with request.app.state.store.session() as session:
            rotation = rotation_for(request, session, user)
            if change == "swap":
                rotation.swap(parse_date(args[0], "week"), parse_date(args[1], "week"))
            else:
                rotation.cover(parse_date(args[0], "week"), args[1])

    await run_in_threadpool(run)
    return _back(request, "/rotation")


@router.post("/rotation/swap", summary="Swap two ops weeks (form)")
async def swap_form(
    request: Request,
    week: Annotated[str, Form(max_length=10)] = "",
    other_week: Annotated[str, Form(max_length=10)] = "",
    csrf: Csrf = None,
) -> Response:
    return await _rotation_change(request, csrf, "swap", week, other_week)


@router.post("/rotation/cover", summary="Have someone cover an ops week (form)")
async def cover_form(
    request: Request,
    week: Annotated[str, Form(max_length=10)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    csrf: Csrf = None,
) -> Response:
    return await _rotation_change(request, csrf, "cover", week, username)
