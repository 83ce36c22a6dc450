"""``opsweek airflow``: poll the configured Airflow instances, and act on an alert's task
instance (clear, mark success, pause, unpause), each action shown and confirmed first."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state

if TYPE_CHECKING:
    from opsweek.checks.airflow import Action

app = typer.Typer(no_args_is_help=True, help="Airflow: poll its task instances, act on them.")
Yes = Annotated[bool, typer.Option("--yes", help="Send it without asking.")]
By = Annotated[str | None, typer.Option("--by", help="Who acts (default: the CLI's user).")]


@app.command("poll")
def poll(
    ctx: typer.Context,
    instance: Annotated[
        list[str] | None, typer.Option("--instance", help="Only this instance (repeatable).")
    ] = None,
    hours: Annotated[
        float | None, typer.Option("--hours", help="Look back this many hours.")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Poll each instance once: its failed and up-for-retry task instances become alerts (one
    alert with the e-mail of the same failure), and open Airflow alerts whose task succeeded
    since resolve themselves. Exit 1 when an instance could not be polled (unreachable, or
    its credentials refused)."""
    from datetime import timedelta

    from opsweek.timeutil import utcnow

    watch = state(ctx).app.airflow
    since = utcnow() - timedelta(hours=hours) if hours else None
    run = watch.poll(instance or None, since)
    if json_:
        print_json(run.as_json())
    else:
        counts = run.counts
        console.print(
            f"{run.failing} failing task instance(s), {run.rechecked} open alert(s) now over: "
            f"{counts.new} new, {counts.updated} updated, {counts.resolved} resolved, "
            f"{counts.duplicates} seen before"
        )
        for why in run.problems.values():
            console.print(f"[red]could not poll[/] {escape(why)}", soft_wrap=True)
    raise typer.Exit(1 if run.problems else 0)


def _confirm_and_send(
    ctx: typer.Context, action: "Action", yes: bool, by: str | None, json_: bool
) -> None:
    app_state = state(ctx)
    actor = by or app_state.settings.user
    if not yes:
        console.print(f"will send to airflow-{escape(action.instance)}:")
        console.print(escape(action.describe()), soft_wrap=True)
        if not typer.confirm("send it?", default=False):
            raise typer.Exit(1)
    said = app_state.app.airflow.send(action, actor)
    if json_:
        sent = None if said else action.describe()
        print_json({"alert_id": action.alert_id, "sent": sent, "sal": "" if said else action.sal})
    elif said:
        console.print(escape(said))
    else:
        console.print(f"{escape(action.sal)} (by {escape(actor)}; logged to the SAL)")


@app.command("clear")
def clear(
    ctx: typer.Context,
    alert_id: int,
    downstream: Annotated[
        bool, typer.Option("--downstream", help="Clear its failed downstream tasks too.")
    ] = False,
    yes: Yes = False,
    by: By = None,
    json_: JsonOption = False,
) -> None:
    """Clear the alert's failed task instance so it runs again."""
    _confirm_and_send(ctx, state(ctx).app.airflow.clear(alert_id, downstream), yes, by, json_)


@app.command("mark-success")
def mark_success(
    ctx: typer.Context, alert_id: int, yes: Yes = False, by: By = None, json_: JsonOption = False
) -> None:
    """Mark the alert's task instance successful (its downstream tasks may then run)."""
    _confirm_and_send(ctx, state(ctx).app.airflow.mark_success(alert_id), yes, by, json_)


@app.command("pause")
def pause(
    ctx: typer.Context, alert_id: int, yes: Yes = False, by: By = None, json_: JsonOption = False
) -> None:
    """Pause the DAG of the alert's task (no more runs, no more alert e-mails)."""
    _confirm_and_send(ctx, state(ctx).app.airflow.pause(alert_id, True), yes, by, json_)


@app.command("unpause")
def unpause(
    ctx: typer.Context, alert_id: int, yes: Yes = False, by: By = None, json_: JsonOption = False
) -> None:
    """Unpause the DAG of the alert's task."""
    _confirm_and_send(ctx, state(ctx).app.airflow.pause(alert_id, False), yes, by, json_)


@app.command("log")
def log(
    ctx: typer.Context,
    alert_id: int,
    lines: Annotated[int, typer.Option("--lines", help="How many lines, from the end.")] = 50,
    json_: JsonOption = False,
) -> None:
    """The end of the log of the alert's task try, from Airflow."""
    text = state(ctx).app.airflow.log_tail(alert_id, lines)
    if json_:
        print_json({"alert_id": alert_id, "log": text})
    else:
        console.print(escape(text), soft_wrap=True, markup=False)
