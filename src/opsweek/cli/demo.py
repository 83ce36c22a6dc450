"""``opsweek demo``: set up the embedded default with a realistic team and rotation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from opsweek.adapters.fs import Files
from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.rotation import rotation_for, show
from opsweek.cli.state import State, state
from opsweek.config import Settings, mask_url
from opsweek.demo import DemoResult, reset, seed
from opsweek.demo_checks import seed_checks
from opsweek.demo_offboard import seed_hive, seed_offboard
from opsweek.demo_train import seed_train
from opsweek.duties.service import duty_book
from opsweek.rotation.service import RotationConfig
from opsweek.timeutil import utcnow, zone

NEXT_STEPS = """
Try next:
  opsweek who                        who is on duty now, and who is next
  opsweek rotation show              the schedule, published and draft weeks
  opsweek team away {who} --from {a} --to {b} --reason vacation
                                     a vacation in a published week: a conflict and a fix
  opsweek rotation conflicts         published weeks that need a swap or a cover
  opsweek rotation ics -o ops.ics    import the rotation into a calendar
  opsweek alerts list --status open  the inbox: unacknowledged first
  opsweek alerts show 1              details, the runbook's next steps, related SAL entries
  opsweek log "reran refine_event"   a Server Admin Log entry; opsweek sal wiki shows the log
  opsweek today                      what is due and firing for the person on duty
  opsweek handoff                    the handoff report of the week, written from all of this
  opsweek --config {config} train status
                                     the deployment train over two demo git repositories
  opsweek --config {config} check new-wikis --days 2
                                     new wikis with pageviews: the allowlist and sqoop changes
  opsweek check mw-history           last month's MediaWiki history snapshot is ready
  opsweek --config {config} offboard check elvis
                                     a departed user's leftovers (Hive too with demo --hive)
  opsweek serve                      the dashboard and the API on 127.0.0.1:8080
  opsweek config show                where all of this is stored
Add --json to any command for machine-readable output.
"""


def seed_all(app_state: State, reset_first: bool = False) -> DemoResult:
    """Seed the demo data into the configured store (nothing happens if data exists)."""
    with app_state.session() as session:
        if reset_first:
            reset(session)
        settings = app_state.settings
        return seed(
            session,
            RotationConfig.from_settings(settings),
            utcnow(),
            duties=duty_book(settings),
        )


def write_demo_config(settings: Settings, hive: bool) -> Path:
    """The demo's deployment train and offboarding (git repositories, files, a host, and Hive
    tables when asked), with the settings pointing at them in <data_dir>/demo.toml."""
    data = settings.data_dir
    sections = [
        "# opsweek demo: the deployment train and a departed user to offboard.\n"
        "# Use it with: opsweek --config THIS-FILE train status | offboard check elvis\n"
    ]
    train = seed_train(data / "demo-train")
    if train:
        sections.append(train)
    files = Files(settings.files_root)
    sections.append(seed_offboard(Path(files.real("/")), data / "demo-hosts"))
    sections.append(
        seed_checks(
            Path(files.real("/")),
            settings.warehouse_dir,
            settings.get("checks.mw_history_dir"),
            data / "demo-checks",
            utcnow().astimezone(zone(settings.team_timezone)).date(),
        )
    )
    if hive:
        with console.status("creating the demo Hive tables (starting Spark)"):
            seed_hive(files, settings.warehouse_dir, settings.metastore_dir)
    path = data / "demo.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sections), encoding="utf-8")
    return path


def demo(
    ctx: typer.Context,
    reset_: Annotated[bool, typer.Option("--reset", help="Delete all data first.")] = False,
    hive: Annotated[
        bool,
        typer.Option(
            "--hive", help="Also create the departed user's Hive tables (spark extra, Java 17)."
        ),
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Fill the store with a demo team (8 people, 3 regions), a planned rotation and a week
    of alerts of every kind."""
    app_state = state(ctx)
    settings = app_state.settings
    result = seed_all(app_state, reset_)
    extra = write_demo_config(settings, hive)
    with app_state.session() as session:
        rotation = rotation_for(app_state, session)
        duty = rotation.who()
        published = [w for w in rotation.weeks(rotation.current_week) if w.published]
        example = published[min(2, len(published) - 1)]
    if json_:
        print_json(
            {
                "database": mask_url(settings.database_url),
                "created": result.created,
                "people": result.people,
                "away": result.away,
                "weeks": result.weeks,
                "alerts": result.alerts,
                "on_duty": duty.current.username if duty.current else None,
                "demo_config": str(extra),
            }
        )
        return
    if result.created:
        console.print(
            f"demo data ready in {mask_url(settings.database_url)}: {result.people} "
            f"people, {result.away} away periods, {result.weeks} ops weeks, "
            f"{result.alerts} alerts"
        )
    else:
        console.print(
            f"demo data already present in {mask_url(settings.database_url)} "
            "(use --reset to start over)"
        )
    ctx.invoke(show, ctx=ctx, past=2, json_=False)
    console.print(
        NEXT_STEPS.format(
            who=example.username,
            a=example.week,
            b=example.week + timedelta(days=4),
            config=extra,
        ),
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
