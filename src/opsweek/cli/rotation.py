"""``opsweek rotation`` and ``opsweek who``: the ops-week schedule."""

from pathlib import Path
from typing import Annotated

import typer

from opsweek.cli.output import JsonOption, console, local_time, print_json
from opsweek.cli.rotation_views import print_conflicts, weeks_table
from opsweek.cli.state import state
from opsweek.timeutil import iso, parse_date, parse_instant

app = typer.Typer(no_args_is_help=True, help="Plan, show and change the ops-week rotation.")


@app.command("plan")
def plan(
    ctx: typer.Context,
    weeks: Annotated[int, typer.Option("--weeks", "-n", help="How many weeks to plan.")] = 12,
    start: Annotated[
        str | None,
        typer.Option("--from", help="First week to plan (any date in it); default: this week."),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show the plan without saving it.")] = False,
    json_: JsonOption = False,
) -> None:
    """Assign the next weeks fairly. Published weeks stay as they are."""
    app_state = state(ctx)
    with app_state.session() as session:
        rotation = app_state.app.rotation(session)
        result = rotation.plan(weeks, parse_date(start, "--from") if start else None, dry_run)
    if json_:
        print_json(
            {
                "weeks": [w.as_json() for w in result.weeks],
                "changed": [w.isoformat() for w in result.changed],
                "dry_run": dry_run,
                "conflicts": [c.as_json() for c in result.conflicts],
            }
        )
        return
    verb = "would change" if dry_run else "changed"
    console.print(
        weeks_table(
            result.weeks, rotation.config, f"Rotation plan ({len(result.changed)} weeks {verb})"
        )
    )
    print_conflicts(result.conflicts)


@app.command("show")
def show(
    ctx: typer.Context,
    past: Annotated[int, typer.Option(help="Also show this many past weeks.")] = 4,
    json_: JsonOption = False,
) -> None:
    """Show the rotation from a few weeks back onwards."""
    from opsweek.rotation.solver import WEEK

    app_state = state(ctx)
    with app_state.session() as session:
        rotation = app_state.app.rotation(session)
        weeks = rotation.weeks(rotation.current_week - WEEK * past)
        conflicts = rotation.conflicts()
    if json_:
        print_json(
            {"weeks": [w.as_json() for w in weeks], "conflicts": [c.as_json() for c in conflicts]}
        )
        return
    console.print(weeks_table(weeks, rotation.config, "Ops-week rotation"))
    print_conflicts(conflicts)


@app.command("conflicts")
def conflicts(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Published weeks whose person is away or gone, with a suggested fix. Exit 1 if any."""
    app_state = state(ctx)
    with app_state.session() as session:
        found = app_state.app.rotation(session).conflicts()
    if json_:
        print_json({"conflicts": [c.as_json() for c in found]})
    elif found:
        print_conflicts(found)
    else:
        console.print("no conflicts in the published weeks")
    if found:
        raise typer.Exit(1)


AllowConsecutive = Annotated[
    bool,
    typer.Option("--allow-consecutive", help="Allow someone to be on duty two weeks in a row."),
]


@app.command("swap")
def swap(
    ctx: typer.Context,
    week_a: Annotated[str, typer.Argument(help="A date in the first week.")],
    week_b: Annotated[str, typer.Argument(help="A date in the second week.")],
    allow_consecutive: AllowConsecutive = False,
    json_: JsonOption = False,
) -> None:
    """Swap the people of two weeks, checked against their availability."""
    app_state = state(ctx)
    with app_state.session() as session:
        rotation = app_state.app.rotation(session)
        changed = rotation.swap(
            parse_date(week_a, "WEEK_A"), parse_date(week_b, "WEEK_B"), allow_consecutive
        )
    if json_:
        print_json({"weeks": [w.as_json() for w in changed], "by": rotation.actor})
        return
    for week in changed:
        console.print(f"week of {week.week}: {week.username}")


@app.command("cover")
def cover(
    ctx: typer.Context,
    week: Annotated[str, typer.Argument(help="A date in the week to cover.")],
    by: Annotated[str, typer.Option("--by", help="Who takes the week.")],
    allow_consecutive: AllowConsecutive = False,
    json_: JsonOption = False,
) -> None:
    """Have someone take a week (covering for whoever had it)."""
    app_state = state(ctx)
    with app_state.session() as session:
        rotation = app_state.app.rotation(session)
        changed = rotation.cover(parse_date(week, "WEEK"), by, allow_consecutive)
    if json_:
        print_json({"weeks": [changed.as_json()], "by": rotation.actor})
    else:
        console.print(f"week of {changed.week}: {changed.username} covers")


@app.command("history")
def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many changes to show.")] = 20,
    json_: JsonOption = False,
) -> None:
    """Changes to the rotation: plans, swaps and covers, who asked and when."""
    from rich.table import Table

    app_state = state(ctx)
    with app_state.session() as session:
        rows = [
            {
                "at": iso(c.at),
                "actor": c.actor,
                "action": c.action,
                "summary": c.summary,
                "detail": c.detail,
            }
            for c in app_state.app.rotation(session).changes(limit)
        ]
    if json_:
        print_json({"changes": rows})
        return
    table = Table(title="Rotation changes")
    for column in ("at (UTC)", "by", "action", "summary"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["at"]), str(row["actor"]), str(row["action"]), str(row["summary"]))
    console.print(table)


@app.command("ics")
def ics(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
    person: Annotated[str | None, typer.Option(help="Only this person's weeks.")] = None,
    json_: JsonOption = False,
) -> None:
    """Export the rotation as an iCalendar file, one event per ops week."""
    app_state = state(ctx)
    with app_state.session() as session:
        data = app_state.app.rotation(session).calendar(person)
    events = data.count(b"BEGIN:VEVENT")
    if output:
        output.write_bytes(data)
    if json_:
        print_json(
            {
                "path": str(output) if output else None,
                "events": events,
                **({} if output else {"ics": data.decode()}),
            }
        )
    elif output:
        console.print(f"wrote {events} ops weeks to {output}")
    else:
        typer.echo(data.decode(), nl=False)


def who(
    ctx: typer.Context,
    at: Annotated[str | None, typer.Option(help="A moment (ISO 8601) other than now.")] = None,
    json_: JsonOption = False,
) -> None:
    """Who is on ops-week duty now (or --at a time), and who is next."""
    from opsweek.rotation.on_duty import on_duty

    ops = state(ctx).app
    config = ops.rotation_config
    tz = config.rule.tz
    with ops.store.engine.connect() as connection:
        duty = on_duty(connection, config, at=parse_instant(at, tz) if at else None)
    current, upcoming = duty.current, duty.next
    if json_:
        print_json(duty.as_json())
        return
    if current is None:
        console.print("nobody is on duty: plan the rotation with `opsweek rotation plan`")
    else:
        console.print(
            f"[bold]{current.name or current.username}[/] ({current.username}) is on "
            f"duty until {local_time(current.ends_at, tz)}"
        )
    if upcoming is not None:
        console.print(
            f"next: {upcoming.name or upcoming.username} ({upcoming.username}) from "
            f"{local_time(upcoming.starts_at, tz)}"
        )
