"""``opsweek today`` and ``opsweek duties``: what is due, and recording what was done."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text

from opsweek.cli.output import JsonOption, console, print_json, short_time, step_lines
from opsweek.cli.state import state
from opsweek.errors import BadInput
from opsweek.timeutil import parse_date

if TYPE_CHECKING:
    from opsweek.db.models import DutyInstance
    from opsweek.duties.service import Duties

app = typer.Typer(no_args_is_help=True, help="Recurring and on-demand duties.")

STATUS_STYLE = {"overdue": "bold red", "due": "yellow", "done": "green", "skipped": "dim"}


def today(ctx: typer.Context, json_: JsonOption = False) -> None:
    """What is due and overdue today for the person on duty, what is firing, tasks and
    questions waiting."""
    from opsweek.duties.service import status
    from opsweek.watch.answers import answer_status, is_overdue

    ops = state(ctx).app
    tz = ops.timezone
    with ops.session() as session:
        view = ops.today(session)
        data = view.as_json()
        if json_:
            print_json(data)
            return
        duty = view.on_duty.current
        who = duty.username if duty else "nobody"
        nxt = view.on_duty.next.username if view.on_duty.next else "nobody"
        console.print(
            f"[bold]On duty: {escape(who)}[/] until {short_time(view.handoff_at, tz)}, "
            f"then {escape(nxt)}"
        )
        counts = view.alert_counts
        console.print(
            f"\n[bold]Alerts:[/] {counts['firing']} firing, not acknowledged · "
            f"{counts['acknowledged']} acknowledged, still open"
        )
        console.print(
            f"  open: {view.areas.get('pipelines', 0)} data pipelines · "
            f"{view.areas.get('dumps', 0)} Dumps"
        )
        for alert in view.firing:
            console.print(
                f"  #{alert.id} [red]{alert.severity}[/] {escape(alert.kind)}: "
                f"{escape(alert.title)} (since {short_time(alert.first_seen, tz)})",
                soft_wrap=True,
            )
        console.print("\n[bold]Duties[/]")
        if not view.duties:
            console.print("  nothing due: all done")
        for instance, missed in view.duties:
            state_ = status(instance, view.now)
            done = sum(1 for s in instance.steps if s.get("done_at"))
            steps = f" [{done}/{len(instance.steps)} steps]" if instance.steps else ""
            earlier = f" (+{missed} earlier missed)" if missed else ""
            console.print(
                f"  #{instance.id} [{STATUS_STYLE[state_]}]{state_}[/] "
                f"{escape(instance.title)}{steps}{earlier} — due {short_time(instance.due_at, tz)}",
                soft_wrap=True,
            )
        for occurrence in view.later_today:
            console.print(
                f"  later today {short_time(occurrence.due_at, tz)}: "
                f"{escape(occurrence.duty.title)}"
            )
        failing = [c for c in view.connections if c.failing]
        if view.connections:
            state_ = f"[red]{len(failing)} failing[/]" if failing else "[green]all working[/]"
            console.print(f"\n[bold]Connections[/]: {state_}")
            for conn in view.connections:
                if conn.failing:
                    since = f" (worked {short_time(conn.ok_at, tz)})" if conn.ok_at else ""
                    console.print(
                        f"  [red]{escape(conn.name)}[/]: {escape(conn.error or '')}{since}",
                        soft_wrap=True,
                    )
                elif conn.ok_at is None:
                    console.print(f"  {escape(conn.name)}: not used yet (opsweek serve uses it)")
        if view.airflow is not None:
            console.print("\n[bold]Airflow[/]")
            for poll in view.airflow:
                if poll.error:
                    said = f"[red]could not poll[/] at {short_time(poll.polled_at, tz)}: "
                    said += escape(poll.error)
                elif poll.polled_at is None:
                    said = "not polled yet (opsweek serve polls it; or opsweek airflow poll)"
                else:
                    said = f"polled {short_time(poll.polled_at, tz)}, {poll.failing} failing"
                console.print(f"  {escape(poll.instance)}: {said}", soft_wrap=True)
        if view.tasks is not None:
            console.print("\n[bold]Ops-week tasks[/]")
            for task in view.tasks or []:
                who = f", {task.assignee}" if task.assignee else ", unassigned"
                console.print(
                    f"  {task.ref} {escape(task.title)} ({escape(task.status_name)}{who})"
                )
            if not view.tasks:
                console.print("  the column is empty")
        if view.questions is not None:
            console.print("\n[bold]Unanswered in the collaboration channel[/]")
            for q in view.questions:
                left = answer_status(q.answer_due_at, view.now)
                style = "red" if is_overdue(q.answer_due_at, view.now) else "yellow"
                console.print(
                    f"  [{style}]{left}[/] {short_time(q.asked_at, tz)} {escape(q.user)}: "
                    f"{escape(q.text[:200])}"
                )
            if not view.questions:
                console.print("  every question has a reply")
        if view.mentions is not None:
            console.print("\n[bold]In the IRC channels, for you[/]")
            for m in view.mentions:
                console.print(
                    f"  {short_time(m.at, tz)} {escape(m.channel)} {escape(m.nick)}: "
                    f"{escape(m.text[:200])} [dim]({escape(m.why)})[/]"
                )
            if not view.mentions:
                console.print("  nothing that names you, an open alert or the team's words")
        for reason in view.unavailable:
            console.print(f"[yellow]unavailable:[/] {escape(reason)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Option(help="A day in the ops week to list (default: this week).")
    ] = None,
    status_: Annotated[
        str | None, typer.Option("--status", help="Only due, done, skipped or overdue.")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Every occurrence of the ops week, with its state."""
    from rich.table import Table

    from opsweek.duties.service import instance_json

    ops = state(ctx).app
    tz = ops.timezone
    rule = ops.rotation_config.rule
    with ops.session() as session:
        duties = ops.duties(session)
        first = rule.normalize(parse_date(week)) if week else rule.containing(duties.now)
        start, end = rule.bounds(first)
        rows = [instance_json(i, duties.now) for i in duties.of_week(start, end, status_)]
    if json_:
        print_json({"week": first.isoformat(), "duties": rows})
        return
    table = Table("#", "due", "duty", "status", "steps", "by", title=f"Duties, week of {first}")
    for row in rows:
        done = sum(1 for s in row["steps"] if s["done_at"])
        table.add_row(
            str(row["id"]),
            short_time(_dt(row["due_at"]), tz),
            escape(row["title"]),
            f"[{STATUS_STYLE[row['status']]}]{row['status']}[/]",
            f"{done}/{len(row['steps'])}" if row["steps"] else "",
            escape(row["closed_by"] or ""),
        )
    console.print(table)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Occurrence id, or a duty key for its open one.")],
    json_: JsonOption = False,
) -> None:
    """One occurrence with its checklist."""
    from opsweek.duties.service import instance_json

    ops = state(ctx).app
    tz = ops.timezone
    with ops.session() as session:
        duties = ops.duties(session)
        data = instance_json(duties.get(ref), duties.now)
    if json_:
        print_json(data)
        return
    console.print(
        f"[bold]#{data['id']} {escape(data['title'])}[/] — {data['status']}, due "
        f"{short_time(_dt(data['due_at']), tz)}"
    )
    for step in data["steps"]:
        mark = "x" if step["done_at"] else " "
        by = f"  ({step['done_by']})" if step["done_by"] else ""
        console.print(Text(f"  [{mark}] {step['number']}. {step['text']}{by}"), soft_wrap=True)
        if step["command"]:
            prompt, command = step_lines(step)
            console.print(
                Text.assemble((f"         {prompt} ", "dim"), (command, "cyan")), soft_wrap=True
            )
    if data["note"]:
        console.print(f"note: {escape(data['note'])}")
    if data["alerts"]:
        console.print("alerts: " + ", ".join(f"#{a}" for a in data["alerts"]))


