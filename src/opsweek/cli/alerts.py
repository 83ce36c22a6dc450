"""``opsweek alerts``: ingest, list, show, acknowledge, resolve, annotate."""

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from opsweek.alerts.formats import AUTO, FORMATS
from opsweek.cli.output import JsonOption, console, fail, print_json, print_steps, short_time
from opsweek.cli.state import State, state
from opsweek.timeutil import parse_since, utcnow, zone

if TYPE_CHECKING:
    from opsweek.alerts.groups import AlertGroup

app = typer.Typer(no_args_is_help=True, help="The alert inbox.")

STATUS_STYLE = {"firing": "bold red", "acknowledged": "yellow", "resolved": "green"}
STATUS_MARK = {"firing": "● firing", "acknowledged": "◐ acked", "resolved": "○ resolved"}

By = Annotated[str | None, typer.Option("--by", help="Who does it (default: the configured user).")]


def _window(app_state: State) -> timedelta:
    return timedelta(hours=app_state.settings.sal.related_window_hours)


def _actor(app_state: State, by: str | None) -> str:
    return by or app_state.settings.user


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Files, directories, mbox or maildir folders; - for stdin.")
    ],
    fmt: Annotated[str, typer.Option("--format", help=f"auto, {', '.join(FORMATS)}.")] = AUTO,
    json_: JsonOption = False,
) -> None:
    """Read alerts from files: e-mails, mbox/maildir, Alertmanager payloads, canary job logs."""
    from opsweek.alerts.inputs import from_bytes, from_path
    from opsweek.alerts.intake import IngestCounts
    from opsweek.sal.log import record_action

    if fmt != AUTO and fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}: expected auto or one of {', '.join(FORMATS)}")
    app_state = state(ctx)
    now = utcnow()
    total = IngestCounts()
    for name in paths:
        inputs = (
            from_bytes(sys.stdin.buffer.read(), fmt, now, "stdin")
            if name == "-"
            else from_path(Path(name), fmt, now)
        )
        batch = list(inputs)
        with app_state.store.writing() as session:
            counts = app_state.app.alert_changes.ingest(batch, session=session)
            record_action(
                session,
                app_state.settings.user,
                f"ingested {counts.received} alert(s) from {name}: {counts.new} new, "
                f"{counts.unparsed} unparsed",
            )
        total.add(counts)
    if json_:
        print_json(total.as_json())
        return
    console.print(
        f"received {total.received} alert(s) from {total.inputs} input(s): "
        f"{total.new} new, {total.updated} updated, {total.resolved} resolved, "
        f"{total.unparsed} unparsed"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="firing, acknowledged, resolved, or open (firing + acknowledged)."),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only alerts seen since: ISO 8601, or an age like 24h, 7d, 2w."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 200,
    group: Annotated[
        bool, typer.Option("--group", help="One row per group (one e-mail, one notification).")
    ] = False,
    filter_: Annotated[
        str,
        typer.Option(
            "--filter",
            "-f",
            help="As the Inbox's: team=data-platform severity!=warning alertname=~Hdfs.* "
            "@state=active|silenced|acked|resolved @age>1h @family=hdfs, and words.",
        ),
    ] = "",
    json_: JsonOption = False,
) -> None:
    """List alerts, unacknowledged first."""
    from rich.table import Table

    from opsweek.alerts.groups import group_alerts
    from opsweek.alerts.query import Query
    from opsweek.alerts.service import AlertFilter, alert_json, inbox_order
    from opsweek.timeutil import utcnow

    app_state = state(ctx)
    tz = zone(app_state.settings.team_timezone)
    flt = AlertFilter(status, kind, source, parse_since(since, tz) if since else None, limit)
    query = Query.parse(filter_)
    with app_state.session() as session:
        inbox = state(ctx).app.inbox(session)
        alerts = inbox_order(inbox.search(query, flt, utcnow()))
        related = inbox.with_related_sal(alerts, _window(app_state))
        rows = [
            (a.first_seen, alert_json(a, with_runbook=False) | {"has_related_sal": a.id in related})
            for a in alerts
        ]
    if group:
        _print_groups(group_alerts(alerts), {r["id"]: r for _, r in rows}, tz, json_)
        return
    if json_:
        print_json({"alerts": [r for _, r in rows]})
        return
    table = Table(title=f"Alerts ({len(rows)})")
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("status", no_wrap=True)
    table.add_column("about", no_wrap=True, max_width=20, overflow="ellipsis")
    table.add_column("title", ratio=1, overflow="fold")
    table.add_column("n", no_wrap=True, justify="right")
    table.add_column(f"first seen ({tz.key})", no_wrap=True)
    table.add_column("acked by", no_wrap=True)
    for first_seen, r in rows:
        table.add_row(
            str(r["id"]),
            f"[{STATUS_STYLE[r['status']]}]{STATUS_MARK[r['status']]}[/]",
            r["about"],
            escape(r["title"]) + (" [cyan]✎SAL[/]" if r["has_related_sal"] else ""),
            f"{r['count']}" + (" ↻" if r["flapping"] else ""),
            short_time(first_seen, tz),
            escape(r["acked_by"] or "-"),
        )
    console.print(table)


