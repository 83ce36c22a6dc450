"""Duty definitions: the runbook's defaults, changed and extended by opsweek.toml."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from opsweek.duties.checklist import fill
from opsweek.duties.definitions import default_duties, handoff_cron, load_duties
from opsweek.duties.schedule import occurrences
from opsweek.errors import ConfigError
from opsweek.steps import Step

THURSDAY = 3
DEFAULTS = default_duties(THURSDAY, time(9, 0))


def by_key(duties):  # type: ignore[no-untyped-def]
    return {d.key: d for d in duties}


def test_defaults_cover_the_runbook() -> None:
    duties = by_key(DEFAULTS)
    assert {
        "alarms",
        "new-wikis",
        "mw-history-snapshot",
        "collab-channel",
        "irc",
        "deployment-train",
        "mw-history-deploy",
        "handoff",
        "offboarding",
        "new-wiki",
    } <= set(duties)
    assert duties["deployment-train"].cron == "0 17 * * tue"
    assert duties["mw-history-deploy"].cron == "0 9 2 * *"
    # the monthly redeploy carries the runbook's commands in order
    steps = duties["mw-history-deploy"].steps
    shell = [s for s in steps if s.lang == "shell"]
    assert {s.host for s in shell} == {"deployment.eqiad.wmnet"}  # every step, not the first
    assert [s.command.split("&& ")[1] for s in shell] == [
        "git log -n 1",
        "helmfile -e staging -i apply --context=5",
        "helmfile -e codfw -i apply --context=5",
        "helmfile -e eqiad -i apply --context=5",
    ] * 2  # both services, each checked, one environment at a time
    assert duties["offboarding"].on_demand


def test_the_handoff_is_due_before_the_handoff_and_overdue_at_it() -> None:
    handoff = by_key(DEFAULTS)["handoff"]
    assert handoff.cron == "0 5 * * thu"
    assert handoff.grace_hours == 4
    # a Monday 02:00 handoff with 4 hours of lead falls due on Sunday 22:00
    assert handoff_cron(0, time(2, 0), 4) == "0 22 * * sun"


def test_config_changes_disables_and_adds() -> None:
    duties = by_key(
        load_duties(
            [
                {"key": "deployment-train", "every": "wednesday", "at": "16:30"},
                {"key": "irc", "enabled": False},
                {"key": "dashboards", "title": "Look at the dashboards", "every": "working day"},
                {"key": "quarterly-review", "title": "Review", "day_of_month": 15, "at": "10:00"},
                {"key": "reboots", "title": "Reboots", "cron": "30 14 * * 1", "steps": ["a", "b"]},
            ],
            DEFAULTS,
        )
    )
    assert duties["deployment-train"].cron == "30 16 * * wed"
    assert duties["deployment-train"].steps == by_key(DEFAULTS)["deployment-train"].steps
    assert "irc" not in duties
    assert duties["dashboards"].cron == "0 9 * * mon-fri"
    assert duties["quarterly-review"].cron == "0 10 15 * *"
    assert duties["reboots"].steps == (Step("a"), Step("b"))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"key": "train", "title": "T", "cron": "61 * * * *"}, "invalid cron expression"),
        ({"key": "train", "title": "T", "cron": "every tuesday"}, "invalid cron expression"),
        ({"key": "x", "title": "T", "every": "someday"}, "invalid every"),
        ({"key": "x", "title": "T", "at": "25:00"}, "invalid time"),
        ({"key": "x", "title": "T", "day_of_month": 32}, "day_of_month"),
        ({"key": "x", "cron": "0 9 * * *"}, "needs a title and a schedule"),
        ({"key": "Bad Key", "title": "T"}, "key must be"),
        ({"key": "alarms", "colour": "red"}, "unknown field"),
        ({"key": "alarms", "grace_hours": 0}, "grace_hours"),
    ],
)
def test_bad_entries_are_one_clear_error(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_duties([entry], DEFAULTS)


def test_a_daily_duty_keeps_its_local_time_across_dst() -> None:
    alarms = by_key(DEFAULTS)["alarms"]
    berlin = ZoneInfo("Europe/Berlin")
    found = occurrences(
        alarms,
        datetime(2026, 3, 26, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
        berlin,
    )
    local = [o.due_at.astimezone(berlin) for o in found]
    assert [d.day for d in local] == [26, 27, 30, 31]  # weekdays only
    assert {(d.hour, d.minute) for d in local} == {(9, 0)}
    assert [o.due_at.hour for o in found] == [8, 8, 7, 7]  # CET, then CEST in UTC
    assert found[0].overdue_at.hour == 16


def test_steps_are_filled_in_and_quoted_for_their_command() -> None:
    steps = by_key(DEFAULTS)["offboarding"].steps
    filled = fill(steps, {"user": "elvis"})
    assert filled[0].command == "opsweek offboard check elvis"
    assert filled[1].command == "opsweek offboard plan elvis -o elvis-offboarding.json"
    hostile = fill(steps, {"user": "x; rm -rf ~"})
    assert hostile[0].command == "opsweek offboard check 'x; rm -rf ~'"
    waiting = fill(steps, {})  # the user is not known yet: no command with a hole in it
    assert waiting[0].command == "" and "(no command: waits for user)" in waiting[0].text


def test_configured_steps_are_text_or_one_command() -> None:
    (duty,) = load_duties(
        [
            {
                "key": "dashboards",
                "title": "Look at the dashboards",
                "every": "day",
                "steps": [
                    "Look at Hadoop",
                    {"text": "Turnilo", "url": "https://turnilo.wikimedia.org/"},
                    {"text": "Restart", "shell": "sudo systemctl restart <unit>", "host": "h1"},
                ],
            }
        ],
        (),
    )
    kinds = [(s.lang, s.host) for s in duty.steps]
    assert kinds == [("", ""), ("url", ""), ("shell", "h1")]
    with pytest.raises(ConfigError, match="at most one command"):
        load_duties(
            [
                {
                    "key": "x",
                    "title": "x",
                    "every": "day",
                    "steps": [{"text": "t", "shell": "a", "sql": "b"}],
                }
            ],
            (),
        )


def test_the_train_is_at_5_pm_utc_whatever_the_team_timezone() -> None:
    """The runbook's train is after the standup, 5-6 pm UTC: a team in Los Angeles must not
    see it at 5 pm Pacific."""
    train = by_key(DEFAULTS)["deployment-train"]
    assert train.timezone == "UTC"
    found = occurrences(
        train,
        datetime(2026, 11, 30, tzinfo=UTC),
        datetime(2026, 12, 7, tzinfo=UTC),
        ZoneInfo("America/Los_Angeles"),
    )
    assert [o.due_at for o in found] == [datetime(2026, 12, 1, 17, 0, tzinfo=UTC)]
    (custom,) = load_duties(
        [{"key": "train2", "title": "t", "cron": "0 9 * * mon", "timezone": "Europe/Paris"}], ()
    )
    assert custom.timezone == "Europe/Paris"
    with pytest.raises(ConfigError, match="unknown timezone"):
        load_duties(
            [{"key": "x", "title": "t", "cron": "0 9 * * mon", "timezone": "Mars/Base"}], ()
        )
