"""``opsweek demo``: set up the embedded default with a realistic team and rotation."""

from datetime import timedelta
from typing import Annotated

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.rotation_views import print_conflicts, weeks_table
from opsweek.cli.state import state
from opsweek.config import mask_url

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
    from opsweek.demo.setup import load_demo, write_demo_config
    from opsweek.rotation.solver import WEEK

    ops = state(ctx).app
    settings = ops.settings
    result = load_demo(ops, reset_)
    if hive:
        with console.status("creating the demo Hive tables (starting Spark)"):
            extra = write_demo_config(ops, hive)
    else:
        extra = write_demo_config(ops, hive)
    with ops.session() as session:
        rotation = ops.rotation(session)
        duty = rotation.who()
        weeks = rotation.weeks(rotation.current_week - WEEK * 2)
        conflicts = rotation.conflicts()
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
    console.print(weeks_table(weeks, ops.rotation_config, "Ops-week rotation"))
    print_conflicts(conflicts)
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
