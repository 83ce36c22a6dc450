"""``opsweek offboard``: find a departed user's leftovers, plan their archive and removal, and
execute the plan safely."""

import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, note, print_json
from opsweek.cli.state import State, state
from opsweek.errors import BadInput
from opsweek.quoting import shell_join
from opsweek.timeutil import utcnow

if TYPE_CHECKING:
    from opsweek.offboard.scan import ScanReport

app = typer.Typer(no_args_is_help=True, help="Offboard a departed user, safely.")


def _duty(app_state: State, user: str, **detail: str) -> int:
    """The open offboarding duty of this user (started when there is none), with ``detail``
    added, so it shows in Today and the handoff."""
    with app_state.session() as session:
        duties = app_state.app.duties(session)
        instance, _ = duties.ensure_open("offboarding", {"user": user}, f"offboarding {user}")
        instance.detail = {**instance.detail, **detail}
        return instance.id


def _post(app_state: State, user: str, task: str | None, text: str) -> str:
    """Comment ``text`` on the offboarding's tracker task; the task's reference."""
    import re

    from opsweek.sal.log import record_action

    tracker = app_state.app.tracker
    if tracker is None:
        raise BadInput("--post needs a tracker: set tracker.kind and tracker.url")
    with app_state.session() as session:
        duties = app_state.app.duties(session)
        instance, _ = duties.ensure_open("offboarding", {"user": user}, f"offboarding {user}")
        ref = task or str(instance.detail.get("task") or "")
        if not re.fullmatch(r"T\d{1,9}", ref):
            raise BadInput(f"no tracker task known for {user}'s offboarding: give --task T123")
        tracker.comment(ref, text)
        record_action(
            session, app_state.settings.user, f"posted {user}'s offboarding check to {ref}"
        )
    return ref


def _exit_code(report: "ScanReport") -> int:
    if report.failed:
        return 2
    return 1 if report.any_found else 0


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
    from opsweek.offboard.rules import check_user

    check_user(user)
    app_state = state(ctx)
    with (
        console.status(f"scanning for {user}'s leftovers", spinner="dots")
        if not (json_ or markdown)
        else nullcontext(),
        app_state.app.offboard_adapters() as found,
    ):
        report = found.scanner().scan(user)
    duty = _duty(app_state, user, scanned_at=report.scanned_at.isoformat())
    posted = _post(app_state, user, task, to_markdown(report)) if post else None
    if posted:
        note(f"posted to {posted}")
    if json_:
        print_json({**report.as_json(), "duty": duty})
    elif markdown:
        console.print(to_markdown(report), markup=False, highlight=False, soft_wrap=True, end="")
    else:
        _print(report)
        console.print(f"[dim]offboarding duty #{duty}[/]")
    raise typer.Exit(_exit_code(report))


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
    from opsweek.offboard.plan import build_plan
    from opsweek.offboard.rules import check_user

    check_user(user)
    moves = _transfers(transfer or [])
    app_state = state(ctx)
    settings = app_state.settings
    with app_state.app.offboard_adapters() as found:
        report = found.scanner().scan(user)
        if report.failed:
            problems = [e for errors in report.errors.values() for e in errors]
            problems += [f"{h}: {r}" for h, r in report.unreachable.items()]
            raise BadInput("cannot plan from an incomplete scan: " + "; ".join(problems))
        files = found.files
        made = build_plan(
            report,
            archive or [],
            moves,
            archive_dir=settings.offboard.archive_dir,
            archive_owner=settings.offboard.archive_owner,
            cumin_hosts=settings.offboard.cumin_hosts,
            created_by=settings.user,
            created_at=utcnow(),
            fingerprint=lambda path, exclude: (
                files.fingerprint(path, tuple(exclude)) if files else ""
            ),
        )
    data = made.as_json()
    target = output or Path(f"offboard-{user}.json")
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    duty = _duty(app_state, user, plan=str(target.resolve()))
    if json_:
        print_json({**data, "file": str(target), "duty": duty})
        return
    script = made.script(app_state.app.site)
    console.print(script, markup=False, highlight=False, soft_wrap=True, end="")
    note(
        f"plan written to {target} ({len(made.steps)} steps); "
        f"run: {shell_join(['opsweek', 'offboard', 'execute', str(target)])} (a dry run; "
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
    from opsweek.offboard.execute import Executor, Journal
    from opsweek.offboard.plan import check_against_settings, plan_from_json
    from opsweek.sal.log import record_action

    try:
        data: Any = json.loads(plan_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read the plan {plan_file}: {exc}") from None
    made = plan_from_json(data)  # refuses anything outside the user's places, before any step
    app_state = state(ctx)
    settings = app_state.settings
    warehouse = settings.hive.warehouse_dir
    if made.warehouse != warehouse:
        raise BadInput(f"the plan was made for the warehouse {made.warehouse}, not {warehouse}")
    offboard = settings.offboard
    check_against_settings(made, offboard.archive_dir, offboard.archive_owner, offboard.cumin_hosts)
    needs_hive = any(s.action in ("drop_database", "transfer_owner") for s in made.steps)
    log_path = journal or plan_file.with_name(plan_file.name + ".journal")

    def log(message: str) -> None:
        with app_state.session() as session:
            record_action(session, settings.user, message)

    with app_state.app.offboard_adapters(with_hive=yes and needs_hive) as found:
        executor = Executor(
            made,
            found.files,
            {h.name: h for h in found.hosts},
            (lambda: found.metastore) if found.metastore else None,  # type: ignore[arg-type,return-value]
            Journal(log_path),
            log,
        )
        run = executor.run(dry_run=not yes)
        after = found.scanner().scan(made.user) if yes and not run.stopped else None
    if yes:
        _duty(app_state, made.user, executed=str(log_path.resolve()))
    result: dict[str, Any] = {
        "user": made.user,
        "dry_run": not yes,
        "journal": str(log_path),
        "steps": [r.as_json() for r in run.results],
        "stopped": run.stopped,
        "left": after.as_json() if after else None,
        "notes": list(made.notes),
    }
    if json_:
        print_json(result)
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
