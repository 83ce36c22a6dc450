"""``opsweek serve``: the web app, plus the intake services enabled in opsweek.toml."""

from __future__ import annotations

import os
import threading
from typing import Annotated

import typer
import uvicorn

from opsweek.adapters.mail import ImapPoller, SmtpListener
from opsweek.alerts.writer_hub import SOCKET_ENV, IntakeHub, private_socket_path
from opsweek.checks.scheduled import ChecksLoop
from opsweek.cli.duties import outside_from
from opsweek.cli.output import JsonOption, console, fail, print_json
from opsweek.cli.state import state
from opsweek.duties.outside_readings import OutsideWatch
from opsweek.duties.reminders import ReminderLoop, configured_targets
from opsweek.sal.ircbot import BotConfig, SalBot, run_supervised
from opsweek.web import create_app
from opsweek.web.worker import UVICORN_OPTIONS, settle_for_serving


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        fail(f"intake.smtp_listen must be host:port, not {text!r}")
    return host, int(port)


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on (web.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (web.port).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo data first.")] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes serving the web app (web.workers).")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Run the web app and API, with the SMTP listener and IMAP poller when configured."""
    app_state = state(ctx)
    settings = app_state.settings
    demo_note = ""
    if demo:
        from opsweek.cli.demo import seed_all, write_demo_config

        result = seed_all(app_state)
        write_demo_config(settings, hive=False)
        ready = (
            f"demo data ready: {result.people} people, {result.alerts} alerts."
            if result.created
            else "demo data already present (opsweek demo --reset starts over)."
        )
        demo_note = (
            f"{ready} Pages are open to read; to act from them (acknowledge, log, finish "
            "duties), give a demo user a password in another terminal, e.g.: "
            "opsweek team password gsato"
        )
    store = app_state.store
    checkpointer = store.checkpoint_in_background()
    host = host or settings.get("web.host")
    port = port or settings.get("web.port")
    app = create_app(settings, store)
    sink = app.state.writer.ingest  # SMTP and IMAP share the web app's intake writer
    services: list[SmtpListener | ImapPoller] = []
    if settings.get("intake.smtp_listen"):
        smtp_host, smtp_port = _host_port(settings.get("intake.smtp_listen"))
        services.append(
            SmtpListener(
                smtp_host, smtp_port, app.state.writer, settings.get("intake.max_body_bytes")
            )
        )
    if settings.get("intake.imap_host"):
        services.append(
            ImapPoller(
                settings.get("intake.imap_host"),
                settings.get("intake.imap_port"),
                settings.get("intake.imap_user"),
                settings.get("intake.imap_password"),
                settings.get("intake.imap_folder"),
                settings.get("intake.imap_ssl"),
                settings.get("intake.imap_interval"),
                sink,
                settings.get("intake.max_body_bytes"),
            )
        )
    started = {
        "url": f"http://{host}:{port}",
        "workers": workers or settings.get("web.workers"),
        "smtp": settings.get("intake.smtp_listen") or None,
        "imap": settings.get("intake.imap_host") or None,
        "irc": settings.get("irc.server") or None,
    }
    if json_:
        print_json(started | {"demo": demo_note or None})
    else:
        if demo_note:
            console.print(demo_note, markup=False, highlight=False)
        console.print(
            f"opsweek on {started['url']} (API docs at /docs)"
            + (f", SMTP intake on {started['smtp']}" if started["smtp"] else "")
            + (f", polling IMAP {started['imap']}" if started["imap"] else "")
        )
    for service in services:
        service.start()
    reminders = None
    if configured_targets(settings):
        reminders = ReminderLoop(store, settings, outside_from(settings, mail=True))
        reminders.start()
    watch = None
    outside = outside_from(settings)
    if settings.get("web.outside_refresh_minutes") and (outside.tracker or outside.chat):
        watch = OutsideWatch(store, settings, outside, settings.get("web.outside_refresh_minutes"))
        watch.start()
    checks = None
    if settings.get("checks.interval_minutes"):
        checks = ChecksLoop(store, settings)
        checks.start()
    stop_bot = threading.Event()
    if settings.get("irc.server"):
        config = BotConfig.from_settings(settings)
        threading.Thread(
            target=run_supervised,
            args=(lambda: SalBot(config, store, settings), stop_bot),
            name="irc-bot",
            daemon=True,
        ).start()
    settle_for_serving()
    hub: IntakeHub | None = None
    try:
        if started["workers"] > 1:  # each worker builds its app from the same settings
            if settings.config_path is not None:
                os.environ["OPSWEEK_CONFIG"] = str(settings.config_path.resolve())
            hub = IntakeHub(app.state.writer, private_socket_path())  # stores for them all
            hub.start()
            os.environ[SOCKET_ENV] = str(hub.path)
            uvicorn.run(
                "opsweek.web.worker:create",
                factory=True,
                workers=started["workers"],
                host=host,
                port=port,
                **UVICORN_OPTIONS,
            )
        else:
            uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS)
    finally:
        if hub is not None:
            hub.stop()
        stop_bot.set()
        if reminders is not None:
            reminders.stop()
        if checks is not None:
            checks.stop()
        if watch is not None:
            watch.stop()
        if checkpointer is not None:
            checkpointer.stop()
        for service in services:
            service.stop()
