"""``opsweek team``: who is on the team and when they are away."""

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opsweek.cli.output import JsonOption, console, fail, print_json
from opsweek.cli.rotation_views import print_conflicts
from opsweek.cli.state import state
from opsweek.errors import BadInput
from opsweek.timeutil import parse_date

if TYPE_CHECKING:
    from opsweek.db.models import Person
    from opsweek.rotation.availability import AwayPeriod

app = typer.Typer(no_args_is_help=True, help="Team members and their away periods.")


def person_json(person: "Person") -> dict[str, object]:
    return {
        "username": person.username,
        "name": person.name,
        "email": person.email,
        "irc_nick": person.irc_nick,
        "slack_id": person.slack_id,
        "timezone": person.timezone,
        "active": person.active,
    }


def period_json(period: "AwayPeriod") -> dict[str, object]:
    return {
        "username": period.username,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "reason": period.reason,
    }


@app.command("add")
def add(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option(help="Full name.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    irc: Annotated[str, typer.Option("--irc", help="IRC nick.")] = "",
    slack: Annotated[str, typer.Option("--slack", help="Slack member id.")] = "",
    timezone: Annotated[str, typer.Option(help="IANA timezone, e.g. Europe/Paris.")] = "UTC",
    json_: JsonOption = False,
) -> None:
    """Add someone to the team."""
    from opsweek.rotation.people import PersonRecord
    from opsweek.rotation.team import Team
    from opsweek.sal.log import record_action

    with state(ctx).session() as session:
        person = Team(session).add(PersonRecord(username, name, email, irc, slack, timezone))
        record_action(session, state(ctx).settings.user, f"team: added {username}")
        data = person_json(person)
    if json_:
        print_json(data)
    else:
        console.print(f"added {username} ({timezone})")


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include people who left.")] = False,
    json_: JsonOption = False,
) -> None:
    """List team members."""
    from rich.table import Table

    from opsweek.rotation.team import Team

    with state(ctx).session() as session:
        people = [person_json(p) for p in Team(session).members(include_inactive=all_)]
    if json_:
        print_json({"people": people})
        return
    table = Table(title=f"Team ({len(people)})")
    for column in ("username", "name", "e-mail", "IRC", "timezone", "active"):
        table.add_column(column)
    for p in people:
        table.add_row(
            str(p["username"]),
            str(p["name"]),
            str(p["email"]),
            str(p["irc_nick"]),
            str(p["timezone"]),
            "yes" if p["active"] else "left",
        )
    console.print(table)


@app.command("remove")
def remove(ctx: typer.Context, username: str, json_: JsonOption = False) -> None:
    """Take someone off the team. Their past weeks stay; published weeks become conflicts."""
    from opsweek.rotation.team import Team
    from opsweek.sal.log import record_action

    app_state = state(ctx)
    with app_state.session() as session:
        person = Team(session).remove(username)
        record_action(session, app_state.settings.user, f"team: removed {username}")
        data = person_json(person)
        conflicts = app_state.app.rotation(session).conflicts()
    if json_:
        print_json({**data, "conflicts": [c.as_json() for c in conflicts]})
        return
    console.print(f"removed {username} from the team")
    print_conflicts(conflicts)


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV, TOML or iCalendar (.ics) file.")],
    kind: Annotated[str, typer.Option(help="people, away, or auto (from the file).")] = "auto",
    json_: JsonOption = False,
) -> None:
    """Import people (CSV username,name,email,irc_nick,timezone or TOML [[people]]) or away
    periods (CSV username,start,end,reason or an iCalendar export of the team calendar)."""
    from opsweek.rotation.imports import (
        parse_away_csv,
        parse_away_ics,
        parse_team_csv,
        parse_team_toml,
    )
    from opsweek.rotation.team import Team
    from opsweek.sal.log import record_action

    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    detected = _detect(path, data) if kind == "auto" else kind
    if detected not in ("people", "away"):
        fail(f"unknown --kind {kind!r}: expected people, away or auto")
    app_state = state(ctx)
    with app_state.session() as session:
        team = Team(session)
        if detected == "people":
            text = _text(path, data)
            records = parse_team_toml(text) if path.suffix == ".toml" else parse_team_csv(text)
            counts = team.import_people(records)
            record_action(
                session,
                app_state.settings.user,
                f"team: imported people from {path.name} ({counts.added} added, "
                f"{counts.updated} updated)",
            )
            conflicts = []
        else:
            if path.suffix.lower() == ".ics":
                periods = parse_away_ics(data, team.records())
                source = "ics"
            else:
                periods = parse_away_csv(_text(path, data))
                source = "csv"
            counts = team.import_away(periods, source)
            record_action(
                session,
                app_state.settings.user,
                f"team: imported {counts.added} away period(s) from {path.name}",
            )
            conflicts = app_state.app.rotation(session).conflicts()
    result = {
        "kind": detected,
        "added": counts.added,
        "updated": counts.updated,
        "skipped": counts.skipped,
        "conflicts": [c.as_json() for c in conflicts],
    }
    if json_:
        print_json(result)
        return
    what = "people" if detected == "people" else "away periods"
    console.print(
        f"imported {what} from {path}: {counts.added} added, {counts.updated} "
        f"updated, {counts.skipped} already known"
    )
    print_conflicts(conflicts)


