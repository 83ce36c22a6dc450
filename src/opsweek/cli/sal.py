"""``opsweek log`` and ``opsweek sal``: write and read the Server Admin Log."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, fail, print_json
from opsweek.cli.state import state
from opsweek.timeutil import parse_date, parse_instant, zone

app = typer.Typer(no_args_is_help=True, help="Read and import the Server Admin Log.")


def log(
    ctx: typer.Context,
    message: Annotated[str, typer.Argument(help="What was done.")],
    nick: Annotated[
        str | None, typer.Option(help="Who did it (default: the configured user).")
    ] = None,
    project: Annotated[str | None, typer.Option(help="SAL project (default: sal.project).")] = None,
    corrects: Annotated[int | None, typer.Option(help="Id of an entry this one corrects.")] = None,
    json_: JsonOption = False,
) -> None:
    """Log an entry to the SAL, like `!log` on IRC."""
    from opsweek.sal.log import entry_json

    app_state = state(ctx)
    settings = app_state.settings
    with app_state.session() as session:
        sal = state(ctx).app.sal(session)
        entry = sal.append(
            nick or settings.user,
            message,
            project=project or settings.sal.project,
            source="cli",
            corrects=corrects,
            actor=settings.user,
        )
        data = entry_json(entry, sal.refs([entry.id])[entry.id])
    if json_:
        print_json(data)
    else:
        console.print(f"logged SAL entry {data['id']} at {data['logged_at']}")


def _print_entries(entries: list[dict[str, object]]) -> None:
    for e in entries:
        corrects = f" (corrects #{e['corrects']})" if e["corrects"] else ""
        console.print(
            f"[dim]#{e['id']} {e['logged_at']}[/] [bold]{escape(str(e['nick']))}[/]: "
            f"{escape(str(e['message']))}{corrects}",
            soft_wrap=True,
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="Only entries since (ISO 8601).")] = None,
    nick: Annotated[str | None, typer.Option(help="Only this nick's entries.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    json_: JsonOption = False,
) -> None:
    """The newest SAL entries."""
    from opsweek.sal.log import SalFilter, entry_json

    app_state = state(ctx)
    tz = zone(app_state.settings.team_timezone)
    flt = SalFilter(since=parse_instant(since, tz) if since else None, nick=nick, limit=limit)
    with app_state.session() as session:
        sal = state(ctx).app.sal(session)
        entries = sal.list(flt)
        refs = sal.refs([e.id for e in entries])
        rows = [entry_json(e, refs[e.id]) for e in entries]
    if json_:
        print_json({"entries": rows})
    else:
        _print_entries(rows)


@app.command("search")
def search(
    ctx: typer.Context,
    query: str,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    json_: JsonOption = False,
) -> None:
    """Full-text search of the SAL (every word must appear), newest first."""
    from opsweek.sal.log import entry_json

    with state(ctx).session() as session:
        sal = state(ctx).app.sal(session)
        entries = sal.search(query, limit)
        refs = sal.refs([e.id for e in entries])
        rows = [entry_json(e, refs[e.id]) for e in entries]
    if json_:
        print_json({"query": query, "entries": rows})
    elif rows:
        _print_entries(rows)
    else:
        console.print(f"nothing in the SAL matches {escape(query)!r}")


@app.command("wiki")
def wiki(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="Only this UTC day (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries.")] = 500,
    json_: JsonOption = False,
) -> None:
    """The SAL in its wiki form: == YYYY-MM-DD == headings, newest first."""
    from opsweek.sal.log import SalFilter
    from opsweek.sal.wiki import WikiEntry, render

    since = until = None
    if day:
        first = parse_date(day, "--day")
        since = datetime.combine(first, time(), tzinfo=UTC)
        until = since + timedelta(days=1)
    with state(ctx).session() as session:
        entries = state(ctx).app.sal(session).list(SalFilter(since=since, until=until, limit=limit))
        text = render(WikiEntry(e.logged_at, e.nick, e.message) for e in entries)
    if json_:
        print_json({"wiki": text, "entries": len(entries)})
    else:
        typer.echo(text, nl=False)


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A SAL page in wiki form.")],
    project: Annotated[str | None, typer.Option(help="Project of the imported entries.")] = None,
    json_: JsonOption = False,
) -> None:
    """Import an existing SAL in wiki form (skipping entries already present)."""
    from opsweek.sal.wiki import parse

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    entries = parse(text)
    app_state = state(ctx)
    with app_state.session() as session:
        added = (
            state(ctx)
            .app.sal(session)
            .import_entries(
                entries, source="import", project=project or app_state.settings.sal.project
            )
        )
    result = {"read": len(entries), "added": added, "skipped": len(entries) - added}
    if json_:
        print_json(result)
    else:
        console.print(
            f"imported {added} SAL entries from {path} ({result['skipped']} already present)"
        )


@app.command("publish")
def publish(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Publish the entries waiting for the SAL wiki page now (`opsweek serve` does it every
    few seconds), and say what still waits, for the wiki and for IRC."""
    from opsweek.errors import ConfigError
    from opsweek.sal.outbox import summary

    app_state = state(ctx)
    ops = app_state.app
    result: dict[str, object] = {}
    if "wiki" in app_state.settings.sal.publish:
        published = ops.publish_sal()
        result["wiki"] = {
            "added": published.added,
            "already_there": published.already,
            "failed": published.failed,
            "conflicts": published.conflicts,
            "stopped": published.stopped,
            "error": published.error,
        }
    elif not app_state.settings.sal.publish:
        raise ConfigError("sal.publish is empty: opsweek publishes its SAL entries nowhere")
    with app_state.session() as session:
        result["outbox"] = summary(session)
    if json_:
        print_json(result)
        return
    wiki = result.get("wiki")
    if isinstance(wiki, dict):
        console.print(
            f"wiki: {wiki['added']} added, {wiki['already_there']} already there, "
            f"{wiki['failed']} waiting for a retry"
            + (f" ({escape(str(wiki['error']))})" if wiki["error"] else "")
        )
    outbox = result["outbox"]
    assert isinstance(outbox, dict)
    for target, waiting in sorted(outbox.items()):
        error = f"; last error: {escape(str(waiting['error']))}" if waiting.get("error") else ""
        console.print(
            f"{target}: {waiting['published']} published, {waiting['waiting']} waiting{error}"
        )
        for stopped in waiting["stopped_entries"]:
            console.print(
                f"{target}: entry {stopped['entry']} {escape(str(stopped['error']))}: add it "
                "to the page by hand"
            )


@app.command("sync")
def sync(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Read the SAL wiki page and import the entries logged there by anyone else (`opsweek
    serve` does it every sal.sync_minutes)."""
    synced = state(ctx).app.sync_sal()
    data = {
        "revision": synced.revid,
        "unchanged": synced.unchanged,
        "read": synced.read,
        "added": synced.added,
    }
    if json_:
        print_json(data)
    elif synced.unchanged:
        console.print(f"the SAL page is unchanged since the last sync (revision {synced.revid})")
    else:
        console.print(
            f"read {synced.read} entries of revision {synced.revid}; {synced.added} were new"
        )
