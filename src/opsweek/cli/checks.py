"""``opsweek check``: the runbook's daily questions as checks. Each finds its situation, sends
an alert through the inbox (``--no-alert`` to only look) and prints the exact change to make.
Exit 0 nothing found, 1 something found, 2 bad input or a check that could not run."""

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from opsweek.cli.output import JsonOption, console, note, print_json, print_steps
from opsweek.cli.state import state
from opsweek.errors import BadInput
from opsweek.timeutil import parse_date

if TYPE_CHECKING:
    from opsweek.checks.workflows import Checks

app = typer.Typer(no_args_is_help=True, help="The runbook's daily checks, as code.")
NoAlert = Annotated[
    bool, typer.Option("--no-alert", help="Only look: send nothing to the alert inbox.")
]


def _checks(ctx: typer.Context) -> "Checks":
    return state(ctx).app.checks


@app.command("new-wikis")
def new_wikis(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option("--date", help="Last day to look at (default: yesterday).")
    ] = None,
    days: Annotated[int, typer.Option(help="How many days back from --date.")] = 1,
    allowlist: Annotated[str | None, typer.Option(help="allowlist.tsv (checks.allowlist).")] = None,
    grouped: Annotated[
        str | None,
        typer.Option("--grouped-wikis", help="grouped_wikis.csv (checks.grouped_wikis)."),
    ] = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write", help="Write both files on a new branch of their git checkout and commit."
        ),
    ] = False,
    no_alert: NoAlert = False,
    json_: JsonOption = False,
) -> None:
    """Wikis with pageviews that are not in the allowlist, whether their replica has tables,
    and the change: allowlist lines, sqoop group rows, the HDFS commands."""
    checks = _checks(ctx)
    end = parse_date(day) if day else checks.today() - timedelta(days=1)
    if days < 1:
        raise BadInput("--days must be at least 1")
    start = end - timedelta(days=days - 1)
    run = checks.new_wikis(start, end, allowlist or "", grouped or "", write, not no_alert)
    result, commit = run.result, run.commit
    data = {**result.as_json(), "commit": commit}
    if json_:
        print_json(data)
    else:
        _print_new_wikis(result, commit)
    raise typer.Exit(1 if result.candidates else 0)


def _print_new_wikis(result: Any, commit: str | None) -> None:
    if not result.candidates:
        console.print(f"no new wikis between {result.start} and {result.end}")
        return
    for c in result.candidates:
        console.print(
            f"[bold]{escape(c.project)}[/] ({escape(c.dbname or '?')}): {c.views} views on "
            f"{c.days} day(s); replica: {escape(c.replica)}"
        )
    for diff in (result.allowlist_diff, result.grouped_diff):
        if diff:
            console.print(diff, markup=False, highlight=False, soft_wrap=True, end="")
    if any(c.replica == "not checked" for c in result.candidates):
        console.print(
            "replicas not checked (set checks.replica_url): a wiki goes to grouped_wikis.csv "
            "once `show tables` on its replica lists tables",
            soft_wrap=True,
        )
    print_steps(result.steps)
    if commit:
        console.print(f"committed {commit[:12]} on a new branch for review")


@app.command("allowlist")
def allowlist_lint(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="An allowlist.tsv.")],
    json_: JsonOption = False,
) -> None:
    """Lint an allowlist: spaces instead of tabs, column count, duplicates, bad dates."""
    from opsweek.checks.allowlist import lint_allowlist
    from opsweek.checks.workflows import read_file

    problems = lint_allowlist(read_file(str(path), "allowlist"))
    if json_:
        print_json(
            {
                "file": str(path),
                "problems": [{"line": p.line, "message": p.message} for p in problems],
            }
        )
    else:
        for problem in problems:
            console.print(f"{escape(str(path))}:{problem.line}: {escape(problem.message)}")
        if not problems:
            console.print(f"{escape(str(path))}: fine")
    raise typer.Exit(1 if problems else 0)


