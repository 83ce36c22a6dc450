"""The procedures besides alerts whose commands opsweek hands over, built from realistic
inputs: an offboarding plan from a scan of a departed user's places (hosts, HDFS, Hive), the
duties' checklists filled for an occurrence, and the deployment train's steps."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import TableInfo
from opsweek.adapters.hosts import LocalHost
from opsweek.duties.checklist import fill
from opsweek.duties.definitions import DutyDef, default_duties
from opsweek.duties.train import DEFAULT_STEPS
from opsweek.offboard.plan import Plan, build_plan
from opsweek.offboard.scan import DatabaseFinding, Scanner, TableFinding
from opsweek.steps import Step
from tests.offboard.fixtures import hdfs_tree, host_tree

WAREHOUSE = "/user/hive/warehouse"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CUMIN = (
    "C:profile::analytics::cluster::client or C:profile::hadoop::master or "
    "C:profile::hadoop::master::standby"
)


def offboarding_plan(root: Path) -> Plan:
    """A plan with every kind of step: a table of elvis's in a team database handed to
    hpatel, his project archived, his database dropped with its warehouse directory, his HDFS
    home and host homes removed."""
    hdfs, host = root / "hdfs", root / "stat1008"
    hdfs_tree(hdfs)
    host_tree(host)
    files = Files(hdfs.as_uri())
    report = Scanner(files, [LocalHost("stat1008", str(host))], None, WAREHOUSE).scan("elvis")
    scratch = TableInfo(
        "elvis_scratch", "old", "elvis", "MANAGED", f"hdfs://c{WAREHOUSE}/elvis_scratch.db/old"
    )
    report.databases = [
        DatabaseFinding(
            "elvis_scratch",
            f"hdfs://c{WAREHOUSE}/elvis_scratch.db",
            f"{WAREHOUSE}/elvis_scratch.db",
            [TableFinding(scratch, f"{WAREHOUSE}/elvis_scratch.db/old", True)],
        )
    ]
    shared = TableInfo("team", "shared", "elvis", "MANAGED", f"hdfs://c{WAREHOUSE}/team.db/shared")
    report.owned_elsewhere = [TableFinding(shared, f"{WAREHOUSE}/team.db/shared", True)]
    return build_plan(
        report,
        ["/user/elvis/project"],
        {"team.shared": "hpatel"},
        archive_dir="/wmf/data/archive/user",
        archive_owner="hdfs:analytics-privatedata-users",
        cumin_hosts=CUMIN,
        created_by="ana",
        created_at=NOW,
        fingerprint=lambda path, exclude: files.fingerprint(path, tuple(exclude)),
    )


def duties() -> dict[str, DutyDef]:
    return {d.key: d for d in default_duties(3, time(13, 0))}


# what an occurrence of each duty knows when it is opened
DUTY_VALUES = {
    "offboarding": {"user": "elvis"},
    "onboarding": {"user": "nadia"},
    "new-wiki": {"wiki": "azywiki"},
    "mw-history-deploy": {"snapshot": "2026-10"},
}


def duty_steps(key: str) -> list[Step]:
    return fill(duties()[key].steps, DUTY_VALUES.get(key, {}))


def train_steps() -> list[Step]:
    return fill(DEFAULT_STEPS, {"project": "refinery", "head": "1caee0129b94"})
