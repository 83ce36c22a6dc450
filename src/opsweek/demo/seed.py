"""The demo team: realistic data in the embedded default, so opsweek can be tried at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from opsweek.alerts.changes import AlertChanges
from opsweek.db.models import Base, Person
from opsweek.demo.alerts import seed_alerts
from opsweek.demo.duties import seed_duties
from opsweek.duties.definitions import DutyBook
from opsweek.rotation.availability import AwayPeriod
from opsweek.rotation.people import PersonRecord
from opsweek.rotation.service import Rotation
from opsweek.rotation.solver import WEEK
from opsweek.rotation.team import Team
from opsweek.rotation.views import RotationConfig
from opsweek.sal.log import SalLog

DEMO_TEAM = (
    PersonRecord(
        "amartin", "Ana Martín", "amartin@example.org", "ana", "U01AMARTIN", "Europe/Madrid"
    ),
    PersonRecord(
        "bdubois", "Bastien Dubois", "bdubois@example.org", "bastien", "U01BDUBOIS", "Europe/Paris"
    ),
    PersonRecord(
        "cweber", "Clara Weber", "cweber@example.org", "clara", "U01CWEBER", "Europe/Berlin"
    ),
    PersonRecord(
        "dokafor",
        "David Okafor",
        "dokafor@example.org",
        "dokafor",
        "U01DOKAFOR",
        "America/New_York",
    ),
    PersonRecord("eli", "Eli Goldberg", "eli@example.org", "eli", "U01ELI", "America/New_York"),
    PersonRecord(
        "fnguyen", "Fran Nguyen", "fnguyen@example.org", "fran", "U01FNGUYEN", "America/Chicago"
    ),
    PersonRecord(
        "gsato", "Gen Sato", "gsato@example.org", "gsato", "U01GSATO", "America/Los_Angeles"
    ),
    PersonRecord(
        "hpatel", "Hema Patel", "hpatel@example.org", "hema", "U01HPATEL", "America/Los_Angeles"
    ),
)

HISTORY_WEEKS = 6
PLANNED_WEEKS = 12


@dataclass(frozen=True)
class DemoResult:
    created: bool
    people: int
    away: int
    weeks: int
    alerts: int = 0


DEMO_SAL = (  # (hours ago, nick, message): what a team's channel logs during a week
    (150, "joal", "deployed refinery v0.2.31 to hdfs (T354412)"),
    (143, "ana", "reran refine_event for event.mediawiki_page_change, the failed hour"),
    (120, "bastien", "msck repair table wmf.webrequest; refinery-drop-webrequest happy again"),
    (98, "elukey", "restarted hive-server2 on an-coord1001 after jstack dump (T355010)"),
    (75, "clara", "paused webrequest_actor_metrics_hourly until the upstream partition lands"),
    (30, "ottomata", "restarted eventgate-analytics-external to flush the schema cache"),
    (4, "gsato", "Tuesday train: deployed airflow-dags analytics instance"),
)


def seed_sal(session: Session, now: datetime) -> None:
    sal = SalLog(session)
    for hours, nick, message in DEMO_SAL:
        sal.append(
            nick,
            message,
            channel="#wikimedia-analytics",
            project="analytics",
            source="irc",
            at=now - timedelta(hours=hours),
        )


def reset(session: Session) -> None:
    """Delete every row of every table (the schema stays)."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))


def seed(
    changes: AlertChanges,
    session: Session,
    config: RotationConfig,
    now: datetime,
    actor: str = "demo",
    duties: DutyBook | None = None,
) -> DemoResult:
    if session.scalar(select(Person.id).limit(1)) is not None:
        return DemoResult(False, 0, 0, 0, 0)
    team = Team(session, now)
    team.import_people(DEMO_TEAM)
    today = now.astimezone(config.rule.tz).date()
    away = [
        AwayPeriod("cweber", today + timedelta(days=9), today + timedelta(days=20), "vacation"),
        AwayPeriod("dokafor", today + timedelta(days=23), today + timedelta(days=25), "conference"),
        AwayPeriod(
            "gsato", today + timedelta(days=40), today + timedelta(days=54), "parental leave"
        ),
        AwayPeriod("amartin", today + timedelta(days=62), today + timedelta(days=69), "vacation"),
        AwayPeriod("hpatel", today - timedelta(days=10), today - timedelta(days=6), "sick"),
    ]
    team.import_away(away, "demo")
    earlier = now - WEEK * HISTORY_WEEKS
    Rotation(session, config, actor, earlier).plan(HISTORY_WEEKS)
    rotation = Rotation(session, config, actor, now)
    rotation.plan(PLANNED_WEEKS)
    on_duty = rotation.who().current
    alerts = seed_alerts(changes, session, now, on_duty.username if on_duty else None)
    seed_sal(session, now)
    if duties is not None:
        seed_duties(session, duties, config.rule.tz, rotation, now)
    return DemoResult(True, len(DEMO_TEAM), len(away), HISTORY_WEEKS + PLANNED_WEEKS, alerts)
