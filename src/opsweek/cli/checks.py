"""``opsweek check``: the runbook's daily questions as checks. Each finds its situation, sends
an alert through the inbox (``--no-alert`` to only look) and prints the exact change to make.
Exit 0 nothing found, 1 something found, 2 bad input or a check that could not run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape

from opsweek.adapters.fs import Files
from opsweek.adapters.git import GitRepo
from opsweek.adapters.hive import HiveMetastore, spark_session
from opsweek.adapters.replicas import table_count
from opsweek.adapters.warehouse import DuckDBWarehouse, SparkWarehouse, Warehouse
from opsweek.checks import canary as canary_check
from opsweek.checks import scheduled
from opsweek.checks.allowlist import lint_allowlist
from opsweek.checks.emit import emit
from opsweek.checks.new_wikis import check_new_wikis
from opsweek.checks.partitions import check_partitions, repair
from opsweek.cli.output import JsonOption, console, note, print_json, print_steps
from opsweek.cli.state import State, state
from opsweek.config import Settings
from opsweek.duties.service import Duties
from opsweek.errors import BadInput, ConfigError, OpsweekError, Unavailable, first_line
from opsweek.offboard.service import metastore_config
from opsweek.timeutil import parse_date, utcnow, zone

app = typer.Typer(no_args_is_help=True, help="The runbook's daily checks, as code.")
NoAlert = Annotated[
    bool, typer.Option("--no-alert", help="Only look: send nothing to the alert inbox.")
]


def _today(settings: Settings) -> date:
    return utcnow().astimezone(zone(settings.team_timezone)).date()


@contextmanager
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    files = Files(settings.files_root)
    if settings.get("warehouse.backend") == "spark":
        with spark_session(metastore_config(settings, files)) as spark:
            yield SparkWarehouse(spark)
        return
    if files.fs.protocol not in ("file", ("file", "local")) and "file" not in files.fs.protocol:
        raise ConfigError("warehouse.backend duckdb reads local files; use spark for HDFS")
    yield DuckDBWarehouse(Path(files.real(settings.warehouse_dir)))


def _emit(app_state: State, findings: list[bytes], no_alert: bool) -> None:
    if no_alert or not findings:
        return
    with app_state.store.writing() as session:  # the intake's turn, as for any source
        emit(session, findings)


def _read(path: str, what: str) -> str:
    if not path:
        raise ConfigError(f"give --{what} or set checks.{what.replace('-', '_')}")
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None


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
    app_state = state(ctx)
    settings = app_state.settings
    end = parse_date(day) if day else _today(settings) - timedelta(days=1)
    if days < 1:
        raise BadInput("--days must be at least 1")
    start = end - timedelta(days=days - 1)
    allowlist_path = allowlist or settings.get("checks.allowlist")
    grouped_path = grouped or settings.get("checks.grouped_wikis")
    allowlist_text = _read(allowlist_path, "allowlist")
    grouped_text = _read(grouped_path, "grouped-wikis")
    url = settings.get("checks.replica_url")
    replicas = (lambda wiki: table_count(url, wiki)) if url else None
    with warehouse(settings) as wh:
        result = check_new_wikis(
            wh,
            settings.get("checks.unexpected_values_table"),
            allowlist_text,
            grouped_text,
            start,
            end,
            utcnow(),
            replicas,
            Path(allowlist_path).name,
            Path(grouped_path).name,
        )
    commit = None
    if write and result.new_allowlist:
        paths = [Path(allowlist_path).expanduser()]
        paths[0].write_text(result.new_allowlist, encoding="utf-8")
        if result.new_grouped:
            paths.append(Path(grouped_path).expanduser())
            paths[1].write_text(result.new_grouped, encoding="utf-8")
        wikis = ", ".join(c.dbname or c.project for c in result.candidates)
        message = (
            f"Add new wikis: {wikis}\n\nPageviews from these projects reached "
            f"pageview_unexpected_values between {start} and {end}. They are added to the "
            "pageview allowlist, and those whose replica has tables to the last sqoop group."
        )
        top = GitRepo.top_of(paths[0].parent)
        repo = GitRepo(str(top), settings.data_dir)
        commit = repo.commit_on_branch(f"new-wikis-{end.isoformat()}", paths, message)
    if not no_alert:
        with app_state.store.writing() as session:
            emit(session, result.findings())
            duties = Duties.from_settings(session, settings)
            for candidate in result.ready:  # each ready wiki: its new-wiki duty, once
                duties.ensure_open("new-wiki", {"wiki": candidate.dbname or ""}, candidate.project)
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
    problems = lint_allowlist(_read(str(path), "allowlist"))
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
    app_state = state(ctx)
    settings = app_state.settings
    today = parse_date(day) if day else _today(settings)
    if no_alert:
        result, duty = scheduled.scan_mw_history(settings, today), None
    else:
        with app_state.store.writing() as session:  # findings go through the intake: its turn
            result, duty = scheduled.mw_history(session, settings, today)
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
    app_state = state(ctx)
    settings = app_state.settings
    loaded, problems = canary_check.load_schemas(schemas)
    wanted = (
        canary_check.read_streams(streams)
        if streams
        else {s.title: s.id for s in loaded.values() if not s.title.startswith("fragment/")}
    )
    results = canary_check.check_streams(loaded, wanted)
    posted = None
    if post:
        events = [r.event for r in results if r.event is not None and r.status == "ok"]
        try:
            response = httpx.post(post, json=events, timeout=30)
            body = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise BadInput(f"posting to {post}: {exc}") from None
        ok, summary = canary_check.interpret_post(response.status_code, body)
        posted = {
            "status": response.status_code,
            "ok": ok,
            "summary": summary,
            "events": len(events),
        }
    gaps = None
    if coverage:
        target = parse_date(day) if day else _today(settings)
        last = (
            23
            if target < _today(settings)
            else max(utcnow().astimezone(zone(settings.team_timezone)).hour - 1, 0)
        )
        with warehouse(settings) as wh:
            gaps = canary_check.missing_hours(wh, coverage, target, last)
    _emit(app_state, canary_check.findings(results), no_alert)
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
    bad = (
        any(r.status != "ok" for r in results) or problems or (posted and not posted["ok"]) or gaps
    )
    raise typer.Exit(1 if bad else 0)


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
    if drop_missing and not repair_:
        raise BadInput("--drop-missing goes with --repair")
    app_state = state(ctx)
    settings = app_state.settings
    files = Files(settings.files_root)
    with spark_session(metastore_config(settings, files)) as spark:
        metastore = HiveMetastore(
            spark, settings.metastore_dir if not settings.get("hive.metastore_uri") else None
        )
        try:
            drift = check_partitions(metastore, files, table, base_path)
            repaired = None
            if repair_ and drift.drifted:
                repair(metastore, table, drop_missing)
                repaired = check_partitions(metastore, files, table, base_path)
        except OpsweekError:
            raise
        except Exception as exc:
            first = first_line(exc)
            raise Unavailable(f"metastore: {first}") from None
    _emit(app_state, (repaired or drift).findings(), no_alert)
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
