"""``opsweek offboard``: find a departed user's leftovers, plan their archive and removal, and
execute the plan safely."""

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, note, print_json
from opsweek.cli.state import state
from opsweek.errors import BadInput
from opsweek.quoting import shell_join

if TYPE_CHECKING:
    from opsweek.offboard.scan import ScanReport

app = typer.Typer(no_args_is_help=True, help="Offboard a departed user, safely.")


@app.command("check")
def check(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The departed user's login name.")],
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the text to paste into the tracker task.")
    ] = False,
    post: Annotated[
        bool,
        typer.Option("--post", help="Post the report as a comment on the offboarding task."),
    ] = False,
    task: Annotated[
        str | None,
        typer.Option(help="The tracker task (default: the one that started the duty)."),
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Find every leftover: home directories on each host, the HDFS home and warehouse
    directories, Hive databases named after the user and tables the user owns anywhere.
    With --post, the report goes to the offboarding task as a comment (and to the SAL).
    Exit 0 clean, 1 leftovers found, 2 a check failed."""
    from opsweek.offboard.report import to_markdown

    offboarding = state(ctx).app.offboarding
    with (
        console.status(f"scanning for {user}'s leftovers", spinner="dots")
        if not (json_ or markdown)
        else nullcontext()
    ):
        checked = offboarding.check(user, post, task)
    report = checked.report
    if checked.posted:
        note(f"posted to {checked.posted}")
    if json_:
        print_json({**report.as_json(), "duty": checked.duty})
    elif markdown:
        console.print(to_markdown(report), markup=False, highlight=False, soft_wrap=True, end="")
    else:
        _print(report)
        console.print(f"[dim]offboarding duty #{checked.duty}[/]")
    raise typer.Exit(checked.exit_code)


def _print(report: "ScanReport") -> None:
    from opsweek.offboard.report import to_markdown

    console.print(to_markdown(report), markup=False, highlight=False, soft_wrap=True, end="")


def _transfers(items: list[str]) -> dict[str, str]:
    found = {}
    for item in items:
        table, sep, owner = item.partition("=")
        if not sep or table.count(".") != 1 or not owner:
            raise BadInput(f"--transfer expects DB.TABLE=NEW_OWNER, not {item!r}")
        found[table.strip()] = owner.strip()
    return found


@app.command("plan")
def plan(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The departed user's login name.")],
    archive: Annotated[
        list[str] | None,
        typer.Option(help="HDFS path to archive under offboard.archive_dir (repeatable)."),
    ] = None,
    transfer: Annotated[
        list[str] | None,
        typer.Option(help="DB.TABLE=NEW_OWNER: a table others need (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the plan (JSON) to this file.")
    ] = None,
    json_: JsonOption = False,
) -> None:
    """An ordered, reviewable plan with the runbook's own commands: transfers, archives, then
    removals. Nothing is changed."""
    app_state = state(ctx)
    planned = app_state.app.offboarding.plan(
        user, archive or [], _transfers(transfer or []), output
    )
    if json_:
        print_json({**planned.plan.as_json(), "file": str(planned.file), "duty": planned.duty})
        return
    script = planned.plan.script(app_state.app.site)
    console.print(script, markup=False, highlight=False, soft_wrap=True, end="")
    note(
        f"plan written to {planned.file} ({len(planned.plan.steps)} steps); "
        f"run: {shell_join(['opsweek', 'offboard', 'execute', str(planned.file)])} (a dry run; "
        "--yes to run it)"
    )


@app.command("execute")
def execute(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="The plan written by `offboard plan`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Really run the steps (default: a dry run).")
    ] = False,
    journal: Annotated[
        Path | None,
        typer.Option(help="Journal of finished steps (default: PLAN.journal next to the plan)."),
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Run a plan step by step: each removal re-checked against the plan, every step logged to
    the SAL and journaled so an interrupted run resumes; a fresh scan at the end."""
    done = state(ctx).app.offboarding.execute(plan_file, yes, journal)
    run, after, made = done.run, done.left, done.plan
    if json_:
        print_json(done.as_json())
    else:
        for r in run.results:
            console.print(
                f"{r.number:>3}. [bold]{escape(r.status)}[/] {escape(r.action)} {escape(r.target)}"
            )
        if run.stopped:
            note(
                f"[red]stopped at {escape(run.stopped)}[/]; fix it and run the same command "
                "to resume"
            )
        elif not yes:
            note("dry run: nothing was changed; add --yes to run these steps")
        elif after is not None:
            left = "nothing is left" if not after.any_found else "something is left:"
            console.print(f"fresh scan of {made.user}: {left}")
            if after.any_found:
                _print(after)
        for item in made.notes:
            console.print(f"[yellow]left in place:[/] {escape(item)}")
    if run.stopped:
        raise typer.Exit(2)
    if after is not None and after.any_found:
        raise typer.Exit(1)
