"""Warehouse queries written once with Ibis: run by DuckDB over the Parquet/CSV files of a
table (the embedded default, laid out like the Hive warehouse under files.root), or by Spark
against the Hive tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from opsweek.errors import BadInput, Unavailable, first_line

ROWS = 200  # rows a query shows
TABLE_REF = re.compile(r"\b(from|join)\s+`?(\w+)`?\.`?(\w+)`?", re.IGNORECASE)


class Warehouse(Protocol):
    name: str

    def table(self, qualified: str) -> Any:
        """An Ibis table expression for ``db.table``."""
        ...

    def query(self, sql: str, limit: int = ROWS) -> str:
        """A SELECT run as it is written, its rows as tab-separated text under a header."""
        ...


def _text(columns: list[str], rows: list[Any]) -> str:
    lines = ["\t".join(columns)]
    lines += ["\t".join("" if v is None else str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def _split(qualified: str) -> tuple[str, str]:
    database, sep, table = qualified.partition(".")
    if not sep or not database or not table or "/" in qualified or ".." in qualified:
        raise BadInput(f"expected a table as db.table, not {qualified!r}")
    return database, table


class DuckDBWarehouse:
    """``db.table`` is read from ``<warehouse_dir>/<db>.db/<table>/`` (Hive partition
    directories such as year=2026/month=11/day=27 become columns)."""

    name = "duckdb"

    def __init__(self, warehouse_dir: Path) -> None:
        import ibis

        self.root = warehouse_dir
        self.con = ibis.duckdb.connect()

    def table(self, qualified: str) -> Any:
        database, table = _split(qualified)
        directory = self.root / f"{database}.db" / table
        parquet = list(directory.rglob("*.parquet")) if directory.is_dir() else []
        if parquet:
            return self.con.read_parquet(f"{directory}/**/*.parquet", hive_partitioning=True)
        csv = list(directory.rglob("*.csv")) if directory.is_dir() else []
        if csv:
            return self.con.read_csv(f"{directory}/**/*.csv", hive_partitioning=True)
        raise Unavailable(f"table {qualified}: no Parquet or CSV files under {directory}")

    def query(self, sql: str, limit: int = ROWS) -> str:
        """The tables it names are the files'; the statement itself is unchanged."""
        views: dict[tuple[str, str], str] = {}
        for _, database, table in TABLE_REF.findall(sql):
            view = f"{database}__{table}"
            self.con.create_view(view, self.table(f"{database}.{table}"), overwrite=True)
            views[(database, table)] = view
        local = TABLE_REF.sub(lambda m: f"{m[1]} {views[(m[2], m[3])]}", sql)
        cursor = self.con.raw_sql(local.strip().rstrip(";"))
        rows = cursor.fetchmany(limit)
        return _text([d[0] for d in cursor.description], rows)


class SparkWarehouse:
    """The same expressions run by Spark against the metastore's tables."""

    name = "spark"

    def __init__(self, spark: Any) -> None:
        import ibis

        self.spark = spark
        self.con = ibis.pyspark.connect(spark)

    def table(self, qualified: str) -> Any:
        database, table = _split(qualified)
        try:
            return self.con.table(table, database=database)
        except Exception as exc:  # the metastore's reasons arrive as JVM exceptions
            first = first_line(exc)
            raise Unavailable(f"table {qualified}: {first}") from None

    def query(self, sql: str, limit: int = ROWS) -> str:
        try:
            frame = self.spark.sql(sql.strip().rstrip(";"))
            return _text(list(frame.columns), [tuple(r) for r in frame.limit(limit).collect()])
        except Exception as exc:  # the metastore's reasons arrive as JVM exceptions
            raise Unavailable(f"the query failed: {first_line(exc)}") from None
