"""A duty's step that is an opsweek command, as a page offers it: the action itself (a link to
the page that shows the same, or a button that runs the check), the command beside it, small,
for those who want it. Steps for other hosts stay commands, with their copy buttons."""

from __future__ import annotations

from dataclasses import dataclass

from opsweek.checks.workflows import ON_REQUEST


@dataclass(frozen=True)
class StepAction:
    label: str
    url: str = ""  # a link to follow
    check: str = ""  # or a check a button runs (opsweek.checks.workflows.ON_REQUEST)


LINKS = {
    "opsweek alerts list --status firing": StepAction(
        "the firing alerts not acknowledged", "/inbox?q=%40state%3Dactive"
    ),
    "opsweek sal list --limit 20": StepAction("the SAL", "/sal"),
    "opsweek handoff": StepAction("the Handoff", "/handoff"),
    "opsweek today": StepAction("below: waiting on the team, the channel", "/#waiting"),
}


def step_action(command: str | None) -> StepAction | None:
    """What the page does for a step's ``command``; None: it stays a command."""
    if not command:
        return None
    if command in LINKS:
        return LINKS[command]
    words = command.split()
    if len(words) == 3 and words[:2] == ["opsweek", "check"] and words[2] in ON_REQUEST:
        return StepAction("run the check", check=words[2])
    return None
