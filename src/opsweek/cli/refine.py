"""``opsweek refine``: rerun a failed Refine hour on the runner host (`[refine] runner`), shown
and confirmed first, then checked."""

from typing import Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.state import state

app = typer.Typer(no_args_is_help=True, help="Refine: rerun a failed hour, then check it.")


@app.command("rerun")
def rerun(
    ctx: typer.Context,
    alert_id: int,
    yes: Annotated[bool, typer.Option("--yes", help="Run it without asking.")] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who reruns (default: the CLI's user).")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Run the alert's rerun command (exactly as its steps print it) on `[refine] runner` over
    SSH and wait for it; record it on the alert and in the SAL with its YARN application ids,
    then check the partition's flags (refined: the alert resolves). Exit 1 when the rerun
    failed or the partition is not refined yet."""
    app_state = state(ctx)
    runner = app_state.app.refine_runner
    plan = runner.plan(alert_id)
    if not yes:
        console.print(f"will run on {escape(plan.runner)}:")
        console.print(escape(plan.command), soft_wrap=True, markup=False)
        if not typer.confirm("run it?", default=False):
            raise typer.Exit(1)
    result = runner.run(plan, by or app_state.settings.user)
    if json_:
        print_json(result.as_json())
    else:
        console.print(escape(result.output), soft_wrap=True, markup=False)
        console.print(f"{escape(plan.sal)}: {escape(result.summary())} (logged to the SAL)")
        if result.check is not None:
            console.print(f"partition: {escape(result.check.state)}")
    refined = result.check is not None and result.check.state == "refined"
    raise typer.Exit(0 if result.ok and refined else 1)
