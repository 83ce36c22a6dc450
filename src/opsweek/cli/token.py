"""``opsweek token``: API tokens for scripts and webhooks."""

from typing import Annotated

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state
from opsweek.timeutil import iso

app = typer.Typer(no_args_is_help=True, help="API tokens for scripts and webhooks.")


@app.command("create")
def create(
    ctx: typer.Context,
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. alertmanager.")] = "",
    json_: JsonOption = False,
) -> None:
    """Create a token acting as USERNAME. It is shown once; only its hash is stored."""
    from opsweek.sal.log import record_action
    from opsweek.tokens import Tokens

    with state(ctx).session() as session:
        row, token = Tokens(session).create(username, name)
        record_action(
            session,
            state(ctx).settings.user,
            f"created API token {row.id} for {username} ({name or 'unnamed'})",
        )
        token_id = row.id
    if json_:
        print_json({"id": token_id, "username": username, "name": name, "token": token})
    else:
        console.print(f"token {token_id} for {username} (shown once, keep it secret):")
        console.print(token, markup=False, highlight=False)


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOption = False) -> None:
    """List tokens (never their values)."""
    from rich.table import Table

    from opsweek.tokens import Tokens

    with state(ctx).session() as session:
        rows = [
            {
                "id": t.id,
                "username": t.username,
                "name": t.name,
                "created_at": iso(t.created_at),
                "revoked_at": iso(t.revoked_at) if t.revoked_at else None,
            }
            for t in Tokens(session).list()
        ]
    if json_:
        print_json({"tokens": rows})
        return
    table = Table(title="API tokens")
    for column in ("id", "user", "name", "created", "revoked"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["username"]),
            str(r["name"]),
            str(r["created_at"]),
            str(r["revoked_at"] or "-"),
        )
    console.print(table)


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: int, json_: JsonOption = False) -> None:
    """Revoke a token (it stops working within 30 seconds)."""
    from opsweek.sal.log import record_action
    from opsweek.tokens import Tokens

    with state(ctx).session() as session:
        row = Tokens(session).revoke(token_id)
        record_action(session, state(ctx).settings.user, f"revoked API token {token_id}")
        data = {"id": row.id, "revoked_at": iso(row.revoked_at) if row.revoked_at else None}
    if json_:
        print_json(data)
    else:
        console.print(f"revoked token {token_id}")
