"""``opsweek silence``: Alertmanager silences, as amtool writes them (``name=value``,
``name!=value``, ``name=~regex``, ``name!~regex``); each one made or expired here goes to the
SAL."""

from typing import Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Alertmanager silences: add, list, expire.")
Cluster = Annotated[
    str, typer.Option("--cluster", help="Which Alertmanager cluster (default: the first).")
]


@app.command("add")
def add(
    ctx: typer.Context,
    matchers: Annotated[
        list[str], typer.Argument(help="name=value, name!=value, name=~regex, name!~regex.")
    ],
    comment: Annotated[str, typer.Option("--comment", help="Why (required).")],
    duration: Annotated[
        str, typer.Option("--duration", help="How long: 30m, 2h, 1d (default 2h).")
    ] = "2h",
    cluster: Cluster = "",
    by: Annotated[str | None, typer.Option("--by", help="Who (default: your user).")] = None,
    json_: JsonOption = False,
) -> None:
    """Silence the alerts the matchers select, for a while, saying why."""
    from opsweek.alerts.silences import Matcher, minutes_of

    app_state = state(ctx)
    parsed = [Matcher.parse(text) for text in matchers]
    row = app_state.app.silencing.add(
        parsed, minutes_of(duration), comment, by or app_state.settings.user, cluster
    )
    data = {
        "id": row.silence_id or f"pending-{row.id}",
        "cluster": row.cluster,
        "matchers": [str(m) for m in parsed],
        "ends_at": row.ends_at.isoformat(),
        "state": row.state,
        "error": row.error,
    }
    if json_:
        print_json(data)
    elif row.silence_id:
        console.print(f"silence {escape(row.silence_id)} until {row.ends_at:%Y-%m-%d %H:%M} UTC")
    else:
        console.print(
            f"[yellow]waiting[/]: alertmanager {escape(row.cluster)} could not be reached "
            f"({escape(row.error or '')}); opsweek serve sends it when it is back "
            f"(pending-{row.id})"
        )


@app.command("list")
def list_(ctx: typer.Context, cluster: Cluster = "", json_: JsonOption = False) -> None:
    """Silences active or to come, and those opsweek has not sent yet."""
    from opsweek.alerts.silences import Matcher

    found = state(ctx).app.silencing.listed(cluster)
    if json_:
        print_json({"silences": found})
        return
    for silence in found:
        matchers = " ".join(str(Matcher.from_api(m)) for m in silence.get("matchers") or [])
        console.print(
            f"{escape(str(silence['id']))} [{escape(silence['cluster'])}] "
            f"{(silence.get('status') or {}).get('state')} until {silence.get('endsAt')} "
            f"{escape(matchers)} by {escape(str(silence.get('createdBy')))}: "
            f"{escape(str(silence.get('comment')))}",
            soft_wrap=True,
        )
    if not found:
        console.print("no silence")


@app.command("expire")
def expire(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(help="Its id (or pending-N, not sent yet).")],
    cluster: Cluster = "",
    by: Annotated[str | None, typer.Option("--by", help="Who (default: your user).")] = None,
    json_: JsonOption = False,
) -> None:
    """Expire a silence now."""
    app_state = state(ctx)
    app_state.app.silencing.expire(silence_id, by or app_state.settings.user, cluster)
    if json_:
        print_json({"expired": silence_id})
    else:
        console.print(f"expired silence {escape(silence_id)}")
