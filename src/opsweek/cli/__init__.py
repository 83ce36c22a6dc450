"""The ``opsweek`` command line. Each command group lives in its own module; the groups no
top-level command needs are imported only when used (or listed by ``--help``), so a command
pays for its own modules only."""

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from rich.markup import escape
from typer.core import TyperGroup

from opsweek import __version__
from opsweek.cli import demo, duties, handoff, irc, rotation, sal, serve, setup
from opsweek.cli.output import errors, fail
from opsweek.cli.state import State
from opsweek.errors import OpsweekError

# command groups imported when used: name -> (module under opsweek.cli, its Typer)
LAZY_GROUPS = {
    "team": ("team", "app"),
    "alerts": ("alerts", "app"),
    "token": ("token", "app"),
    "config": ("config_cmd", "app"),
    "db": ("db_cmd", "app"),
    "train": ("train", "app"),
    "offboard": ("offboard", "app"),
    "onboard": ("onboard", "app"),
    "check": ("checks", "app"),
    "airflow": ("airflow", "app"),
    "refine": ("refine", "app"),
    "silence": ("silence", "app"),
}


class OpsweekGroup(TyperGroup):
    """Turns typed errors into one line on stderr and the right exit code; loads the
    `LAZY_GROUPS` when they are asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LAZY_GROUPS]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name not in LAZY_GROUPS:
            return super().get_command(ctx, name)
        module, attribute = LAZY_GROUPS[name]
        group = typer.main.get_group(
            getattr(importlib.import_module(f"opsweek.cli.{module}"), attribute)
        )
        group.name = name
        return group

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OpsweekError as exc:
            fail(str(exc), exc.exit_code)
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            fail(f"database error: {reason}", 2)
        finally:
            if isinstance(ctx.obj, State):
                ctx.obj.close()


def _is_database_error(exc: Exception) -> bool:
    """An error of the store (SQLAlchemy's), without importing SQLAlchemy to ask."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.SQLAlchemyError)


app = typer.Typer(
    cls=OpsweekGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="opsweek: the ops-week assistant for data-platform teams.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"opsweek {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="opsweek.toml to use (default: $OPSWEEK_CONFIG or ./opsweek.toml).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = State(config)


app.add_typer(rotation.app, name="rotation")
app.add_typer(sal.app, name="sal")
app.add_typer(duties.app, name="duties")
app.add_typer(handoff.decisions_app, name="decisions")
app.command("who")(rotation.who)
app.command("log")(sal.log)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("irc")(irc.irc)
app.command("today")(duties.today)
app.command("dashboards")(duties.dashboards)
app.add_typer(handoff.handoff_app, name="handoff")
app.command("remind")(handoff.remind)
app.command("decision")(handoff.decision)
app.command("doctor")(setup.doctor)
app.command("init")(setup.init)


def main() -> None:
    """Console entry point: never a traceback, unless OPSWEEK_DEBUG is set."""
    try:
        app()
    except Exception as exc:
        if os.environ.get("OPSWEEK_DEBUG"):
            raise
        errors.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
            "(set OPSWEEK_DEBUG=1 for the traceback and please report it)",
            soft_wrap=True,
            markup=True,
        )
        sys.exit(70)
