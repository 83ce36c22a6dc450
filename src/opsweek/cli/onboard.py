"""``opsweek onboard``: which steps of a new user's onboarding are already true."""

from typing import Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Onboarding a new user.")


@app.command("check")
def check(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The new user's login name.")],
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="A group the user needs (default: onboard.groups)."),
    ] = None,
    json_: JsonOption = False,
) -> None:
    """The HDFS home and its owner, and the groups (where this machine knows the user);
    the Kerberos principal is said to be checked by the user's first kinit. Exit 0 when
    everything visible is in place, 1 otherwise."""
    from opsweek.offboard.rules import check_user
    from opsweek.onboard.check import DONE, UNKNOWN, check, local_groups

    check_user(user)
    app_state = state(ctx)
    files = app_state.app.files
    wanted = group or list(app_state.settings.onboard.groups)
    steps = check(user, files.owner, local_groups, wanted)
    if json_:
        print_json({"user": user, "steps": [s.as_json() for s in steps]})
    else:
        colour = {DONE: "green", UNKNOWN: "yellow"}
        for item in steps:
            mark = f"[{colour.get(item.state, 'red')}]{item.state}[/]"
            detail = f" ({escape(item.detail)})" if item.detail else ""
            console.print(f"{mark} {escape(item.what)}{detail}")
    raise typer.Exit(0 if all(s.state != "missing" for s in steps) else 1)
