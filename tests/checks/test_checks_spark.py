"""The same new-wikis query on local Spark against a Hive table (one Spark session for this
module, its own metastore), partition drift against the metastore, and wiki replicas on a
real MariaDB."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore, MetastoreConfig, spark_session
from opsweek.adapters.replicas import table_count
from opsweek.adapters.warehouse import DuckDBWarehouse, SparkWarehouse
from opsweek.checks.new_wikis import check_new_wikis
from opsweek.checks.partitions import check_partitions, repair
from opsweek.errors import Unavailable
from tests.checks.fixtures import ALLOWLIST, GROUPED, unexpected_values
from tests.services.common import missing_service
from tests.services.mariadb import mariadb

pytestmark = [pytest.mark.integration, pytest.mark.slow]
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
WAREHOUSE = "/user/hive/warehouse"


class Lake:
    def __init__(self, root: Path, spark: object, files: Files, derby: Path) -> None:
        self.root, self.spark, self.files = root, spark, files
        self.metastore = HiveMetastore(spark, derby)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    root = tmp_path_factory.mktemp("lake")
    files = Files((root / "hdfs").as_uri())
    unexpected_values(root / "hdfs/user/hive/warehouse")
    try:
        session = spark_session(MetastoreConfig(files.url(WAREHOUSE), root / "metastore"))
        spark = session.__enter__()
    except Unavailable as exc:
        missing_service(str(exc))
    try:
        location = files.url(f"{WAREHOUSE}/wmf.db/pageview_unexpected_values")
        spark.sql("CREATE DATABASE wmf")
        spark.sql(
            "CREATE EXTERNAL TABLE wmf.pageview_unexpected_values (field_name STRING, "
            "unexpected_value STRING, view_count BIGINT) PARTITIONED BY (year INT, month INT, "
            f"day INT) STORED AS PARQUET LOCATION '{location}'"
        )
        spark.sql("MSCK REPAIR TABLE wmf.pageview_unexpected_values")
        yield Lake(root, spark, files, root / "metastore")
    finally:
        session.__exit__(None, None, None)


def test_new_wikis_gives_the_same_answer_on_spark_and_duckdb(lake: Lake) -> None:
    table = "wmf.pageview_unexpected_values"
    args = (ALLOWLIST, GROUPED, date(2026, 11, 25), date(2026, 11, 27), NOW)
    on_spark = check_new_wikis(SparkWarehouse(lake.spark), table, *args)
    on_duckdb = check_new_wikis(
        DuckDBWarehouse(lake.root / "hdfs" / WAREHOUSE.lstrip("/")), table, *args
    )
    assert [c.as_json() for c in on_spark.candidates] == [c.as_json() for c in on_duckdb.candidates]
    assert [c.project for c in on_spark.candidates] == [
        "azy.wikipedia",
        "tly.wikipedia",
        "zz.notawiki",
    ]
    assert on_spark.allowlist_diff == on_duckdb.allowlist_diff


def test_partition_drift_found_and_repaired(lake: Lake) -> None:
    table = "wmf.pageview_unexpected_values"
    base = lake.root / "hdfs" / WAREHOUSE.lstrip("/") / "wmf.db/pageview_unexpected_values"
    clean = check_partitions(lake.metastore, lake.files, table)
    assert (clean.partitions, clean.directories, clean.drifted) == (3, 3, False)
    shutil.rmtree(base / "year=2026/month=11/day=25")  # deleted by hand: partition without dir
    (base / "year=2026/month=11/day=28").mkdir(parents=True)  # copied in: dir without partition
    drift = check_partitions(lake.metastore, lake.files, table)
    assert drift.without_directory == ["year=2026/month=11/day=25"]
    assert drift.without_partition == ["year=2026/month=11/day=28"]
    fixes = {s.id: s.command for s in drift.fixes if s.command}
    assert fixes["msck-add"] == "msck repair table `wmf`.`pageview_unexpected_values`;"
    assert fixes["rm-stray"].endswith(
        f"-rm -r {WAREHOUSE}/wmf.db/pageview_unexpected_values/year=2026/month=11/day=28"
    )
    assert fixes["msck-drop"] == (
        "msck repair table `wmf`.`pageview_unexpected_values` drop partitions;"
    )
    repair(lake.metastore, table)  # the runbook's fix adds partitions, drops nothing
    added = check_partitions(lake.metastore, lake.files, table)
    assert added.without_partition == [] and added.without_directory == [
        "year=2026/month=11/day=25"
    ]
    repair(lake.metastore, table, drop_missing=True)  # dropping is its own choice
    after = check_partitions(lake.metastore, lake.files, table)
    assert not after.drifted and after.partitions == 3


@pytest.fixture(scope="module")
def replica() -> Iterator[str]:
    with mariadb() as server:
        engine = create_engine(server.url())
        with engine.begin() as connection:
            connection.execute(text("CREATE DATABASE azywiki"))
            connection.execute(text("CREATE TABLE azywiki.revision (rev_id BIGINT)"))
            connection.execute(text("CREATE DATABASE tlywiki"))
        engine.dispose()
        yield server.url("{wiki}")


def test_replicas_on_mariadb(replica: str) -> None:
    assert table_count(replica, "azywiki") == 1
    assert table_count(replica, "tlywiki") == 0
    with pytest.raises(Unavailable, match="replica of nowiki"):
        table_count(replica, "nowiki")
