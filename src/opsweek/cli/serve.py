"""``opsweek serve``: the web app, plus the intake services enabled in opsweek.toml."""

from typing import Annotated

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state


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
    from opsweek.server import Server

    ops = state(ctx).app
    demo_note = ""
    if demo:
        from opsweek.demo.setup import load_demo, write_demo_config

        result = load_demo(ops)
        write_demo_config(ops, hive=False)
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
    server = Server(ops, host, port, workers)
    started = server.describe()
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
    server.start()
    try:
        server.serve()
    finally:
        server.stop()
