"""``opsweek config``: the effective settings."""

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Show the effective settings.")


@app.command("show")
def show(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Print every setting with its value (secrets masked) and where it came from, then each
    [[table]] list as written ([[airflow.instances]], [[runners]], ...)."""
    from rich.table import Table

    settings = state(ctx).settings
    rows = settings.shown()
    if json_:
        print_json(
            {
                "config_file": str(settings.config_path) if settings.config_path else None,
                "settings": {row["name"]: row["value"] for row in rows},
                "sources": {row["name"]: row["source"] for row in rows},
                "tables": settings.tables_shown(),
            }
        )
        return
    table = Table(title=f"Settings (config file: {settings.config_path or 'none'})")
    for column in ("setting", "value", "source", "environment variable"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], str(row["value"]), row["source"], row["env"])
    console.print(table)
    for name, entries in settings.tables_shown().items():
        console.print(f"\n[[{name}]] ({len(entries)})", markup=False, style="bold")
        for entry in entries:
            fields = ", ".join(f"{key} = {value!r}" for key, value in entry.items())
            console.print(f"  {fields}", markup=False, soft_wrap=True)
