"""``opsweek demo``: set up the embedded default with a realistic team and rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from opsweek.cli.output import JsonOption, console, print_json
from opsweek.cli.rotation import rotation_for, show
from opsweek.cli.state import State, state
from opsweek.config import mask_url
from opsweek.demo import DemoResult, reset, seed
from opsweek.demo_train import seed_train
from opsweek.duties.service import duty_book
from opsweek.rotation.service import RotationConfig
from opsweek.timeutil import utcnow

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
  opsweek --config {train} train status
                                     the deployment train over two demo git repositories
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


def demo(
    ctx: typer.Context,
    reset_: Annotated[bool, typer.Option("--reset", help="Delete all data first.")] = False,
    json_: JsonOption = False,
) -> None:
    """Fill the store with a demo team (8 people, 3 regions), a planned rotation and a week
    of alerts of every kind."""
    app_state = state(ctx)
    settings = app_state.settings
    result = seed_all(app_state, reset_)
    train_config = seed_train(settings.data_dir / "demo-train")
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
                "train_config": str(train_config) if train_config else None,
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
            train=train_config or "opsweek.toml",
        )
    )
