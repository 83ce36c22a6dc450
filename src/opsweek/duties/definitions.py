"""What is due and when: the runbook's recurring duties, changed or extended by opsweek.toml.

Pure: entries in, definitions out. A schedule is a cron expression evaluated in the team
timezone; ``every``/``at``/``day_of_month`` are a friendlier way to write one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from typing import Any

from croniter import croniter

from opsweek.errors import ConfigError
from opsweek.timeutil import WEEKDAYS, parse_clock, parse_weekday

ON_DEMAND = "on-demand"
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
FIELDS = {
    "key",
    "title",
    "cron",
    "every",
    "at",
    "day_of_month",
    "grace_hours",
    "steps",
    "enabled",
    "runbook",
}


@dataclass(frozen=True)
class DutyDef:
    key: str
    title: str
    cron: str  # five-field cron in the team timezone, or ON_DEMAND
    grace_hours: int = 8  # due for this long, then overdue
    steps: tuple[str, ...] = ()
    runbook: str = ""  # the runbook section it comes from
    enabled: bool = True

    @property
    def on_demand(self) -> bool:
        return self.cron == ON_DEMAND

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "schedule": self.cron,
            "grace_hours": self.grace_hours,
            "steps": list(self.steps),
            "runbook": self.runbook,
        }


HELMFILE = "helmfile -e {env} -i apply --context=5"


def _aqs_steps() -> tuple[str, ...]:
    steps = ["ssh deployment.eqiad.wmnet"]
    for service in ("edit-analytics", "editor-analytics"):
        steps.append(f"cd /srv/deployment-charts/helmfile.d/services/{service}")
        steps.append("git log -n 1  # check that the change has been merged")
        steps.extend(HELMFILE.format(env=env) for env in ("staging", "codfw", "eqiad"))
    return tuple(steps)


def handoff_cron(handoff_weekday: int, handoff_time: time, lead_hours: int) -> str:
    """The handoff duty falls due ``lead_hours`` before the handoff and is overdue at the
    handoff itself, so it belongs to the week being handed off."""
    minutes = handoff_weekday * 1440 + handoff_time.hour * 60 + handoff_time.minute
    minutes = (minutes - lead_hours * 60) % (7 * 1440)
    day, minute_of_day = divmod(minutes, 1440)
    hour, minute = divmod(minute_of_day, 60)
    return f"{minute} {hour} * * {WEEKDAYS[day][:3]}"


def default_duties(
    handoff_weekday: int, handoff_time: time, lead_hours: int = 4
) -> tuple[DutyDef, ...]:
    """The runbook's duties. The handoff follows the rotation's handoff day and time."""
    lead_hours = max(1, min(lead_hours, 24 * 6))
    daily = "0 9 * * mon-fri"
    return (
        DutyDef(
            "alarms",
            "Look at the alarms: acknowledge every new alert",
            daily,
            steps=(
                "Acknowledge every firing alert: opsweek alerts list --status firing",
                "Check the SAL before acting: opsweek sal search <job or table>",
                "Log every re-run: opsweek log <what you did>",
            ),
            runbook="Have any alarms been triggered?",
        ),
        DutyDef(
            "irc",
            "Check #wikimedia-analytics for anything that needs you",
            daily,
            runbook="Ops week duties",
        ),
        DutyDef(
            "collab-channel",
            "Collaboration channel: every question answered within 24 hours",
            daily,
            steps=("Acknowledge each unanswered question and decide the follow-up",),
            runbook="Ops week duties",
        ),
        DutyDef(
            "new-wikis",
            "Have new wikis been created?",
            daily,
            steps=(
                "Look for 'pageviews from an unregistered Wikimedia site' alerts",
                "Check the wiki has replicas: analytics-mysql <wiki>, then show tables;",
                "Add it to the pageview allowlist and to grouped_wikis.csv",
            ),
            runbook="Have new wikis been created?",
        ),
        DutyDef(
            "mw-history-snapshot",
            "Is there a new MediaWiki history snapshot ready?",
            "0 9 1-7 * *",
            steps=(
                "Look for the '[Data-engineering-alerts] Mediawiki_history ... now available' mail",
            ),
            runbook="Is there a new Mediawiki History snapshot ready?",
        ),
        DutyDef(
            "mw-history-deploy",
            "Redeploy edit-analytics and editor-analytics on the new MediaWiki history snapshot",
            "0 9 2 * *",
            grace_hours=72,
            steps=_aqs_steps(),
            runbook="Is there a new Mediawiki History snapshot ready?",
        ),
        DutyDef(
            "deployment-train",
            "Deployment train: deploy what has changes pending",
            "0 17 * * tue",
            grace_hours=24,
            steps=(
                "See what changed since the last deploy: opsweek train",
                "Deploy each project with changes, following its steps",
                "Log each deployment: opsweek train deployed <project> <version>",
            ),
            runbook="Things to do every Tuesday",
        ),
        DutyDef(
            "handoff",
            "Hand off to the next person",
            handoff_cron(handoff_weekday, handoff_time, lead_hours),
            grace_hours=lead_hours,
            steps=(
                "Update every Ops Week task with the work done",
                "Unassign the assigned tasks that were not started",
                "Finish or hand over the work in progress",
                "Document the week's alerts and how they were treated: opsweek handoff",
                "Post the handoff: opsweek handoff --publish slack,email",
                "Mail decisions taken with part of the team: opsweek decision <text>",
            ),
            runbook="Hand off",
        ),
        DutyDef(
            "offboarding",
            "Offboard a departed user",
            ON_DEMAND,
            grace_hours=120,
            steps=(
                "Find the leftovers and paste them into the task: opsweek offboard check <user>",
                "Archive what others need under /wmf/data/archive/user/<user>",
                "Remove home directories, the HDFS home and the user's Hive databases",
            ),
            runbook="Have any users left the Foundation?",
        ),
        DutyDef(
            "new-wiki",
            "Add a new wiki to the allowlist and the sqoop list",
            ON_DEMAND,
            grace_hours=48,
            steps=(
                "Check the wiki has replicas: analytics-mysql <wiki>, then show tables;",
                "Add it to the pageview allowlist (tab separated) and sync it to HDFS",
                "Add it to grouped_wikis.csv",
            ),
            runbook="Have new wikis been created?",
        ),
    )


def cron_for(entry: Mapping[str, Any], where: str) -> str | None:
    """The cron expression an entry asks for, or None when it names no schedule."""
    if "cron" in entry:
        cron = str(entry["cron"]).strip()
        if cron == ON_DEMAND:
            return cron
        if not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ConfigError(f"{where}: invalid cron expression {cron!r}")
        return cron
    if not {"every", "at", "day_of_month"} & entry.keys():
        return None
    try:
        clock = parse_clock(str(entry.get("at", "09:00")))
    except ValueError as exc:
        raise ConfigError(f"{where}: invalid time {entry.get('at')!r}: {exc}") from None
    hour, minute = clock.hour, clock.minute
    if "day_of_month" in entry:
        day = entry["day_of_month"]
        if not isinstance(day, int) or not 1 <= day <= 31:
            raise ConfigError(f"{where}: day_of_month must be a number from 1 to 31")
        return f"{minute} {hour} {day} * *"
    every = str(entry.get("every", "day")).strip().lower()
    if every in {"day", "working day", "weekday"}:
        days = "*" if every == "day" else "mon-fri"
    else:
        try:
            days = WEEKDAYS[parse_weekday(every)][:3]
        except ValueError as exc:
            raise ConfigError(f"{where}: invalid every {every!r}: {exc}") from None
    return f"{minute} {hour} * * {days}"


def load_duties(
    entries: Iterable[Mapping[str, Any]], defaults: Iterable[DutyDef]
) -> tuple[DutyDef, ...]:
    """Defaults changed by the configured entries (matched by key); new keys are added."""
    duties = {d.key: d for d in defaults}
    for number, entry in enumerate(entries, start=1):
        where = f"duties entry {number}"
        unknown = set(entry) - FIELDS
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        key = str(entry.get("key", ""))
        if not KEY.match(key):
            raise ConfigError(f"{where}: key must be lower-case letters, digits and dashes")
        changes: dict[str, Any] = {}
        cron = cron_for(entry, f"{where} ({key})")
        if cron is not None:
            changes["cron"] = cron
        if "title" in entry:
            changes["title"] = str(entry["title"])
        if "grace_hours" in entry:
            grace = entry["grace_hours"]
            if not isinstance(grace, int) or grace < 1:
                raise ConfigError(f"{where} ({key}): grace_hours must be a whole number >= 1")
            changes["grace_hours"] = grace
        if "steps" in entry:
            steps = entry["steps"]
            if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
                raise ConfigError(f"{where} ({key}): steps must be a list of strings")
            changes["steps"] = tuple(steps)
        if "runbook" in entry:
            changes["runbook"] = str(entry["runbook"])
        if "enabled" in entry:
            changes["enabled"] = bool(entry["enabled"])
        if key in duties:
            duties[key] = replace(duties[key], **changes)
        else:
            if "title" not in changes or "cron" not in changes:
                raise ConfigError(
                    f"{where} ({key}): a new duty needs a title and a schedule "
                    "(cron, every/at, day_of_month, or cron = 'on-demand')"
                )
            duties[key] = DutyDef(key=key, **changes)
    return tuple(d for d in duties.values() if d.enabled)


@dataclass(frozen=True)
class DutyBook:
    """The effective duties, by key."""

    duties: tuple[DutyDef, ...] = field(default_factory=tuple)

    def get(self, key: str) -> DutyDef | None:
        return next((d for d in self.duties if d.key == key), None)

    @property
    def recurring(self) -> tuple[DutyDef, ...]:
        return tuple(d for d in self.duties if not d.on_demand)
