"""Partition drift: Hive partitions without directories and directories without partitions
(what makes the deletion scripts refuse to run), with the exact fix."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore
from opsweek.alerts.runbook import steps_for
from opsweek.alerts.sources.opsweek_check import finding
from opsweek.errors import BadInput, NotFound, Unavailable
from opsweek.quoting import sql_table
from opsweek.steps import Step

PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=[^/]+\Z")
LISTED = 50  # partitions and directories named in a finding; the counts say how many


@dataclass
class Drift:
    table: str
    base_path: str
    partitions: int
    directories: int
    without_directory: list[str] = field(default_factory=list)
    without_partition: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.without_directory or self.without_partition)

    def details(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "base_path": self.base_path,
            "partitions": self.partitions,
            "directories": self.directories,
            "partitions_without_directory": self.without_directory[:LISTED],
            "directories_without_partition": self.without_partition[:LISTED],
        }

    @property
    def fixes(self) -> list[Step]:
        """The runbook's steps for this drift: the same as on its alert."""
        return steps_for("partition_drift", self.details()) if self.drifted else []

    def as_json(self) -> dict[str, Any]:
        return {**self.details(), "fixes": [step.as_json() for step in self.fixes]}

    def findings(self) -> list[bytes]:
        return [
            finding(
                "partitions",
                "partition_drift",
                f"{self.table}: {len(self.without_directory)} partitions without directory, "
                f"{len(self.without_partition)} directories without partition",
                f"drift {self.table}",
                self.details(),
                resolved=not self.drifted,
            )
        ]


def partition_dirs(files: Files, base: str, depth: int) -> set[str]:
    """Directories ``k=v/k=v`` exactly ``depth`` levels below ``base``."""
    found: set[str] = set()
    level = [""]
    for _ in range(depth):
        following = []
        for relative in level:
            real = files.real(posixpath.join(base, relative)) if relative else files.real(base)
            for child in files.fs.ls(real, detail=True):
                name = posixpath.basename(child["name"].rstrip("/"))
                if child.get("type") == "directory" and PART.match(name):
                    following.append(posixpath.join(relative, name) if relative else name)
        level = following
    found.update(level if depth else [])
    return found


def check_partitions(
    metastore: HiveMetastore, files: Files, table: str, base_path: str | None = None
) -> Drift:
    database, sep, name = table.partition(".")
    if not sep:
        raise BadInput(f"expected a table as db.table, not {table!r}")
    info = {t.name: t for t in metastore.tables(database)}.get(name)
    if info is None:
        raise NotFound(f"no table {table}")
    base = base_path or files.hdfs_path(info.location)
    if base is None:
        raise Unavailable(f"{table} lies at {info.location}, outside files.root; give --base-path")
    rows = metastore.spark.sql(f"SHOW PARTITIONS `{database}`.`{name}`").collect()
    partitions = {str(row[0]) for row in rows}
    depth = (
        len(next(iter(partitions)).split("/"))
        if partitions
        else len(_partition_columns(metastore, database, name))
    )
    if depth == 0:
        raise BadInput(f"{table} is not partitioned")
    directories = partition_dirs(files, base, depth) if files.exists(base) else set()
    return Drift(
        table,
        base,
        len(partitions),
        len(directories),
        sorted(partitions - directories),
        sorted(directories - partitions),
    )


def _partition_columns(metastore: HiveMetastore, database: str, table: str) -> list[str]:
    current = metastore.catalog.getTable(database, table)
    columns = current.partitionColumnNames()
    return [str(columns.apply(i)) for i in range(columns.size())]


def repair(metastore: HiveMetastore, table: str, drop_missing: bool = False) -> None:
    """The runbook's fix, ``msck repair table <t>;``: partitions added for the directories the
    metastore misses. With ``drop_missing``, partitions whose directories are gone are
    dropped too (``SYNC PARTITIONS``): a separate, explicit choice."""
    mode = "SYNC PARTITIONS" if drop_missing else "ADD PARTITIONS"
    metastore.spark.sql(f"MSCK REPAIR TABLE {sql_table(table)} {mode}")
