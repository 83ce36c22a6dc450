"""Daily checks benchmark (issue 7).

1. new-wikis over 30 days x 1,000,000 pageview_unexpected_values rows per day (Parquet, Hive
   partition directories), on DuckDB and, in the same run, on local Spark against a Hive table
   over the same files. Target: DuckDB under 3 s.
2. Canary validation of 1,000 schemas (each with a $ref to a shared fragment): load, build each
   canary event, validate. Target: under 2 s.

    python benchmarks/checks.py [--days 30] [--rows 1000000] [--schemas 1000] [--no-spark]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from opsweek.adapters.warehouse import DuckDBWarehouse
from opsweek.checks import canary
from opsweek.checks.new_wikis import check_new_wikis

TABLE = "wmf.pageview_unexpected_values"
NOW = datetime(2026, 11, 28, tzinfo=UTC)
LANGS = [f"l{i:04}" for i in range(3000)]


def write_days(warehouse: Path, days: int, rows: int) -> list[str]:
    rng = np.random.default_rng(7)
    projects = np.array([f"{lang}.wikipedia" for lang in LANGS] + ["azy.wikipedia"], dtype=object)
    fields = np.array(["project", "agent_type", "access_method"], dtype=object)
    for day in range(1, days + 1):
        directory = (
            warehouse / "wmf.db/pageview_unexpected_values" / f"year=2026/month=10/day={day}"
        )
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.table(
            {
                "field_name": pa.array(
                    fields[rng.choice(3, rows, p=[0.9, 0.05, 0.05])], pa.string()
                ),
                "unexpected_value": pa.array(
                    projects[rng.integers(0, len(projects), rows)], pa.string()
                ),
                "view_count": pa.array(rng.integers(1, 1000, rows), pa.int64()),
            }
        )
        pq.write_table(table, directory / "part-00000.parquet")
    return [f"{lang}.wikipedia" for lang in LANGS]


def allowlist_for(known: list[str]) -> str:
    return "".join(f"project\t{p}\t2015-10-12 00:00:00\n" for p in known)


def timed(function, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def schemas(root: Path, count: int) -> dict[str, str]:
    common = root / "fragment/common/1.0.0.yaml"
    common.parent.mkdir(parents=True)
    common.write_text(
        "$id: /fragment/common/1.0.0\ntype: object\ndefinitions:\n  meta:\n    type: object\n"
        "    properties: {stream: {type: string}, domain: {type: string}}\n    required: [stream]\n"
    )
    streams = {}
    rng = random.Random(3)
    for number in range(count):
        title = f"analytics/bench/s{number:04}"
        path = root / title / "1.0.0.yaml"
        path.parent.mkdir(parents=True)
        broken = rng.random() < 0.02
        example_event = "{a: 1}" if broken else "{a: 1, b: x}"
        path.write_text(
            f"$id: /{title}/1.0.0\ntype: object\nproperties:\n"
            "  meta: {$ref: /fragment/common/1.0.0#/definitions/meta}\n"
            "  event:\n    type: object\n    properties: {a: {type: integer}, b: {type: string}}\n"
            "    required: [a, b]\nrequired: [meta, event]\nexamples:\n"
            f"  - meta: {{stream: s{number}}}\n    event: {example_event}\n"
        )
        streams[f"stream.s{number:04}"] = title
    return streams


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--schemas", type=int, default=1000)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="opsweek-bench-checks-"))
    warehouse = base / "hdfs/user/hive/warehouse"
    print(f"checks benchmark: {args.days} days x {args.rows:,} rows; {args.schemas:,} schemas")
    began = time.perf_counter()
    known = write_days(warehouse, args.days, args.rows)
    print(f"  data written in {time.perf_counter() - began:.1f} s")
    allowlist = allowlist_for(known)
    grouped = "# dbname,group,edit size\nenwiki,1,1\n"
    window = (date(2026, 10, 1), date(2026, 10, args.days))

    def on_duckdb():  # type: ignore[no-untyped-def]
        return check_new_wikis(DuckDBWarehouse(warehouse), TABLE, allowlist, grouped, *window, NOW)

    seconds, result = timed(on_duckdb)
    found = [c.project for c in result.candidates]  # type: ignore[attr-defined]
    assert found == ["azy.wikipedia"], found
    status = "OK" if seconds < 3 else "MISSED"
    print(
        f"  new-wikis on DuckDB: {seconds:.2f} s (median of 3) over "
        f"{args.days * args.rows:,} rows, found {found} - target < 3 s: {status}"
    )
    if not args.no_spark:
        from opsweek.adapters.fs import Files
        from opsweek.adapters.hive import MetastoreConfig, spark_session
        from opsweek.adapters.warehouse import SparkWarehouse

        files = Files((base / "hdfs").as_uri())
        config = MetastoreConfig(files.url("/user/hive/warehouse"), base / "metastore")
        with spark_session(config) as spark:
            location = files.url("/user/hive/warehouse/wmf.db/pageview_unexpected_values")
            spark.sql("CREATE DATABASE wmf")
            spark.sql(
                "CREATE EXTERNAL TABLE wmf.pageview_unexpected_values (field_name STRING, "
                "unexpected_value STRING, view_count BIGINT) PARTITIONED BY (year INT, "
                f"month INT, day INT) STORED AS PARQUET LOCATION '{location}'"
            )
            spark.sql("MSCK REPAIR TABLE wmf.pageview_unexpected_values")

            def on_spark():  # type: ignore[no-untyped-def]
                return check_new_wikis(
                    SparkWarehouse(spark), TABLE, allowlist, grouped, *window, NOW
                )

            seconds, result = timed(on_spark)
            found = [c.project for c in result.candidates]  # type: ignore[attr-defined]
            print(
                f"  new-wikis on local Spark (local[1]): {seconds:.2f} s (median of 3), "
                f"found {found}"
            )
    streams = schemas(base / "schemas", args.schemas)

    def validate():  # type: ignore[no-untyped-def]
        loaded, _ = canary.load_schemas(base / "schemas")
        return canary.check_streams(loaded, streams)

    seconds, results = timed(validate)
    bad = sum(1 for r in results if r.status != "ok")  # type: ignore[attr-defined]
    status = "OK" if seconds < 2 else "MISSED"
    print(
        f"  canary: {args.schemas:,} schemas loaded, events built and validated in "
        f"{seconds:.2f} s (median of 3), {bad} with problems - target < 2 s: {status}"
    )
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
