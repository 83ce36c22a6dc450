"""``opsweek init`` and ``opsweek doctor``: from the demo to the team's own systems: a
commented opsweek.toml for a team, then every connection it configures tried for real."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state

if TYPE_CHECKING:
    from opsweek.rotation.people import PersonRecord


def doctor(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Try every configured connection for real (the store, mail, Alertmanager, Airflow,
    tracker, chat, SAL wiki, IRC, runners, warehouse, Prometheus) and say, one line each,
    what works and why not. Changes nothing. Exit 0 only when all of them work."""
    from opsweek.doctor import examine, probes

    app_state = state(ctx)
    found = examine(probes(app_state.app))
    if json_:
        print_json({"ok": all(f.ok for f in found), "connections": [f.as_json() for f in found]})
    else:
        source = app_state.settings.config_path or "no opsweek.toml: the defaults"
        console.print(f"[dim]settings: {escape(str(source))}[/]")
        for finding in found:
            mark = "[green]ok[/]  " if finding.ok else "[red]FAIL[/]"
            console.print(
                f"{mark} {escape(finding.name)} [dim]({escape(finding.what)})[/]: "
                f"{escape(finding.said)}",
                soft_wrap=True,
            )
        if len(found) == 1:
            console.print(
                "[dim]only the store is configured: opsweek init writes an opsweek.toml for "
                "your team's systems[/]"
            )
    raise typer.Exit(0 if all(f.ok for f in found) else 1)


