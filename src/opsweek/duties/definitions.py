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

from opsweek.duties.checklist import from_config, step
from opsweek.errors import ConfigError
from opsweek.steps import Step
from opsweek.timeutil import WEEKDAYS, parse_clock, parse_weekday, zone

ON_DEMAND = "on-demand"
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
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
    "timezone",
    "manual",
}


@dataclass(frozen=True)
class DutyDef:
    key: str
    title: str
    cron: str  # five-field cron in the duty's timezone, or ON_DEMAND
    grace_hours: int = 8  # due for this long, then overdue
    steps: tuple[Step, ...] = ()  # the checklist; <name> placeholders filled per occurrence
    runbook: str = ""  # the runbook section it comes from
    enabled: bool = True
    timezone: str = ""  # the cron's timezone: "" for the team's
    manual: bool = False  # manual maintenance: on the runbook's TODO list for automation

    @property
    def on_demand(self) -> bool:
        return self.cron == ON_DEMAND

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "schedule": self.cron,
            "timezone": self.timezone or None,
            "grace_hours": self.grace_hours,
            "steps": [s.as_json() for s in self.steps],
            "runbook": self.runbook,
            "manual": self.manual,
        }


DEPLOYMENT_HOST = "deployment.eqiad.wmnet"
AQS_SERVICES = ("edit-analytics", "editor-analytics")


def _aqs_steps() -> tuple[Step, ...]:
    """The runbook's redeploy, one command at a time on the deployment host: for each
    service, check the change is merged, then staging, codfw and eqiad."""
    steps = []
    for service in AQS_SERVICES:
        where = f"cd /srv/deployment-charts/helmfile.d/services/{service}"
        steps.append(
            step(
                f"{service}: check the change has been merged",
                f"{where} && git log -n 1",
                host=DEPLOYMENT_HOST,
            )
        )
        for env in ("staging", "codfw", "eqiad"):
            steps.append(
                step(
                    f"Deploy {service} to {env}; check the output before going on",
                    f"{where} && helmfile -e {env} -i apply --context=5",
                    host=DEPLOYMENT_HOST,
                )
            )
        steps.append(
            step(
                f"Log the deploy of {service}",
                f"!log deployed {service} (staging, codfw, eqiad) with mediawiki_history "
                "snapshot <snapshot>",
                "irc",
            )
        )
    return tuple(steps)


def handoff_cron(handoff_weekday: int, handoff_time: time, lead_hours: int) -> str:
    """The handoff duty falls due ``lead_hours`` before the handoff and is overdue at the
    handoff itself, so it belongs to the week being handed off."""
    minutes = handoff_weekday * 1440 + handoff_time.hour * 60 + handoff_time.minute
    minutes = (minutes - lead_hours * 60) % (7 * 1440)
    day, minute_of_day = divmod(minutes, 1440)
    hour, minute = divmod(minute_of_day, 60)
    return f"{minute} {hour} * * {WEEKDAYS[day][:3]}"


ALLOWLIST_HDFS = "/wmf/refinery/current/static_data/pageview/allowlist/allowlist.tsv"
LAUNCHER = "an-launcher1002.eqiad.wmnet"
AS_HDFS = "sudo -u hdfs kerberos-run-command hdfs hdfs dfs"
STAT_HOST = "stat1008.eqiad.wmnet"


def _allowlist_sync() -> tuple[Step, ...]:
    return (
        step(
            "After the patch is merged, copy the allowlist from your analytics-refinery "
            "checkout to the launcher",
            "scp static_data/pageview/allowlist/allowlist.tsv an-launcher1002.eqiad.wmnet:",
        ),
        step("Sync it to HDFS", f"{AS_HDFS} -put -f allowlist.tsv {ALLOWLIST_HDFS}", host=LAUNCHER),
        step("Make it readable", f"{AS_HDFS} -chmod +r {ALLOWLIST_HDFS}", host=LAUNCHER),
    )


