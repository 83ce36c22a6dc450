"""What the handoff does to the outgoing person's tasks, as the runbook says (pure): unassign
the assigned tasks that were not started, hand over the work in progress to the next person
(a comment only when nobody is known to take it). Other people's tasks are theirs."""

from __future__ import annotations

from opsweek.adapters.tracker import Task, TaskChange


def plan(tasks: list[Task], outgoing: str | None, incoming: str | None) -> list[TaskChange]:
    changes = []
    for task in tasks:
        if outgoing is None or task.assignee != outgoing:
            continue
        if task.handoff_action == "unassign":
            changes.append(
                TaskChange(
                    task.ref,
                    "unassign",
                    None,
                    False,
                    f"Unassigned at the ops week handoff ({outgoing}): assigned, not started.",
                    task.modified,
                )
            )
        elif task.handoff_action == "hand over":
            text = (
                f"Handed over to @{incoming} at the ops week handoff: in progress."
                if incoming
                else "In progress at the ops week handoff: for the next person on duty."
            )
            changes.append(
                TaskChange(task.ref, "hand over", incoming, bool(incoming), text, task.modified)
            )
    return changes
