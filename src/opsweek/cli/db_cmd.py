"""``opsweek db``: the store's schema."""

from pathlib import Path
from typing import Annotated

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state
from opsweek.config import mask_url

app = typer.Typer(no_args_is_help=True, help="Manage the store: schema, backups, restores.")


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


@app.command("backup")
def backup_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The backup file to write (a new one).")],
    json_: JsonOption = False,
) -> None:
    """Back the store up while it is in use: SQLite's online backup, or pg_dump (custom
    format) of PostgreSQL; a manifest FILE.json beside it counts the rows of each table."""
    from opsweek.db.backup import backup
    from opsweek.db.session import make_engine

    url = state(ctx).settings.database_url
    engine = make_engine(url)
    try:
        manifest = backup(engine, path)
    finally:
        engine.dispose()
    data = {"database": mask_url(url), "file": str(path), **manifest.as_json()}
    if json_:
        print_json(data)
    else:
        rows = sum(manifest.counts.values())
        console.print(
            f"backed up {mask_url(url)} (schema {manifest.revision}) to {path}: "
            f"{rows} rows in {len(manifest.counts)} tables"
        )


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A file written by `opsweek db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the store (stop opsweek serve first).")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Replace the store with a backup: restored beside the store first and checked there (its
    integrity, opsweek's own schema and nothing else, the rows its manifest counts), then
    swapped in, the previous store kept beside it. Refused while `opsweek serve` runs."""
    from opsweek.db.backup import read_manifest
    from opsweek.db.restore import restore
    from opsweek.db.session import make_engine, upgrade
    from opsweek.errors import BadInput

    url = state(ctx).settings.database_url
    if not yes:
        manifest = read_manifest(path)
        raise BadInput(
            f"this replaces everything in {mask_url(url)} with {path} ({manifest.taken_at}, "
            f"schema {manifest.revision}); stop opsweek serve and run again with --yes"
        )
    engine = make_engine(url)
    try:
        restored = restore(engine, path)
        before, after = upgrade(engine)  # a backup of an older schema is brought up to date
    finally:
        engine.dispose()
    manifest = restored.manifest
    data = {
        "database": mask_url(url),
        "file": str(path),
        "upgraded_to": after,
        "previous": mask_url(restored.previous),
        **manifest.as_json(),
    }
    if json_:
        print_json(data)
    else:
        upgraded = f", upgraded from schema {before} to {after}" if before != after else ""
        console.print(
            f"restored {mask_url(url)} from {path}: {sum(manifest.counts.values())} rows in "
            f"{len(manifest.counts)} tables, as counted when backed up{upgraded}; the store "
            f"as it was is kept as {mask_url(restored.previous)}"
        )


@app.command("copy")
def copy_cmd(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The new store's URL, e.g. postgresql+psycopg://opsweek@db.example.org/opsweek "
            "(its password in PGPASSWORD, not in the URL: the URL is seen by other users).",
        ),
    ],
    json_: JsonOption = False,
) -> None:
    """Copy everything in the store into another, empty one (moving from SQLite to
    PostgreSQL), then check the copy: the same rows in every table, a sample equal value for
    value. Then point database_url at it."""
    from opsweek.db.copy import copy_store
    from opsweek.db.session import make_engine

    url = state(ctx).settings.database_url
    source, target = make_engine(url), make_engine(to)
    try:
        copied = copy_store(source, target)
    finally:
        source.dispose()
        target.dispose()
    data = {
        "from": mask_url(url),
        "to": mask_url(to),
        "counts": copied.counts,
        "rows_compared": copied.compared,
    }
    if json_:
        print_json(data)
    else:
        console.print(
            f"copied {sum(copied.counts.values())} rows in {len(copied.counts)} tables from "
            f"{mask_url(url)} to {mask_url(to)}; {copied.compared} rows compared value for value"
        )
