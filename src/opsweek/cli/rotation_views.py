"""How the rotation is shown in a terminal: its weeks as a table, its conflicts with their
suggested fixes (shared by `opsweek rotation`, `opsweek team` and `opsweek demo`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from opsweek.cli.output import console, short_time

if TYPE_CHECKING:
    from rich.table import Table

    from opsweek.rotation.views import ConflictView, RotationConfig, WeekView


def print_conflicts(conflicts: Sequence[ConflictView]) -> None:
    for conflict in conflicts:
        console.print(
            f"[bold yellow]conflict:[/] week of {conflict.week} is {conflict.username}'s"
            f" but they are {conflict.reason}",
            soft_wrap=True,
        )
        if conflict.suggestion:
            console.print(f"  suggested: {conflict.suggestion.describe()}", soft_wrap=True)
        else:
            console.print("  nobody else is available that week: cover it by hand")


def weeks_table(weeks: Sequence[WeekView], config: RotationConfig, title: str) -> Table:
    from rich.table import Table

    tz = config.rule.tz
    table = Table(title=title)
    for column in ("week", f"from ({tz.key})", "to", "on duty", "status"):
        table.add_column(column)
    for week in weeks:
        status = week.state
        if week.origin in ("swap", "cover"):
            status += f" ({week.origin})"
        table.add_row(
            week.week.isoformat(),
            short_time(week.starts_at, tz),
            short_time(week.ends_at, tz),
            week.username or "-",
            status,
        )
    return table