@app.command("step")
def step(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Occurrence id, or a duty key for its open one.")],
    number: Annotated[int, typer.Argument(help="Step number, as `duties show` lists them.")],
    note: Annotated[
        str, typer.Option(help="What you noted (a dashboard that looked wrong): in the handoff.")
    ] = "",
    json_: JsonOption = False,
) -> None:
    """Tick one step of a duty's checklist (logged to the SAL)."""
    _change(ctx, json_, lambda d: d.tick(ref, number, note), f"step {number} done")


def dashboards(ctx: typer.Context, json_: JsonOption = False) -> None:
    """The dashboards to look at, with the current value of each one's Prometheus query
    (prometheus.url). Exit 1 when a query could not be answered."""
    from opsweek.duties.dashboards import read_all

    ops = state(ctx).app
    client = ops.prometheus
    readings = read_all(ops.dashboards, client.query if client else None)
    if json_:
        print_json({"dashboards": [r.as_json() for r in readings]})
    else:
        if not readings:
            console.print("no [[dashboards]] configured")
        for reading in readings:
            board = reading.dashboard
            value = f" — {escape(reading.shown())}" if reading.shown() else ""
            console.print(f"{escape(board.name)}: {escape(board.url)}{value}")
            if board.look_for:
                console.print(f"  [dim]{escape(board.look_for)}[/]")
    raise typer.Exit(1 if any(r.error for r in readings) else 0)


