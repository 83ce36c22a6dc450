"""Offboarding scan benchmark (issue 8).

Builds an embedded Hive metastore (local Spark, Derby) with 500 databases and 10,000 tables, 5 %
of them owned by the departed user, and 100,000 files under a local HDFS root; times the whole
`offboard check` scan (hosts, files, metastore); then stops Spark and times the runbook's own
approach -- one `spark-sql -e "describe extended db.table"` process per table -- on a sample of
20 tables, and prints the per-table ratio.

Target: the full scan under 60 s; at least 100x faster per table than one process per table.

    python benchmarks/offboard.py [--sample 20] [--keep DIR]

Needs the spark extra (pyspark) and Java 17. The 10,000 tables are written into the metastore's
own tables with SQL (creating them one by one through Spark takes ~0.1 s each); a template table
created through Spark gives every row valid columns, serde and formats, so `describe extended`
reads them like any other table.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore, MetastoreConfig, spark_session
from opsweek.adapters.hosts import LocalHost
from opsweek.offboard.scan import Scanner

USER = "elvis"
DATABASES = 500
TABLES = 10_000
OWNED_SHARE = 0.05
FILES = 100_000
HOME_FILES = 20_000
WAREHOUSE = "/user/hive/warehouse"
CHUNK = 250


def sql_rows(connection, query: str) -> list[list[object]]:  # type: ignore[no-untyped-def]
    rows = connection.createStatement().executeQuery(query)
    count = rows.getMetaData().getColumnCount()
    found = []
    while rows.next():
        found.append([rows.getObject(i) for i in range(1, count + 1)])
    return found


def execute(connection, statements: list[str]) -> None:  # type: ignore[no-untyped-def]
    statement = connection.createStatement()
    for text in statements:
        statement.executeUpdate(text)


def fill_metastore(spark, derby: Path, files: Files) -> list[str]:  # type: ignore[no-untyped-def]
    """500 databases, 10,000 tables; returns the qualified names of the tables."""
    spark.sql("CREATE DATABASE bench_template")
    spark.sql("CREATE TABLE bench_template.t (id BIGINT, wiki STRING) STORED AS PARQUET")
    jvm = spark._jvm
    connection = jvm.java.sql.DriverManager.getConnection(
        f"jdbc:derby:;databaseName={derby}/metastore_db"
    )
    connection.setAutoCommit(False)
    [[db_id, tbl_id, sd_id]] = sql_rows(
        connection,
        'SELECT t."DB_ID", t."TBL_ID", t."SD_ID" FROM "TBLS" t JOIN "DBS" d '
        'ON t."DB_ID" = d."DB_ID" WHERE d."NAME" = \'bench_template\'',
    )
    [[max_db]] = sql_rows(connection, 'SELECT MAX("DB_ID") FROM "DBS"')
    [[max_tbl]] = sql_rows(connection, 'SELECT MAX("TBL_ID") FROM "TBLS"')
    [[max_sd]] = sql_rows(connection, 'SELECT MAX("SD_ID") FROM "SDS"')
    db_cols = [
        r[0]
        for r in sql_rows(
            connection,
            "SELECT COLUMNNAME FROM SYS.SYSCOLUMNS c "
            "JOIN SYS.SYSTABLES t ON c.REFERENCEID = t.TABLEID WHERE t.TABLENAME = 'DBS' "
            "ORDER BY c.COLUMNNUMBER",
        )
    ]
    tbl_cols = [
        r[0]
        for r in sql_rows(
            connection,
            "SELECT COLUMNNAME FROM SYS.SYSCOLUMNS c "
            "JOIN SYS.SYSTABLES t ON c.REFERENCEID = t.TABLEID WHERE t.TABLENAME = 'TBLS' "
            "ORDER BY c.COLUMNNUMBER",
        )
    ]
    sd_cols = [
        r[0]
        for r in sql_rows(
            connection,
            "SELECT COLUMNNAME FROM SYS.SYSCOLUMNS c "
            "JOIN SYS.SYSTABLES t ON c.REFERENCEID = t.TABLEID WHERE t.TABLENAME = 'SDS' "
            "ORDER BY c.COLUMNNUMBER",
        )
    ]

    def copy(table: str, columns: list[str], key: str, template: object, rows: list[dict]) -> None:
        for start in range(0, len(rows), CHUNK):
            selects = []
            for row in rows[start : start + CHUNK]:
                values = [row.get(c, f'"{c}"') for c in columns]
                selects.append(
                    f'SELECT {", ".join(str(v) for v in values)} FROM "{table}" '
                    f'WHERE "{key}" = {template}'
                )
            execute(connection, [f'INSERT INTO "{table}" ' + " UNION ALL ".join(selects)])

    rng = random.Random(8)
    names = [USER, f"{USER}_scratch"] + [f"team_{i:03}" for i in range(DATABASES - 2)]
    db_ids = {}
    db_rows = []
    for offset, name in enumerate(names, start=1):
        db_ids[name] = max_db + offset
        location = files.url(f"{WAREHOUSE}/{name}.db")
        db_rows.append(
            {
                "DB_ID": db_ids[name],
                "NAME": f"'{name}'",
                "DB_LOCATION_URI": f"'{location}'",
                "DESC": "''",
            }
        )
    copy("DBS", db_cols, "DB_ID", db_id, db_rows)
    tables, tbl_rows, sd_rows = [], [], []
    for number in range(TABLES):
        database = names[number % DATABASES]
        name = f"t{number:05}"
        own = database.startswith(USER) or rng.random() < OWNED_SHARE
        location = files.url(f"{WAREHOUSE}/{database}.db/{name}")
        sd_rows.append({"SD_ID": max_sd + 1 + number, "LOCATION": f"'{location}'"})
        tbl_rows.append(
            {
                "TBL_ID": max_tbl + 1 + number,
                "DB_ID": db_ids[database],
                "SD_ID": max_sd + 1 + number,
                "TBL_NAME": f"'{name}'",
                "OWNER": f"'{USER if own else rng.choice(['cweber', 'hpatel', 'gsato'])}'",
            }
        )
        tables.append(f"{database}.{name}")
    copy("SDS", sd_cols, "SD_ID", sd_id, sd_rows)
    copy("TBLS", tbl_cols, "TBL_ID", tbl_id, tbl_rows)
    top = max_tbl + TABLES + max_sd + TABLES + max_db + DATABASES + 1000
    execute(connection, [f'UPDATE "SEQUENCE_TABLE" SET "NEXT_VAL" = {top}'])
    connection.commit()
    connection.close()
    return tables


def fill_files(root: Path, tables: list[str]) -> None:
    for number in range(HOME_FILES):
        path = root / "user" / USER / f"dir{number % 200:03}" / f"part-{number:05}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 64)
    per_table = (FILES - HOME_FILES) // len(tables)
    for qualified in tables:
        database, name = qualified.split(".")
        directory = root / WAREHOUSE.lstrip("/") / f"{database}.db" / name
        directory.mkdir(parents=True, exist_ok=True)
        for part in range(per_table):
            (directory / f"part-{part:05}").write_bytes(b"y" * 32)


def release_derby(spark) -> None:  # type: ignore[no-untyped-def]
    """Shut the embedded Derby down in this JVM so another process can open the metastore."""
    try:
        spark._jvm.java.sql.DriverManager.getConnection("jdbc:derby:;shutdown=true")
    except Exception as exc:  # Derby reports a successful shutdown as an SQLException
        if "shutdown" not in str(exc).lower():
            raise


def runbook_describe(table: str, derby: Path, warehouse: str) -> float:
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_sql = spark_home / "bin" / "spark-sql"
    command = [
        str(spark_sql),
        "--conf",
        f"spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={derby}/metastore_db",
        "--conf",
        f"spark.driver.extraJavaOptions=-Dderby.system.home={derby}",
        "--conf",
        f"spark.sql.warehouse.dir={warehouse}",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.driver.host=127.0.0.1",
        "-S",
        "-e",
        f"describe extended {table}",
    ]
    began = time.perf_counter()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={
            **os.environ,
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_HOME": str(spark_home),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        },
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0 or "Location" not in done.stdout:
        raise SystemExit(f"spark-sql failed for {table}: {done.stderr[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build in this directory and keep it")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="opsweek-bench-offboard-"))
    hdfs, derby = base / "hdfs", base / "metastore"
    files = Files(hdfs.as_uri())
    config = MetastoreConfig(files.url(WAREHOUSE), derby)
    print(
        f"offboard benchmark: {DATABASES} databases, {TABLES:,} tables "
        f"({OWNED_SHARE:.0%} owned by {USER}), {FILES:,} files, in {base}"
    )
    with spark_session(config, user="hdfs") as spark:
        began = time.perf_counter()
        tables = fill_metastore(spark, derby, files)
        print(f"  metastore filled in {time.perf_counter() - began:.1f} s")
        began = time.perf_counter()
        fill_files(hdfs, tables)
        print(f"  files written in {time.perf_counter() - began:.1f} s")
        host = base / "stat1008"
        (host / "srv/home" / USER).mkdir(parents=True, exist_ok=True)
        scanner = Scanner(
            files,
            [LocalHost("stat1008", str(host))],
            HiveMetastore(spark, derby),
            WAREHOUSE,
            limit=50,
        )
        timings = []
        for _ in range(3):
            began = time.perf_counter()
            report = scanner.scan(USER)
            timings.append(time.perf_counter() - began)
        scan = statistics.median(timings)
        owned = len(report.owned_elsewhere) + sum(len(d.tables) for d in report.databases)
        print(
            f"  scan found {len(report.databases)} databases, {owned} tables of {USER}, "
            f"{report.hdfs_home.files if report.hdfs_home else 0:,} files in /user/{USER}"
        )
        release_derby(spark)  # one JVM at a time: the spark-sql processes need the metastore
        status = "OK" if scan < 60 else "MISSED"
        print(f"  full scan: {scan:.2f} s (median of 3) - target < 60 s: {status}")
    sample = random.Random(20).sample(tables, args.sample)
    per_process = [runbook_describe(t, derby, files.url(WAREHOUSE)) for t in sample]
    runbook = statistics.median(per_process)
    ours = scan / TABLES
    ratio = runbook / ours
    print(
        f"  runbook approach: one spark-sql per table, median {runbook:.2f} s per table "
        f"over {len(sample)} tables"
    )
    print(
        f"  scan per table: {ours * 1000:.2f} ms; ratio {ratio:,.0f}x - target >= 100x: "
        f"{'OK' if ratio >= 100 else 'MISSED'}"
    )
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