def default_duties(
    handoff_weekday: int, handoff_time: time, lead_hours: int = 4
) -> tuple[DutyDef, ...]:
    """The runbook's duties. The handoff follows the rotation's handoff day and time; the
    deployment train is at 5 pm UTC, after the team's standup, whatever the team's timezone."""
    lead_hours = max(1, min(lead_hours, 24 * 6))
    daily = "0 9 * * mon-fri"
    return (
        DutyDef(
            "alarms",
            "Look at the alarms: acknowledge every new alert",
            daily,
            steps=(
                step("Acknowledge every firing alert", "opsweek alerts list --status firing"),
                step(
                    "Before acting on one, check the SAL: has someone already done it?",
                    "opsweek sal list --limit 20",
                ),
                step("Log every re-run to the SAL (opsweek log, or !log on IRC)"),
            ),
            runbook="Have any alarms been triggered?",
        ),
        DutyDef(
            "irc",
            "Check #wikimedia-analytics for anything that needs you",
            daily,
            steps=(
                step(
                    "Read the channel's lines that name you, an open alert's job, table or "
                    "host, or the team's words (kept by the IRC bot)",
                    "opsweek today",
                ),
            ),
            runbook="Ops week duties",
        ),
        DutyDef(
            "collab-channel",
            "Collaboration channel: every question answered within 24 hours",
            daily,
            steps=(
                step(
                    "Acknowledge each unanswered question and decide the follow-up: they are "
                    "listed with the time left to answer",
                    "opsweek today",
                ),
            ),
            runbook="Ops week duties",
        ),
        DutyDef(
            "new-wikis",
            "Have new wikis been created?",
            daily,
            steps=(
                step(
                    "Look for wikis with pageviews that are not in the allowlist, and whether "
                    "their replicas have tables",
                    "opsweek check new-wikis",
                ),
                step(
                    "Add each one to the pageview allowlist, and to grouped_wikis.csv once its "
                    "replica has tables (a new-wiki duty is opened for each ready wiki)"
                ),
            ),
            runbook="Have new wikis been created?",
        ),
        DutyDef(
            "mw-history-snapshot",
            "Is there a new MediaWiki history snapshot ready?",
            "0 9 1-7 * *",
            steps=(
                step(
                    "Look for the '[Data-engineering-alerts] Mediawiki_history ... now "
                    "available' mail, or check the snapshot's flags",
                    "opsweek check mw-history",
                ),
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
                step("See what changed since each project's last deploy", "opsweek train status"),
                step(
                    "Deploy each project with changes, following its steps (opsweek train "
                    "status lists them, with the command that logs each deploy)"
                ),
            ),
            runbook="Things to do every Tuesday",
            timezone="UTC",
        ),
        DutyDef(
            "handoff",
            "Hand off to the next person",
            handoff_cron(handoff_weekday, handoff_time, lead_hours),
            grace_hours=lead_hours,
            steps=(
                step("Update every Ops Week task with the work done"),
                step("Unassign the assigned tasks that were not started"),
                step("Finish or hand over the work in progress"),
                step("Document the week's alerts and how they were treated", "opsweek handoff"),
                step("Post the handoff", "opsweek handoff --publish slack,email"),
                step("Mail the decisions taken with part of the team (opsweek decision TEXT)"),
            ),
            runbook="Hand off",
        ),
        DutyDef(
            "offboarding",
            "Offboard a departed user",
            ON_DEMAND,
            grace_hours=120,
            steps=(
                step(
                    "Find the leftovers and paste them into the task",
                    "opsweek offboard check <user>",
                ),
                step(
                    "Plan the archive of what others need and the removals; review the plan",
                    "opsweek offboard plan <user> -o <user>-offboarding.json",
                ),
                step(
                    "Run the plan (step by step, re-checked, resumable)",
                    "opsweek offboard execute <user>-offboarding.json --yes",
                ),
            ),
            runbook="Have any users left the Foundation?",
        ),
        DutyDef(
            "onboarding",
            "Give a new user access to the cluster",
            ON_DEMAND,
            grace_hours=120,
            steps=(
                step(
                    "Read the access request task: who approved it, and which groups it grants "
                    "(analytics-privatedata-users for private data)"
                ),
                step(
                    "Ask an SRE to create the user's Kerberos principal and to add the user "
                    "to those groups (a reviewed change to the admin data)"
                ),
                step(
                    "Create the user's HDFS home",
                    f"{AS_HDFS} -mkdir -p /user/<user>",
                    host=LAUNCHER,
                ),
                step(
                    "Make the user its owner",
                    f"{AS_HDFS} -chown <user> /user/<user>",
                    host=LAUNCHER,
                ),
                step(
                    "See which of these are in place (HDFS home and owner, groups)",
                    "opsweek onboard check <user>",
                ),
                step(
                    "First login test: the user logs in to a stat host, runs kinit, then "
                    "lists their HDFS home",
                    "hdfs dfs -ls /user/<user>",
                    host=STAT_HOST,
                ),
            ),
            runbook="Removing and adding new users",
        ),
        DutyDef(
            "new-wiki",
            "Add a new wiki to the allowlist and the sqoop list",
            ON_DEMAND,
            grace_hours=48,
            steps=(
                step(
                    "From a stat host, connect to its production replica and run `show "
                    "tables;`: an empty list means it is not synchronized yet",
                    "analytics-mysql <wiki>",
                ),
                step(
                    "Write the allowlist and grouped_wikis.csv changes on a new branch, then "
                    "send them for review",
                    "opsweek check new-wikis --write",
                ),
                *_allowlist_sync(),
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
            if not isinstance(steps, list):
                raise ConfigError(f"{where} ({key}): steps must be a list")
            changes["steps"] = tuple(
                from_config(item, f"{where} ({key}) step {n}") for n, item in enumerate(steps, 1)
            )
        if "timezone" in entry:
            try:
                zone(str(entry["timezone"]))
            except ValueError as exc:
                raise ConfigError(f"{where} ({key}): {exc}") from None
            changes["timezone"] = str(entry["timezone"])
        if "runbook" in entry:
            changes["runbook"] = str(entry["runbook"])
        if "enabled" in entry:
            changes["enabled"] = bool(entry["enabled"])
        if "manual" in entry:
            changes["manual"] = bool(entry["manual"])
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
