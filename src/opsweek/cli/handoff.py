"""``opsweek handoff``, ``opsweek remind``, ``opsweek decision`` and ``opsweek decisions``."""

import json
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, note, print_json
from opsweek.cli.state import state
from opsweek.errors import BadInput, Unavailable
from opsweek.timeutil import parse_date

decisions_app = typer.Typer(no_args_is_help=True, help="Decisions mailed to the alerts list.")
handoff_app = typer.Typer(invoke_without_command=True)
FORMATS = ("md", "html", "json")


def _targets(text: str | None, allowed: tuple[str, ...]) -> set[str]:
    targets = {part.strip() for part in (text or "").split(",") if part.strip()}
    unknown = targets - set(allowed)
    if unknown:
        raise BadInput(f"unknown target(s) {', '.join(sorted(unknown))}: use {','.join(allowed)}")
    return targets


def _print_results(results: list[dict[str, Any]], what: str) -> None:
    for result in results:
        if "error" in result:
            note(f"[red]{what} to {result['target']} failed:[/] {escape(result['error'])}")
        elif result["sent"]:
            note(f"{what} sent to {result['target']}")
        else:
            note(f"{what} was already sent to {result['target']}; not sent again")


@handoff_app.callback()
def handoff(
    ctx: typer.Context,
    week: Annotated[
        str | None,
        typer.Option(help="A day in the ops week (default: the week being handed off)."),
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="md, html or json.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    publish: Annotated[
        str | None,
        typer.Option(help="Post it: slack (a thread in chat.team_channel), email, or both."),
    ] = None,
    json_: JsonOption = False,
) -> None:
    """The handoff report for one ops week, written from what opsweek knows."""
    from opsweek.handoff.render import to_html, to_markdown

    if ctx.invoked_subcommand is not None:
        return  # `handoff tasks`: its own options

    if format_ not in FORMATS:
        raise BadInput(f"unknown format {format_!r}: use md, html or json")
    targets = _targets(publish, ("slack", "email"))
    ops = state(ctx).app
    tz = ops.timezone
    with ops.session() as session:
        service = ops.handoff(session)
        report = service.report(parse_date(week) if week else None)
        results = service.publish(report, targets) if targets else []
    if json_ or format_ == "json":
        data = report.as_json()
        if targets:
            data["published"] = results
        if output:
            output.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            print_json(data)
    else:
        text = to_markdown(report, tz) if format_ == "md" else to_html(report, tz)
        if output:
            output.write_text(text, encoding="utf-8")
            note(f"wrote {output}")
        else:
            console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
    _print_results(results, "handoff")
    for reason in report.inputs.unavailable:
        note(f"[yellow]unavailable:[/] {escape(reason)}")
    if any("error" in r for r in results):
        raise typer.Exit(1)


@handoff_app.command("tasks")
def tasks(
    ctx: typer.Context,
    week: Annotated[
        str | None,
        typer.Option(help="A day in the ops week (default: the week being handed off)."),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the changes (default: only show them).")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """The runbook's handoff of the outgoing person's tasks in the ops-week column: unassign
    the assigned ones not started, hand over the ones in progress to the next person (a
    comment only when nobody is next). A dry run unless --apply; then each change is made
    unless the task changed since it was read (left alone, and named), and goes to the SAL."""
    ops = state(ctx).app
    with ops.session() as session:
        service = ops.handoff(session)
        changes = service.task_changes(parse_date(week) if week else None)
        done = service.apply_task_changes(changes) if apply else [(c, "") for c in changes]
    if json_:
        print_json(
            {
                "applied": apply,
                "changes": [{**c.as_json(), "outcome": outcome or None} for c, outcome in done],
            }
        )
    else:
        if not done:
            note("no task of the outgoing person to unassign or hand over")
        for change, outcome in done:
            what = escape(change.describe())
            console.print(f"{what}: {escape(outcome)}" if apply else f"would {what}")
            console.print(f"  [dim]{escape(change.comment)}[/]")
    left = [c for c, outcome in done if apply and outcome != "applied"]
    raise typer.Exit(1 if left else 0)


def remind(
    ctx: typer.Context,
    via: Annotated[str, typer.Option(help="slack, email, or both.")] = "slack,email",
    json_: JsonOption = False,
) -> None:
    """Remind the current and next person of the handoff when it is near
    (duties.reminder_hours); once per week and channel. `opsweek serve` does this on its own."""
    targets = _targets(via, ("slack", "email"))
    ops = state(ctx).app
    with ops.session() as session:
        service = ops.handoff(session)
        due = service.reminder_due()
        results = service.remind(targets)
    if json_:
        print_json({"due": due is not None, "results": results})
    elif due is None:
        console.print("the handoff is not within the reminder lead time; nothing sent")
    _print_results(results, "reminder")
    if any("error" in r for r in results):
        raise typer.Exit(1)


def decision(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The decision, as the team should read it.")],
    mail: Annotated[
        bool, typer.Option("--mail/--no-mail", help="Mail it to mail.alerts_list.")
    ] = True,
    json_: JsonOption = False,
) -> None:
    """Record a decision taken with part of the team and mail it to the alerts list."""
    from opsweek.handoff.decisions import decision_json

    ops = state(ctx).app
    alerts_list = ops.settings.mail.alerts_list
    with ops.session() as session:
        decisions = ops.decisions(session)
        recorded = decisions.record(text)
        session.commit()  # kept even when mailing fails
        error = None
        if mail:
            try:
                decisions.mail(recorded, ops.require_mailer(), alerts_list)
            except Unavailable as exc:
                error = str(exc)
        data = decision_json(recorded)
    if json_:
        print_json(data)
    else:
        mailed = f", mailed to {alerts_list}" if data["mailed_at"] else ""
        console.print(f"recorded decision #{data['id']}{mailed}")
    if error:
        note(
            f"[red]error:[/] {escape(error)}; the decision is kept: "
            f"send it later with `opsweek decisions send {data['id']}`"
        )
        raise typer.Exit(2)


@decisions_app.command("list")
def decisions_list(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="Only since this date.")] = None,
    json_: JsonOption = False,
) -> None:
    """Recorded decisions, oldest first."""
    from opsweek.handoff.decisions import decision_json

    ops = state(ctx).app
    with ops.session() as session:
        start = None
        if since:
            start = datetime.combine(parse_date(since), time(), ops.timezone)
        rows = [decision_json(d) for d in ops.decisions(session).list(start)]
    if json_:
        print_json({"decisions": rows})
        return
    for row in rows:
        mailed = "" if row["mailed_at"] else " [yellow](not mailed)[/]"
        console.print(
            f"#{row['id']} {row['at']} [bold]{escape(row['by'])}[/]: {escape(row['text'])}{mailed}",
            soft_wrap=True,
        )


@decisions_app.command("send")
def decisions_send(
    ctx: typer.Context,
    decision_id: Annotated[int, typer.Argument(help="Decision id.")],
    json_: JsonOption = False,
) -> None:
    """Mail a recorded decision to the alerts list (again only if it was never sent)."""
    from opsweek.handoff.decisions import decision_json

    ops = state(ctx).app
    with ops.session() as session:
        decisions = ops.decisions(session)
        recorded = decisions.get(decision_id)
        sent = decisions.mail(recorded, ops.require_mailer(), ops.settings.mail.alerts_list)
        data = {**decision_json(recorded), "sent_now": sent}
    if json_:
        print_json(data)
    else:
        console.print(
            f"decision #{decision_id} mailed"
            if sent
            else f"decision #{decision_id} was already mailed"
        )