def _text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None


def _detect(path: Path, data: bytes) -> str:
    if path.suffix.lower() == ".ics" or data.lstrip().startswith(b"BEGIN:VCALENDAR"):
        return "away"
    if path.suffix.lower() == ".toml":
        return "people"
    header = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    columns = {column.strip() for column in header.split(",")}
    return "away" if {"start", "end"} <= columns else "people"


@app.command("away")
def away(
    ctx: typer.Context,
    username: str,
    start: Annotated[str, typer.Option("--from", help="First day away (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day away (YYYY-MM-DD), inclusive.")],
    reason: Annotated[str, typer.Option(help="vacation, leave, conference...")] = "",
    json_: JsonOption = False,
) -> None:
    """Record that someone is away; reports published weeks it collides with."""
    from opsweek.rotation.imports import checked_period
    from opsweek.rotation.team import Team
    from opsweek.sal.log import record_action

    period = checked_period(username, parse_date(start, "--from"), parse_date(end, "--to"), reason)
    app_state = state(ctx)
    with app_state.session() as session:
        Team(session).add_away(period)
        record_action(
            session,
            app_state.settings.user,
            f"team: {username} away {period.start} to {period.end}",
        )
        conflicts = app_state.app.rotation(session).conflicts()
    if json_:
        print_json({**period_json(period), "conflicts": [c.as_json() for c in conflicts]})
        return
    console.print(
        f"{username} is away {period.start} to {period.end}"
        + (f" ({period.reason})" if period.reason else "")
    )
    print_conflicts(conflicts)


@app.command("away-list")
def away_list(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="Only periods ending on or after this date (default: today).")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """List away periods."""
    from rich.table import Table

    from opsweek.rotation.team import Team

    first = parse_date(since, "--since") if since else date.today()
    with state(ctx).session() as session:
        periods = [p for p in Team(session).away_periods() if p.end >= first]
    if json_:
        print_json({"away": [period_json(p) for p in periods]})
        return
    table = Table(title=f"Away from {first.isoformat()}")
    for column in ("username", "from", "to", "reason"):
        table.add_column(column)
    for p in periods:
        table.add_row(p.username, p.start.isoformat(), p.end.isoformat(), p.reason)
    console.print(table)


@app.command("password")
def password(
    ctx: typer.Context,
    username: str,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from stdin.")] = False,
    json_: JsonOption = False,
) -> None:
    """Set someone's password for the web pages (stored as an argon2 hash)."""
    from opsweek.passwords import set_password
    from opsweek.sal.log import record_action

    if stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    app_state = state(ctx)
    with app_state.session() as session:
        set_password(session, username, secret)
        record_action(session, app_state.settings.user, f"team: set the web password of {username}")
    if json_:
        print_json({"username": username, "password_set": True})
    else:
        console.print(f"web password set for {username}")