def _print_groups(
    groups: "list[AlertGroup]", shown: dict[int, dict[str, Any]], tz: ZoneInfo, json_: bool
) -> None:
    from rich.table import Table

    if json_:
        print_json(
            {"groups": [g.to_json() | {"alerts": [shown[a.id] for a in g.alerts]} for g in groups]}
        )
        return
    table = Table(title=f"Alert groups ({len(groups)})")
    table.add_column("status", no_wrap=True)
    table.add_column("n", no_wrap=True, justify="right")
    table.add_column("kind", no_wrap=True, max_width=16, overflow="ellipsis")
    table.add_column("title", ratio=1, min_width=24, overflow="fold")
    table.add_column("ids", max_width=12, overflow="fold")
    table.add_column(f"last seen ({tz.key})", no_wrap=True)
    for g in groups:
        table.add_row(
            f"[{STATUS_STYLE[g.status]}]{STATUS_MARK[g.status]}[/]",
            str(len(g.alerts)),
            ", ".join(g.kinds),
            escape(g.title),
            " ".join(str(a.id) for a in g.alerts),
            short_time(g.last_seen, tz),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    alert_id: int,
    raw: Annotated[bool, typer.Option(help="Also print the raw input.")] = False,
    json_: JsonOption = False,
) -> None:
    """An alert's details, runbook steps and history."""
    from opsweek.alerts.service import alert_json, event_json
    from opsweek.sal.log import entry_json

    app_state = state(ctx)
    with app_state.session() as session:
        inbox = state(ctx).app.inbox(session)
        alert = inbox.get(alert_id)
        data = alert_json(alert, site=app_state.app.site)
        data["history"] = [event_json(e) for e in inbox.history(alert_id)]
        data["related_sal"] = [entry_json(e) for e in inbox.related_sal(alert, _window(app_state))]
        raw_row = inbox.raw(alert)
        raw_text = raw_row.content.decode("utf-8", errors="replace") if raw_row else ""
    if json_:
        if raw:
            data["raw"] = raw_text
        print_json(data)
        return
    style = STATUS_STYLE[data["status"]]
    console.print(
        f"[bold]#{data['id']}[/] [{style}]{data['status']}[/] {data['severity']} "
        f"{data['kind']}: {escape(data['title'])}"
    )
    console.print(
        f"first seen {data['first_seen']}, last seen {data['last_seen']}, "
        f"{data['count']} time(s)" + (", flapping" if data["flapping"] else "")
    )
    if data["acked_by"]:
        console.print(f"acknowledged by {escape(data['acked_by'])} at {data['acked_at']}")
    if data["resolution_note"]:
        console.print(f"treated: {escape(data['resolution_note'])}")
    console.print("\n[bold]Runbook[/]")
    print_steps(data["runbook"])
    if data["related_sal"]:
        console.print("\n[bold]Related SAL entries[/] (newest first: has someone already acted?)")
        for entry in data["related_sal"]:
            console.print(
                f"  {entry['logged_at']} {escape(entry['nick'])}: {escape(entry['message'])}",
                soft_wrap=True,
            )
    console.print("\n[bold]Details[/]")
    for key, value in data["details"].items():
        if value not in (None, "", [], {}):
            console.print(f"  {key}: {escape(str(value))[:400]}", soft_wrap=True)
    console.print("\n[bold]History[/]")
    for event in data["history"]:
        console.print(
            f"  {event['at']} {escape(event['actor'])} {event['action']} {escape(event['note'])}"
        )
    if raw:
        console.print("\n[bold]Raw input[/]")
        console.print(escape(raw_text), soft_wrap=True, markup=False)


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: int,
    note: Annotated[str, typer.Option("--note", help="Why, or what happens next.")] = "",
    by: By = None,
    json_: JsonOption = False,
) -> None:
    """Acknowledge an alert: the team sees it is taken. An Alertmanager alert is silenced
    there too (Karma's ACK!), until it resolves (alertmanager.ack_silences)."""
    from opsweek.alerts.service import alert_json

    app_state = state(ctx)
    alert = app_state.app.acknowledge(alert_id, _actor(app_state, by), note)
    data = alert_json(alert, False)
    _done(data, f"acknowledged alert {alert_id}", json_)


