"""A departed user for the demo: elvis left files in HDFS (the embedded default's local
directory), a home directory and an archive on a demo host, and, with `--hive`, Hive databases
and a table in a team database (needs the spark extra and Java 17)."""

from __future__ import annotations

from pathlib import Path

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore, MetastoreConfig, spark_session

USER = "elvis"
HDFS_FILES = {
    f"user/{USER}/notebooks/pageviews_by_country.ipynb": "{}\n",
    f"user/{USER}/project/2026-10/part-00000.parquet": "P" * 4096,
    f"user/{USER}/project/2026-11/part-00000.parquet": "P" * 8192,
    f"user/{USER}/events_ext/part-00000.parquet": "E" * 2048,
    f"user/hive/warehouse/{USER}_scratch.db/tmp_sessions/part-00000": "S" * 512,
}
HOST_FILES = {
    f"srv/home/{USER}/.bashrc": "export PS1='\\u@\\h '\n",
    f"srv/home/{USER}/queries/top_articles.sql": "SELECT 1;\n",
    f"var/userarchive/{USER}.tar.bz2": "BZh9",
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def seed_offboard(hdfs_root: Path, hosts_root: Path) -> str:
    """Write the files; return the settings naming the demo host (TOML)."""
    _write(hdfs_root, HDFS_FILES)
    _write(hosts_root / "stat1008", HOST_FILES)
    return f'[[hosts]]\nname = "stat1008"\nlocal_root = "{hosts_root / "stat1008"}"\n'


def seed_hive(files: Files, warehouse: str, metastore_dir: Path) -> None:
    """elvis's database with a managed and an external table, and a table elvis owns in a
    team database; a table of someone else beside it."""
    config = MetastoreConfig(files.url(warehouse), metastore_dir)
    with spark_session(config, user=USER) as spark:
        metastore = HiveMetastore(spark)
        if USER in metastore.databases():
            return
        external = files.url(f"/user/{USER}/events_ext")
        for statement in (
            f"CREATE DATABASE {USER}",
            f"CREATE TABLE {USER}.edits_sample (rev_id BIGINT, wiki STRING) STORED AS PARQUET",
            f"INSERT INTO {USER}.edits_sample VALUES (1, 'enwiki'), (2, 'azywiki')",
            f"CREATE EXTERNAL TABLE {USER}.events (id INT) STORED AS PARQUET LOCATION '{external}'",
            "CREATE DATABASE IF NOT EXISTS research",
            "CREATE TABLE research.article_quality (page_id BIGINT) STORED AS PARQUET",
            "CREATE TABLE research.reading_depth (page_id BIGINT) STORED AS PARQUET",
        ):
            spark.sql(statement)
        metastore.set_owner("research", "reading_depth", "cweber")