def init(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Option("--path", help="Where to write it (opsweek.env goes beside it).")
    ] = Path("opsweek.toml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="The team's timezone (IANA).")
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option(
            "--person",
            help="username:Full Name, or username:Full Name:Europe/Paris: a team member (repeat).",
        ),
    ] = None,
    database: Annotated[
        str,
        typer.Option("--database", help="A PostgreSQL URL (default: SQLite in --data-dir)."),
    ] = "",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="The team's data directory (default: opsweek-data beside the file, apart "
            "from the demo's).",
        ),
    ] = None,
    base_url: Annotated[str, typer.Option("--base-url", help="Where people reach opsweek.")] = "",
    alertmanager: Annotated[
        list[str] | None,
        typer.Option("--alertmanager", help="An Alertmanager URL (repeat for an HA pair)."),
    ] = None,
    imap: Annotated[
        str,
        typer.Option(
            "--imap",
            help="Alert mail read from user@host, user@host:993/Folder (TLS), or "
            "imap://user@host:143 (no TLS).",
        ),
    ] = "",
    smtp_listen: Annotated[
        str, typer.Option("--smtp-listen", help="Alert mail from the relay: host:port.")
    ] = "",
    airflow: Annotated[
        list[str] | None,
        typer.Option("--airflow", help="name=https://user@airflow.example.org (repeat)."),
    ] = None,
    tracker: Annotated[str, typer.Option("--tracker", help="Phabricator's URL.")] = "",
    tracker_column: Annotated[
        str, typer.Option("--tracker-column", help="The ops-week column's PHID.")
    ] = "",
    slack_channel: Annotated[
        str, typer.Option("--slack-channel", help="The collaboration channel's id.")
    ] = "",
    wiki_api: Annotated[str, typer.Option("--wiki-api", help="The SAL wiki's api.php.")] = "",
    wiki_page: Annotated[str, typer.Option("--wiki-page", help="The SAL page.")] = "",
    wiki_user: Annotated[str, typer.Option("--wiki-user", help="Its bot user.")] = "",
    irc: Annotated[str, typer.Option("--irc", help="The IRC server: host or host:port.")] = "",
    irc_channel: Annotated[str, typer.Option("--irc-channel", help="Its channel.")] = "",
    irc_nick: Annotated[str, typer.Option("--irc-nick", help="The bot's nick.")] = "opsweek",
    runner: Annotated[
        list[str] | None,
        typer.Option(
            "--runner", help="host=user@address or host=user@address:port: a runner host (repeat)."
        ),
    ] = None,
    ssh_key: Annotated[
        str, typer.Option("--ssh-key", help="The runners' SSH private key (default: ~/.ssh's).")
    ] = "",
    known_hosts: Annotated[
        str, typer.Option("--known-hosts", help="Their known_hosts file (default: ~/.ssh's).")
    ] = "",
    launcher: Annotated[str, typer.Option("--launcher", help="The jobs' launcher host.")] = "",
    files_root: Annotated[
        str, typer.Option("--files-root", help="HDFS (hdfs://...) or a directory.")
    ] = "",
    warehouse: Annotated[str, typer.Option("--warehouse", help="duckdb or spark.")] = "",
    json_: JsonOption = False,
) -> None:
    """Write a commented opsweek.toml for a team's systems, and its secrets in opsweek.env
    beside it (readable by you only; asked for when you run it in a terminal, else left for
    you to fill); add the team's people. Then run opsweek doctor."""
    import os
    import sys

    from opsweek.config.init_file import Answers, render
    from opsweek.errors import BadInput
    from opsweek.timeutil import zone

    env_path = path.parent / "opsweek.env"
    if not force and (path.exists() or env_path.exists()):
        raise BadInput(f"{path} or {env_path} exists: --force overwrites it")
    records = [_person(entry) for entry in person or []]
    interactive = sys.stdin.isatty() and not json_
    if timezone is None:
        timezone = typer.prompt("The team's timezone", default="UTC") if interactive else "UTC"
    try:
        zone(timezone)
    except ValueError as exc:
        raise BadInput(f"--timezone: {exc}") from None
    answers = Answers(
        timezone=timezone,
        database_url=database,
        data_dir=str((data_dir or path.parent / "opsweek-data").resolve()),
        web_base_url=base_url,
        alertmanagers=alertmanager or [],
        imap=imap,
        smtp_listen=smtp_listen,
        airflow=airflow or [],
        tracker_url=tracker,
        tracker_column=tracker_column,
        slack_channel=slack_channel,
        wiki_api=wiki_api,
        wiki_page=wiki_page,
        wiki_user=wiki_user,
        irc=irc,
        irc_channel=irc_channel,
        irc_nick=irc_nick,
        runners=runner or [],
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        launcher=launcher,
        files_root=files_root,
        warehouse=warehouse,
    )
    written = render(answers)
    if interactive:
        for name in written.secrets:
            value = typer.prompt(f"{name} (Enter: fill it in later)", default="", hide_input=True)
            if value:
                answers.secrets[name] = value
        written = render(answers)
    path.write_text(written.toml, encoding="utf-8")
    descriptor = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(written.env)
    os.chmod(env_path, 0o600)
    added = _add_people(path, records)
    missing = [n for n in written.secrets if n not in answers.secrets]
    if json_:
        print_json({"config": str(path), "env": str(env_path), "people": added, "to_fill": missing})
        return
    console.print(f"wrote {escape(str(path))} and {escape(str(env_path))} (mode 600)")
    if added:
        console.print(f"added to the team: {escape(', '.join(added))}")
    if missing:
        console.print(f"fill in {escape(', '.join(missing))} in {escape(str(env_path))}")
    console.print(f"then: opsweek --config {escape(str(path))} doctor")


def _person(entry: str) -> "PersonRecord":
    from opsweek.errors import BadInput
    from opsweek.rotation.people import PersonRecord

    parts = entry.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise BadInput(f"--person {entry!r}: username:Full Name[:Timezone]")
    record = PersonRecord(parts[0], parts[1], timezone=parts[2] if len(parts) == 3 else "UTC")
    return record.validated()


def _add_people(path: Path, records: list["PersonRecord"]) -> list[str]:
    """The team's people, in the store the new file names."""
    if not records:
        return []
    from opsweek.app import App
    from opsweek.config import load_settings
    from opsweek.rotation.team import Team

    ops = App(load_settings(path))
    try:
        with ops.session() as session:
            team = Team(session)
            for record in records:
                team.add(record)
    finally:
        ops.close()
    return [r.username for r in records]