@app.command("done")
def done(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Occurrence id, or a duty key for its open one.")],
    note: Annotated[str, typer.Option(help="What was found or done.")] = "",
    alert: Annotated[list[int] | None, typer.Option(help="Link an alert (repeatable).")] = None,
    json_: JsonOption = False,
) -> None:
    """Mark a duty done (logged to the SAL)."""
    _change(ctx, json_, lambda d: d.done(ref, note, alert or []), "done")


@app.command("skip")
def skip(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Occurrence id, or a duty key for its open one.")],
    reason: Annotated[str, typer.Option(help="Why it is skipped (required).")] = "",
    json_: JsonOption = False,
) -> None:
    """Skip a duty, saying why (logged to the SAL)."""
    _change(ctx, json_, lambda d: d.skip(ref, reason), "skipped")


@app.command("start")
def start(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="An on-demand duty: offboarding, new-wiki...")],
    value: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="name=value filled into the steps' <name> placeholders (repeatable)."
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="Context: the task, who asked.")] = "",
    alert: Annotated[list[int] | None, typer.Option(help="Link an alert (repeatable).")] = None,
    json_: JsonOption = False,
) -> None:
    """Start an on-demand duty now (an offboarding, a new wiki)."""
    values = {}
    for item in value or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--set expects name=value, not {item!r}")
        values[name.strip()] = text.strip()
    _change(ctx, json_, lambda d: d.open(key, values, note, alert or []), "started")


def _change(
    ctx: typer.Context, json_: bool, action: "Callable[[Duties], DutyInstance]", verb: str
) -> None:
    from opsweek.duties.service import instance_json

    ops = state(ctx).app
    with ops.session() as session:
        duties = ops.duties(session)
        instance = action(duties)
        data = instance_json(instance, duties.now)
    if json_:
        print_json(data)
    else:
        console.print(f"duty #{data['id']} {escape(data['title'])}: {verb}")


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    days: Annotated[int, typer.Option(help="How far ahead to look.")] = 7,
    json_: JsonOption = False,
) -> None:
    """The configured duties and when each next falls due."""
    from rich.table import Table

    ops = state(ctx).app
    tz = ops.timezone
    if days < 1:
        raise BadInput("--days must be at least 1")
    with ops.session() as session:
        duties = ops.duties(session)
        upcoming = duties.upcoming(duties.now + timedelta(days=days))
        rows = []
        for duty in duties.book.duties:
            nxt = next((o.due_at for o in upcoming if o.duty.key == duty.key), None)
            rows.append({**duty.as_json(), "next_due": nxt.isoformat() if nxt else None})
    if json_:
        print_json({"duties": rows})
        return
    table = Table("duty", "schedule", "next due", "title", title="Duties")
    for row in rows:
        nxt = short_time(_dt(row["next_due"]), tz) if row["next_due"] else ""
        table.add_row(row["key"], row["schedule"], nxt, escape(row["title"]))
    console.print(table)