@app.command("mw-history")
def mw_history(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="As if today were this date.")] = None,
    no_alert: NoAlert = False,
    json_: JsonOption = False,
) -> None:
    """The newest MediaWiki history snapshot and its flags; a complete new snapshot opens the
    monthly redeploy with its steps; a late snapshot or a checker error file is an alert."""
    checks = _checks(ctx)
    result, duty = checks.mw_history(parse_date(day) if day else checks.today(), not no_alert)
    data = {**result.as_json(), "duty": duty}
    if json_:
        print_json(data)
    else:
        state_ = "ready" if result.ready else ("LATE" if result.late else "not ready yet")
        console.print(f"snapshot {result.expected}: {state_}; newest complete: {data['newest']}")
        if data["missing_flags"] and not result.ready:
            console.print("missing: " + ", ".join(data["missing_flags"]))
        for error in data["checker_errors"]:
            console.print(f"[red]checker error:[/] {escape(error)}")
        for name in result.unexpected_names:
            note(f"[yellow]unexpected name:[/] {escape(name)}")
        if duty:
            console.print(f"redeploy: duty #{duty} (opsweek duties show {duty})")
    raise typer.Exit(
        1 if (result.late or (result.expected_state and result.expected_state.errors)) else 0
    )


@app.command("refine")
def refine(
    ctx: typer.Context,
    alert_ids: Annotated[
        list[int] | None, typer.Argument(help="Refine failure alerts (default: every open one).")
    ] = None,
    no_resolve: Annotated[
        bool, typer.Option("--no-resolve", help="Report only; resolve no alert.")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Whether the partitions of open Refine failure alerts have been refined since (the
    `_REFINED` and `_REFINE_FAILED` flags in each output partition); an alert whose partition
    is refined resolves itself, saying when. Exit 1 while a partition still fails."""
    checks = _checks(ctx)
    states = checks.refine(alert_ids or None, resolve=not no_resolve)
    tz = state(ctx).app.timezone
    if json_:
        print_json({"partitions": [s.as_json(tz) for s in states]})
    elif not states:
        console.print("no open Refine failure alert")
    for item in [] if json_ else states:
        mark = {"refined": "[green]refined[/]", "failed": "[red]failed[/]"}.get(
            item.state, item.state
        )
        console.print(
            f"alert {item.alert_id} {escape(item.table)} {escape(item.hour)}: {mark}: "
            f"{escape(item.note(tz))}"
        )
    raise typer.Exit(1 if any(s.state == "failed" for s in states) else 0)


@app.command("dumps")
def dumps(
    ctx: typer.Context,
    root: Annotated[
        str | None,
        typer.Option(help="The dumps site, a mirror or a directory (default: dumps.root)."),
    ] = None,
    run: Annotated[
        str | None, typer.Option(help="The run, YYYYMMDD (default: the one under way).")
    ] = None,
    no_alert: Annotated[
        bool, typer.Option("--no-alert", help="Report only; send nothing to the inbox.")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """The public dumps' run: each wiki's status file (dumpstatus.json) read for failed jobs,
    a wiki not started or stalled, a run not finished when it should be, and files much
    smaller than in the previous run. Each finding is an alert with its steps; a clean run
    resolves them. Exit 1 when something is wrong."""
    import re
    from datetime import datetime

    when = None
    if run is not None:
        try:
            if not re.fullmatch(r"\d{8}", run):
                raise ValueError
            when = datetime.strptime(run, "%Y%m%d").date()
        except ValueError:
            raise BadInput(f"--run must be a date as YYYYMMDD, not {run!r}") from None
    result = _checks(ctx).dumps(when, root, alert=not no_alert)
    if json_:
        print_json(result.as_json())
    else:
        console.print(f"dumps run {result.run}: {len(result.wikis)} wiki(s) read")
        for item in result.findings:
            console.print(f"[red]{escape(item.kind)}[/] {escape(item.title)}")
        for wiki, why in result.unreadable.items():
            console.print(f"[yellow]unreadable[/] {escape(wiki)}: {escape(why)}")
    raise typer.Exit(1 if result.findings or result.unreadable else 0)


@app.command("canary")
def canary(
    ctx: typer.Context,
    schemas: Annotated[Path, typer.Option(help="Directory of event schemas (YAML or JSON).")],
    streams: Annotated[
        Path | None, typer.Option(help="Streams file: stream name -> schema_title.")
    ] = None,
    post: Annotated[
        str | None, typer.Option(help="POST the canary events to this intake URL (EventGate).")
    ] = None,
    coverage: Annotated[
        str | None, typer.Option(help="A stream's hourly table (db.table): hours with no event.")
    ] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Day for --coverage (default today).")
    ] = None,
    no_alert: NoAlert = False,
    json_: JsonOption = False,
) -> None:
    """Build each stream's canary event as the producer does and validate it; report errors
    the way EventGate does."""
    poster = None
    if post:
        from opsweek.adapters.eventgate import post_events

        def poster(events: list[dict[str, Any]]) -> tuple[int, Any]:
            return post_events(post, events)

    run = _checks(ctx).canary(
        schemas, streams, poster, coverage, parse_date(day) if day else None, not no_alert
    )
    results, problems, posted = run.results, run.problems, run.posted
    gaps = run.hours_without_events
    data = {
        "streams": [r.as_json() for r in results],
        "problems": problems,
        "posted": posted,
        "hours_without_events": gaps,
    }
    if json_:
        print_json(data)
    else:
        for r in results:
            style = "green" if r.status == "ok" else "red"
            console.print(f"[{style}]{r.status}[/] {escape(r.stream)} ({escape(r.schema)})")
            if r.errors:
                console.print(f"  {escape(r.errors_text)}", soft_wrap=True)
        for problem in problems:
            console.print(f"[red]{escape(problem)}[/]")
        if posted:
            console.print(
                f"POST {escape(post or '')}: HTTP {posted['status']}: {escape(posted['summary'])}"
            )
        if gaps:
            console.print(
                f"{escape(coverage or '')}: no event in hours {', '.join(map(str, gaps))}"
            )
    raise typer.Exit(1 if run.bad else 0)


@app.command("partitions")
def partitions(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="db.table")],
    base_path: Annotated[
        str | None, typer.Option(help="HDFS directory of the partitions (default: the table's).")
    ] = None,
    repair_: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Run the runbook's fix, msck repair table: add the partitions of directories "
            "the metastore misses.",
        ),
    ] = False,
    drop_missing: Annotated[
        bool,
        typer.Option(
            "--drop-missing",
            help="With --repair, also drop the partitions whose directories are gone "
            "(msck repair table ... sync partitions).",
        ),
    ] = False,
    no_alert: NoAlert = False,
    json_: JsonOption = False,
) -> None:
    """Compare the metastore's partitions with the directories; show the fix."""
    run = _checks(ctx).partitions(table, base_path, repair_, drop_missing, not no_alert)
    drift, repaired = run.drift, run.repaired
    data = {
        **drift.as_json(),
        "repair": ("sync" if drop_missing else "add") if repaired else None,
        "after_repair": repaired.as_json() if repaired else None,
    }
    if json_:
        print_json(data)
    else:
        console.print(
            f"{escape(table)}: {drift.partitions} partitions, {drift.directories} "
            f"directories under {escape(drift.base_path)}"
        )
        for p in drift.without_directory:
            console.print(f"  partition without directory: {escape(p)}")
        for p in drift.without_partition:
            console.print(f"  directory without partition: {escape(p)}")
        if repaired is None:
            print_steps(drift.fixes)
        else:
            what = "added and dropped partitions" if drop_missing else "added partitions"
            left = "no drift left" if not repaired.drifted else "drift remains"
            console.print(f"repaired ({what}): {left}")
            if repaired.drifted:
                print_steps(repaired.fixes)
    raise typer.Exit(1 if (repaired or drift).drifted else 0)


@app.command("scheduled")
def scheduled(ctx: typer.Context, json_: JsonOption = False) -> None:
    """Run once the checks `opsweek serve` runs every checks.interval_minutes (for a systemd
    timer or cron instead): the MediaWiki history snapshot, open Refine failures, the dumps,
    yesterday's new wikis; a check whose inputs are not configured does nothing and says so.
    Exit 2 when one could not run."""
    run = _checks(ctx).scheduled()
    if json_:
        print_json(run.as_json())
    else:
        for name in run.ran:
            console.print(f"[green]ran[/] {name}")
        for name, why in run.not_configured.items():
            console.print(f"[dim]{name}: {escape(why)}[/]")
        for line in run.failed:
            console.print(f"[red]failed[/] {escape(line)}")
    if run.failed:
        raise typer.Exit(2)


@app.command("verify")
def verify(
    ctx: typer.Context,
    alert_ids: Annotated[list[int] | None, typer.Argument(help="Only these alerts.")] = None,
    json_: JsonOption = False,
) -> None:
    """Check whether open alerts' problems are over, and resolve those that are, saying what
    was seen (`opsweek serve` does it on the checks' schedule, and after a step it runs
    changed something): a systemd unit's next run (`systemctl show`, on its runner), a sqoop
    job's _SUCCESS flags, `hdfs fsck`, a Druid indexing task's status, data loss statistics."""
    seen = state(ctx).app.verifier.run(alert_ids or None)
    if json_:
        print_json({"seen": [s.as_json() for s in seen]})
        return
    for found in seen:
        mark = {True: "[green]over[/]", False: "[yellow]not over[/]", None: "[dim]?[/]"}[found.over]
        console.print(f"#{found.alert_id} {mark} {escape(found.note)}")
    if not seen:
        console.print("no open alert opsweek can check")
