"""The SQL opsweek hands over, run where a local engine can run it.

- SELECTs (data loss, unexpected pageview values): transpiled from Hive to DuckDB and run
  against tables with the real schemas (wmf_raw.webrequest_sequence_stats_hourly and
  webrequest_sequence_stats from analytics-refinery's DDL, wmf.pageview_unexpected_values),
  holding rows of several partitions: only the alert's partition comes back.
- msck repair and DROP DATABASE: run on local Spark with a Hive metastore, against tables
  whose partitions and directories disagree; the statements are taken exactly as printed (for
  the offboarding plan, as `hive -e` receives them under the recording stubs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import sqlglot

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import MetastoreConfig, spark_session
from opsweek.errors import Unavailable
from tests.conformance.alert_cases import AlertCase, cases
from tests.conformance.harness import Shell, leaves
from tests.conformance.procedures import offboarding_plan
from tests.services.common import missing_service

CASES = {c.name: c for c in cases()}
WAREHOUSE = "/user/hive/warehouse"


def sql_of(case: AlertCase, step_id: str) -> list[str]:
    return [s.command for s in case.steps() if s.id == step_id and s.lang == "sql"]


@pytest.fixture
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA wmf_raw")
    connection.execute("CREATE SCHEMA wmf")
    connection.execute(
        "CREATE TABLE wmf_raw.webrequest_sequence_stats_hourly (count_actual BIGINT, "
        "count_expected BIGINT, count_null_sequence BIGINT, count_duplicate BIGINT, "
        "count_lost BIGINT, percent_duplicate DOUBLE, percent_lost DOUBLE, "
        "count_bad_requests BIGINT, webrequest_source VARCHAR, year INTEGER, month INTEGER, "
        "day INTEGER, hour INTEGER)"
    )
    connection.execute(
        "CREATE TABLE wmf_raw.webrequest_sequence_stats (hostname VARCHAR, "
        "sequence_min BIGINT, sequence_max BIGINT, count_actual BIGINT, count_expected BIGINT, "
        "count_different BIGINT, count_duplicate BIGINT, count_null_sequence BIGINT, "
        "percent_different DOUBLE, count_incomplete BIGINT, webrequest_source VARCHAR, "
        "year INTEGER, month INTEGER, day INTEGER, hour INTEGER)"
    )
    connection.execute(
        "CREATE TABLE wmf.pageview_unexpected_values (field_name VARCHAR, "
        "unexpected_value VARCHAR, view_count BIGINT, year INTEGER, month INTEGER, "
        "day INTEGER)"
    )
    for source, hour, lost in [("text", 14, 2.61), ("text", 13, 0.0), ("upload", 14, 0.1)]:
        connection.execute(
            "INSERT INTO wmf_raw.webrequest_sequence_stats_hourly VALUES "
            "(1000, 1027, 0, 0, 27, 0.0, ?, 0, ?, 2023, 11, 7, ?)",
            [lost, source, hour],
        )
        for host, different in [("cp3050.esams.wmnet", -48211), ("cp3052.esams.wmnet", -1022)]:
            connection.execute(
                "INSERT INTO wmf_raw.webrequest_sequence_stats VALUES "
                "(?, 1, 100, 90, 100, ?, 0, 0, ?, 0, ?, 2023, 11, 7, ?)",
                [host, different, different / 1000, source, hour],
            )
    for day, value in [(7, "azy.wikipedia"), (7, "tly.wikipedia"), (8, "other.wikipedia")]:
        connection.execute(
            "INSERT INTO wmf.pageview_unexpected_values VALUES ('project', ?, 10, 2023, 11, ?)",
            [value, day],
        )
    yield connection
    connection.close()


def run_hive_on_duckdb(connection: duckdb.DuckDBPyConnection, statement: str) -> list[tuple]:
    (duck_sql,) = sqlglot.transpile(statement.rstrip(";"), read="hive", write="duckdb")
    return connection.execute(duck_sql).fetchall()


def test_data_loss_queries_read_only_the_alerts_hour(duck: duckdb.DuckDBPyConnection) -> None:
    case = CASES["data loss: a real filter on the hour's partition"]
    (hourly,) = sql_of(case, "hourly")
    rows = run_hive_on_duckdb(duck, hourly)
    assert [(r[8], r[9], r[10], r[11], r[12], r[6]) for r in rows] == [
        ("text", 2023, 11, 7, 14, 2.61)
    ]
    (per_host,) = sql_of(case, "per-host")
    hosts = run_hive_on_duckdb(duck, per_host)
    assert [h[0] for h in hosts] == ["cp3050.esams.wmnet", "cp3052.esams.wmnet"]  # worst first


def test_unexpected_values_query_reads_the_day(duck: duckdb.DuckDBPyConnection) -> None:
    case = CASES["unexpected pageview values"]
    (listing,) = sql_of(case, "list")
    rows = run_hive_on_duckdb(duck, listing)
    assert sorted(r[1] for r in rows) == ["azy.wikipedia", "tly.wikipedia"]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Path]]:
    root = tmp_path_factory.mktemp("conformance-lake")
    files = Files((root / "hdfs").as_uri())
    try:
        session = spark_session(MetastoreConfig(files.url(WAREHOUSE), root / "metastore"))
        spark = session.__enter__()
    except Unavailable as exc:
        missing_service(str(exc))
    try:
        yield spark, root / "hdfs"
    finally:
        session.__exit__(None, None, None)


def partitions(spark: object, table: str) -> set[str]:
    return {str(r[0]) for r in spark.sql(f"SHOW PARTITIONS {table}").collect()}  # type: ignore[attr-defined]


@pytest.mark.integration
@pytest.mark.slow
def test_msck_statements_on_spark(spark: tuple[object, Path]) -> None:
    session, hdfs = spark
    location = hdfs / "wmf/data/wmf/pageview_unexpected_values"
    for day in (25, 26):
        (location / f"year=2026/month=11/day={day}").mkdir(parents=True)
    session.sql("CREATE DATABASE IF NOT EXISTS wmf")  # type: ignore[attr-defined]
    session.sql(  # type: ignore[attr-defined]
        "CREATE EXTERNAL TABLE wmf.pageview_unexpected_values (field_name STRING, "
        "unexpected_value STRING, view_count BIGINT) PARTITIONED BY (year INT, month INT, "
        f"day INT) STORED AS PARQUET LOCATION '{location.as_uri()}'"
    )
    session.sql("MSCK REPAIR TABLE wmf.pageview_unexpected_values")  # type: ignore[attr-defined]
    # drift as the check finds it: a directory without partition, a partition without directory
    (location / "year=2026/month=11/day=28").mkdir(parents=True)
    (location / "year=2026/month=11/day=25").rmdir()
    drift = CASES["partition drift (opsweek's check): add by default, drop only as a choice"]
    (add,) = sql_of(drift, "msck-add")
    session.sql(add)  # type: ignore[attr-defined]
    table = "wmf.pageview_unexpected_values"
    assert partitions(session, table) == {  # added, nothing dropped: the runbook's fix
        "year=2026/month=11/day=25",
        "year=2026/month=11/day=26",
        "year=2026/month=11/day=28",
    }
    (drop,) = sql_of(drift, "msck-drop")
    session.sql(drop)  # type: ignore[attr-defined]
    assert partitions(session, table) == {"year=2026/month=11/day=26", "year=2026/month=11/day=28"}

    # the deletion script's msck, on a webrequest-like table
    webrequest = hdfs / "wmf/data/wmf/webrequest"
    (webrequest / "webrequest_source=text/year=2023/month=11/day=7/hour=14").mkdir(parents=True)
    session.sql(  # type: ignore[attr-defined]
        "CREATE EXTERNAL TABLE wmf.webrequest (hostname STRING) PARTITIONED BY "
        "(webrequest_source STRING, year INT, month INT, day INT, hour INT) STORED AS PARQUET "
        f"LOCATION '{webrequest.as_uri()}'"
    )
    (repair,) = sql_of(CASES["systemd timer: deletion script out of its interval"], "msck")
    session.sql(repair)  # type: ignore[attr-defined]
    assert partitions(session, "wmf.webrequest") == {
        "webrequest_source=text/year=2023/month=11/day=7/hour=14"
    }


@pytest.mark.integration
@pytest.mark.slow
def test_offboarding_drop_database_as_hive_receives_it(
    spark: tuple[object, Path], tmp_path: Path
) -> None:
    session, _ = spark
    session.sql("CREATE DATABASE elvis_scratch")  # type: ignore[attr-defined]
    session.sql("CREATE TABLE elvis_scratch.old (x INT) STORED AS PARQUET")  # type: ignore[attr-defined]
    plan = offboarding_plan(tmp_path)
    (drop,) = [s for s in plan.steps if s.action == "drop_database"]
    (hive,) = [c for c in leaves(Shell(tmp_path / "stubs").run(drop.command)) if c.prog == "hive"]
    assert hive.argv[0] == "-e" and (hive.user, hive.principal) == ("hdfs", "hdfs")
    session.sql(hive.argv[1])  # type: ignore[attr-defined]
    names = {r[0] for r in session.sql("SHOW DATABASES").collect()}  # type: ignore[attr-defined]
    assert "elvis_scratch" not in names


def test_every_statement_parses_as_hive() -> None:
    from tests.conformance.expect import parse_hive

    statements = [s.command for c in CASES.values() for s in c.steps() if s.lang == "sql"]
    assert len(statements) == 6  # data loss (2), unexpected values, msck (3)
    for statement in statements:
        parse_hive(statement)