@app.command("unack")
def unack(ctx: typer.Context, alert_id: int, by: By = None, json_: JsonOption = False) -> None:
    """Take an acknowledgement back: the alert fires again, and its silence is expired."""
    from opsweek.alerts.service import alert_json

    app_state = state(ctx)
    alert = app_state.app.alert_changes.unack(alert_id, _actor(app_state, by))
    app_state.app.send_silences()
    _done(alert_json(alert, False), f"took back the acknowledgement of alert {alert_id}", json_)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    alert_id: int,
    note: Annotated[str, typer.Option("--note", help="How it was treated (for the handoff).")],
    by: By = None,
    json_: JsonOption = False,
) -> None:
    """Resolve an alert, saying how it was treated."""
    from opsweek.alerts.service import alert_json

    app_state = state(ctx)
    alert = app_state.app.alert_changes.resolve(alert_id, _actor(app_state, by), note)
    data = alert_json(alert, False)
    _done(data, f"resolved alert {alert_id}", json_)


@app.command("note")
def note(
    ctx: typer.Context, alert_id: int, text: str, by: By = None, json_: JsonOption = False
) -> None:
    """Add a note to an alert's history."""
    from opsweek.alerts.service import alert_json

    app_state = state(ctx)
    alert = app_state.app.alert_changes.note(alert_id, _actor(app_state, by), text)
    data = alert_json(alert, False)
    _done(data, f"noted on alert {alert_id}", json_)


def _done(data: dict[str, object], message: str, json_: bool) -> None:
    if json_:
        print_json(data)
    else:
        console.print(f"{message}: {escape(str(data['title']))}")


@app.command("run")
def run_step(
    ctx: typer.Context,
    alert_id: int,
    step: Annotated[
        str, typer.Argument(help="The step's id as `alerts show` lists it (id#2: its second).")
    ],
    yes: Annotated[
        bool, typer.Option("--yes", help="Run a step that changes something without asking.")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who runs it (default: the CLI's user).")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Run one of an alert's steps on its host, exactly as it is shown, through the host's
    runner ([[runners]]): a read-only step at once; a step that changes something only when
    runner.allow_changes lists it, after its command is shown and confirmed. Its output is
    kept on the alert. Exit 1 when it failed."""
    from rich.markup import escape

    app_state = state(ctx)
    runner = app_state.app.step_runner
    planned = runner.plan(alert_id, step)
    command = planned.step.command
    if not json_ or (planned.step.effect != "read" and not yes):
        console.print(f"{escape(planned.step.where_line())}:")
        console.print(escape(command), soft_wrap=True, markup=False)
    if planned.step.effect != "read" and not yes and not typer.confirm("run it?", default=False):
        raise typer.Exit(1)
    result = runner.run(planned, by or app_state.settings.user, confirmed=command)
    if json_:
        print_json(result.as_json())
    else:
        console.print(escape(result.output), soft_wrap=True, markup=False, end="")
        said = result.error or f"exit {result.exit_status}"
        console.print(f"{escape(said)} ({result.output_size} characters of output)")
    raise typer.Exit(0 if result.ok else 1)
