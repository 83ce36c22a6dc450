"""Offboarding on real parts: local Spark with Hive support (an embedded Derby metastore for
this module), managed and external tables, a table the user owns in a team database, files
under a local HDFS root and a local host. Scan, plan, dry run, interrupt, resume."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore, MetastoreConfig, spark_session
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.models import SalEntry
from opsweek.db.session import open_store
from opsweek.errors import Unavailable
from opsweek.offboard.execute import Executor, Journal
from opsweek.offboard.plan import plan_from_json
from tests.conftest import Cli
from tests.offboard.fixtures import host_tree, write
from tests.services.common import missing_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]
WAREHOUSE = "/user/hive/warehouse"


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.hdfs = root / "hdfs"
        self.host = root / "stat1008"
        self.config = root / "opsweek.toml"
        self.files = Files(self.hdfs.as_uri())
        self.config.write_text(
            f'[files]\nroot = "{self.hdfs.as_uri()}"\n'
            f'[hive]\nmetastore_dir = "{root / "metastore"}"\n'
            f'[[hosts]]\nname = "stat1008"\nlocal_root = "{self.host}"\n'
        )
        self.metastore: HiveMetastore


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    found = Cluster(tmp_path_factory.mktemp("cluster"))
    settings = load_settings(found.config, env={})
    config = MetastoreConfig(found.files.url(WAREHOUSE), settings.hive.metastore_dir)
    try:
        session = spark_session(config, user="elvis")  # tables created now belong to elvis
        spark = session.__enter__()
    except Unavailable as exc:
        missing_service(str(exc))
    try:
        metastore = HiveMetastore(spark)
        ext = found.files.url("/user/elvis/ext/events")
        for statement in (
            "CREATE DATABASE elvis",
            "CREATE TABLE elvis.events (id INT, wiki STRING) STORED AS PARQUET",
            "INSERT INTO elvis.events VALUES (1, 'enwiki'), (2, 'frwiki')",
            f"CREATE EXTERNAL TABLE elvis.events_ext (id INT) STORED AS PARQUET LOCATION '{ext}'",
            "INSERT INTO elvis.events_ext VALUES (1)",
            "CREATE DATABASE elvis_tmp",
            "CREATE TABLE elvis_tmp.scratch (id INT) STORED AS PARQUET",
            "CREATE DATABASE team",
            "CREATE TABLE team.shared (id INT) STORED AS PARQUET",
            "INSERT INTO team.shared VALUES (7)",
            "CREATE TABLE team.daily (id INT) STORED AS PARQUET",
            "CREATE DATABASE priscilla",
        ):
            spark.sql(statement)
        metastore.set_owner("team", "daily", "hpatel")  # built by someone else
        found.metastore = metastore
        write(found.hdfs / "user/elvis/project/part-0", "x" * 300)
        write(found.hdfs / "user/elvis/notebooks/a.ipynb", "{}")
        write(found.hdfs / "user/priscilla/notes.txt", "p")
        write(found.hdfs / "user/elvisa/keep.txt", "not elvis")
        host_tree(found.host)
        yield found
    finally:
        session.__exit__(None, None, None)


def test_check_finds_every_leftover(cli: Cli, cluster: Cluster) -> None:
    result = cli("--config", cluster.config, "offboard", "check", "elvis", "--json")
    assert result.exit_code == 1, result.stderr
    data = result.json()
    homes, hdfs, hive = data["checks"]
    assert {e["path"] for e in homes["entries"]} == {
        "/srv/home/elvis",
        "/var/userarchive/elvis.tar.bz2",
    }
    assert hdfs["home"]["found"] and hdfs["home"]["files"] >= 3
    assert [w["path"] for w in hdfs["warehouse_dirs"]] == [
        f"{WAREHOUSE}/elvis.db",
        f"{WAREHOUSE}/elvis_tmp.db",
    ]
    databases = {d["database"]: d for d in hive["databases"]}
    assert sorted(databases) == ["elvis", "elvis_tmp"]
    tables = {t["table"]: t for t in databases["elvis"]["tables"]}
    assert tables["elvis.events"]["type"] == "MANAGED" and tables["elvis.events"]["in_warehouse"]
    assert tables["elvis.events"]["files"] >= 1 and tables["elvis.events"]["owner"] == "elvis"
    external = tables["elvis.events_ext"]
    assert (external["type"], external["path"], external["in_warehouse"]) == (
        "EXTERNAL",
        "/user/elvis/ext/events",
        False,
    )
    assert [t["table"] for t in hive["external_outside_warehouse"]] == ["elvis.events_ext"]
    assert [t["table"] for t in hive["owned_tables_elsewhere"]] == ["team.shared"]
    markdown = cli("--config", cluster.config, "offboard", "check", "elvis", "--markdown").stdout
    assert "data outside the warehouse" in markdown and "`team.shared` owned by elvis" in markdown
    # the metastore read directly (embedded Derby) and through the catalog agree
    derby = HiveMetastore(
        cluster.metastore.spark, load_settings(cluster.config, env={}).hive.metastore_dir
    )
    assert derby.leftovers("elvis") == cluster.metastore.leftovers("elvis")
    databases, tables = derby.leftovers("elvis")
    assert sorted(databases) == ["elvis", "elvis_tmp"]
    assert {t.qualified for t in tables} == {
        "elvis.events",
        "elvis.events_ext",
        "elvis_tmp.scratch",
        "team.shared",
    }
    clean = cli("--config", cluster.config, "offboard", "check", "nobody", "--json")
    assert clean.exit_code == 0 and clean.json()["found"] is False
    assert cli("offboard", "check", "../etc").exit_code == 2


def test_a_change_after_planning_stops_the_removal(
    cli: Cli, cluster: Cluster, tmp_path: Path
) -> None:
    plan_file = tmp_path / "priscilla.json"
    cli.ok("--config", cluster.config, "offboard", "plan", "priscilla", "-o", plan_file)
    write(cluster.hdfs / "user/priscilla/new-results.csv", "written after the plan")
    result = cli("--config", cluster.config, "offboard", "execute", plan_file, "--yes", "--json")
    assert result.exit_code == 2
    data = result.json()
    assert "changed since the plan was made" in data["stopped"]
    # the database was dropped (and Spark removed its empty directory), then the home changed
    assert [(s["action"], s["status"]) for s in data["steps"]] == [
        ("drop_database", "done"),
        ("remove_hdfs", "already done"),
    ]
    assert (cluster.hdfs / "user/priscilla/new-results.csv").exists()


def test_plan_execute_interrupt_resume(cli: Cli, cluster: Cluster, tmp_path: Path) -> None:
    plan_file = tmp_path / "elvis.json"
    planned = cli.json(
        "--config",
        cluster.config,
        "offboard",
        "plan",
        "elvis",
        "--archive",
        "/user/elvis/project",
        "--transfer",
        "team.shared=hpatel",
        "-o",
        plan_file,
    )
    actions = [s["action"] for s in planned["steps"]]
    assert actions == [
        "transfer_owner",
        "archive_mkdir",
        "archive_move",
        "archive_chown",
        "drop_database",
        "remove_hdfs",
        "drop_database",
        "remove_hdfs",
        "remove_hdfs",
        "remove_home",
        "remove_home",
    ]
    dry = cli.json("--config", cluster.config, "offboard", "execute", plan_file)
    assert {s["status"] for s in dry["steps"]} == {"would run"}
    assert (cluster.hdfs / "user/elvis/project/part-0").exists()

    # run the first four steps, then "crash" while logging step 4
    settings = load_settings(cluster.config, env={})
    plan = plan_from_json(json.loads(plan_file.read_text()))
    calls: list[str] = []

    def crash_on_fourth(message: str) -> None:
        calls.append(message)
        if len(calls) == 4:
            raise KeyboardInterrupt

    with App(settings).offboarding.connect(True) as found, pytest.raises(KeyboardInterrupt):
        Executor(
            plan,
            found.files,
            {h.name: h for h in found.hosts},
            lambda: found.metastore,  # type: ignore[arg-type,return-value]
            Journal(plan_file.with_name(plan_file.name + ".journal")),
            crash_on_fourth,
        ).run(dry_run=False)
    assert (cluster.hdfs / "wmf/data/archive/user/elvis/project/part-0").exists()

    resumed = cli("--config", cluster.config, "offboard", "execute", plan_file, "--yes", "--json")
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    data: dict[str, Any] = resumed.json()
    statuses = [s["status"] for s in data["steps"]]
    assert statuses[:4] == ["skipped (journal)"] * 4  # nothing repeated
    # Spark's DROP DATABASE ... CASCADE already removes managed directories; the removal
    # that follows finds nothing (the runbook's Hive leaves them: then it removes them)
    assert statuses[4:] == ["done", "already done", "done", "already done", "done", "done", "done"]
    assert data["left"]["found"] is False
    # exactly the archive and the transferred table are left; others' data is untouched
    assert (cluster.hdfs / "wmf/data/archive/user/elvis/project/part-0").read_text() == "x" * 300
    assert not (cluster.hdfs / "user/elvis").exists()
    assert not (cluster.hdfs / WAREHOUSE / "elvis.db").exists()
    assert (cluster.hdfs / "user/elvisa/keep.txt").exists()
    assert not (cluster.host / "srv/home/elvis").exists()
    assert (cluster.host / "var/userarchive/elvisa.tar.bz2").exists()
    owners = {t.name: t.owner for t in cluster.metastore.tables("team")}
    assert owners == {"shared": "hpatel", "daily": "hpatel"}
    assert "elvis" not in cluster.metastore.databases()
    store = open_store(load_settings(env=None).database_url)
    with store.session() as session:
        logged = list(
            session.scalars(
                select(SalEntry.message).where(SalEntry.message.startswith("offboard elvis"))
            )
        )
    store.close()
    # the interrupted run logged through the test's callback; the resumed run logged the rest
    assert [m.split(" ", 4)[3] for m in logged] == [f"{n}/11" for n in range(5, 12)]
    again = cli.json("--config", cluster.config, "offboard", "execute", plan_file, "--yes")
    assert {s["status"] for s in again["steps"]} == {"skipped (journal)"}
