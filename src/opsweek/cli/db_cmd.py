"""``opsweek db``: the store's schema."""

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state
from opsweek.config import mask_url

app = typer.Typer(no_args_is_help=True, help="Manage the database schema.")


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Apply pending migrations (they are also applied automatically on first use)."""
    from opsweek.db.session import make_engine, upgrade

    url = state(ctx).settings.database_url
    engine = make_engine(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    if json_:
        print_json({"database": mask_url(url), "from": before, "to": after})
    elif before == after:
        console.print(f"{mask_url(url)} is up to date (revision {after})")
    else:
        console.print(f"{mask_url(url)}: upgraded from {before or 'empty'} to {after}")


@app.command("status")
def status(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Show the schema revision of the database and the newest one this opsweek knows."""
    from opsweek.db.session import make_engine, newest_revision, stored_revision

    url = state(ctx).settings.database_url
    engine = make_engine(url)
    try:
        current, head = stored_revision(engine), newest_revision()
    finally:
        engine.dispose()
    if json_:
        print_json(
            {
                "database": mask_url(url),
                "current": current,
                "head": head,
                "up_to_date": current == head,
            }
        )
    else:
        console.print(f"{mask_url(url)}: revision {current or 'none'} (newest: {head})")
