"""Scanning for a departed user's leftovers: home directories on every host, the HDFS home and
warehouse directories, Hive databases named after the user and tables the user owns anywhere.
Each check reports what it found and its errors; one failing check never stops the others."""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsweek.adapters.fs import Files, TreeSummary
from opsweek.adapters.hive import HiveMetastore, TableInfo
from opsweek.adapters.hosts import Host, HostEntry
from opsweek.errors import OpsweekError, first_line
from opsweek.offboard.rules import HOME_DIRS, USERARCHIVE, check_user, inside, is_user_database
from opsweek.timeutil import iso, utcnow


@dataclass(frozen=True)
class TableFinding:
    table: TableInfo
    hdfs_path: str | None  # the location as an HDFS path, None when outside files.root
    in_warehouse: bool
    files: int = 0
    size: int = 0
    fingerprint: str = ""

    def as_json(self) -> dict[str, Any]:
        t = self.table
        return {
            "table": t.qualified,
            "type": t.type,
            "owner": t.owner,
            "location": t.location,
            "path": self.hdfs_path,
            "in_warehouse": self.in_warehouse,
            "files": self.files,
            "size": self.size,
        }


@dataclass
class DatabaseFinding:
    name: str
    location: str
    path: str | None
    tables: list[TableFinding] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.name,
            "location": self.location,
            "path": self.path,
            "tables": [t.as_json() for t in self.tables],
        }


@dataclass
class ScanReport:
    user: str
    scanned_at: datetime
    warehouse: str
    hosts_checked: list[str] = field(default_factory=list)
    homes: dict[str, list[HostEntry]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    hdfs_home: TreeSummary | None = None
    warehouse_dirs: list[TreeSummary] = field(default_factory=list)
    databases: list[DatabaseFinding] = field(default_factory=list)
    owned_elsewhere: list[TableFinding] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def external_outside_warehouse(self) -> list[TableFinding]:
        tables = [t for d in self.databases for t in d.tables] + self.owned_elsewhere
        return [t for t in tables if t.table.type == "EXTERNAL" and not t.in_warehouse]

    def found(self, check: str) -> bool:
        if check == "homes":
            return any(self.homes.values())
        if check == "hdfs":
            return bool(
                (self.hdfs_home and self.hdfs_home.exists)
                or any(w.exists for w in self.warehouse_dirs)
            )
        return bool(self.databases or self.owned_elsewhere)

    @property
    def any_found(self) -> bool:
        return any(self.found(c) for c in ("homes", "hdfs", "hive"))

    @property
    def failed(self) -> bool:
        return any(self.errors.values()) or bool(self.unreachable)

    def as_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "scanned_at": iso(self.scanned_at),
            "found": self.any_found,
            "checks": [
                {
                    "name": "homes",
                    "found": self.found("homes"),
                    "hosts_checked": self.hosts_checked,
                    "unreachable_hosts": self.unreachable,
                    "entries": [
                        {"host": host, **e.as_json()}
                        for host, entries in self.homes.items()
                        for e in entries
                    ],
                    "errors": self.errors.get("homes", []),
                },
                {
                    "name": "hdfs",
                    "found": self.found("hdfs"),
                    "home": self.hdfs_home.as_json() if self.hdfs_home else None,
                    "warehouse_dirs": [w.as_json() for w in self.warehouse_dirs if w.exists],
                    "errors": self.errors.get("hdfs", []),
                },
                {
                    "name": "hive",
                    "found": self.found("hive"),
                    "databases": [d.as_json() for d in self.databases],
                    "owned_tables_elsewhere": [t.as_json() for t in self.owned_elsewhere],
                    "external_outside_warehouse": [
                        t.as_json() for t in self.external_outside_warehouse
                    ],
                    "errors": self.errors.get("hive", []),
                },
            ],
        }


class Scanner:
    """Runs the three checks through the adapters it is given (None: not available, with the
    reason in ``unavailable``)."""

    def __init__(
        self,
        files: Files | None,
        hosts: Sequence[Host],
        metastore: HiveMetastore | None,
        warehouse: str,
        limit: int = 50,
        unavailable: dict[str, str] | None = None,
    ) -> None:
        self.files = files
        self.hosts = list(hosts)
        self.metastore = metastore
        self.warehouse = warehouse
        self.limit = limit
        self.unavailable = unavailable or {}

    def scan(self, user: str) -> ScanReport:
        user = check_user(user)
        report = ScanReport(user, utcnow(), self.warehouse)
        for check, reason in self.unavailable.items():
            report.errors.setdefault(check, []).append(reason)
        self._homes(user, report)
        self._hive(user, report)
        self._hdfs(user, report)
        return report

    # --- hosts -----------------------------------------------------------------------------
    def _homes(self, user: str, report: ScanReport) -> None:
        paths = [home.format(user=user) for home in HOME_DIRS] + [f"{USERARCHIVE}/{user}"]
        globs = [f"{USERARCHIVE}/{user}.*"]

        async def one(host: Host) -> tuple[str, list[HostEntry] | str]:
            try:
                return host.name, await host.stat(paths, globs)
            except OpsweekError as exc:
                return host.name, str(exc)

        async def every() -> list[tuple[str, list[HostEntry] | str]]:
            return await asyncio.gather(*(one(h) for h in self.hosts))

        report.hosts_checked = [h.name for h in self.hosts]
        for name, result in asyncio.run(every()) if self.hosts else []:
            if isinstance(result, str):
                report.unreachable[name] = result
            elif result:
                report.homes[name] = result

    # --- Hive ------------------------------------------------------------------------------
    def _finding(self, table: TableInfo) -> TableFinding:
        path = self.files.hdfs_path(table.location) if self.files and table.location else None
        in_warehouse = path is not None and inside(path, self.warehouse)
        files = size = 0
        fingerprint = ""
        if path is not None and self.files is not None and table.type != "VIEW":
            summary = self.files.summarize(path, 0)
            files, size, fingerprint = summary.files, summary.size, summary.fingerprint
        return TableFinding(table, path, in_warehouse, files, size, fingerprint)

    def _hive(self, user: str, report: ScanReport) -> None:
        if self.metastore is None:
            return
        try:
            databases, tables = self.metastore.leftovers(user)
            for name, location in sorted(databases.items()):
                path = self.files.hdfs_path(location) if self.files else None
                finding = DatabaseFinding(name, location, path)
                finding.tables = [self._finding(t) for t in tables if t.database == name]
                report.databases.append(finding)
            report.owned_elsewhere = [
                self._finding(t) for t in tables if t.database not in databases
            ]
        except OpsweekError as exc:
            report.errors.setdefault("hive", []).append(str(exc))
        except Exception as exc:  # Py4J and JVM errors: report, let the other checks stand
            first = first_line(exc)
            report.errors.setdefault("hive", []).append(f"metastore: {first}")

    # --- HDFS ------------------------------------------------------------------------------
    def _hdfs(self, user: str, report: ScanReport) -> None:
        if self.files is None:
            return
        try:
            report.hdfs_home = self.files.summarize(f"/user/{user}", self.limit)
            directories = {posixpath.join(self.warehouse, f"{d.name}.db") for d in report.databases}
            # warehouse directories left behind by databases already dropped
            warehouse = self.files.real(self.warehouse)
            if self.files.fs.exists(warehouse):
                for real in self.files.fs.ls(warehouse, detail=False):
                    name = posixpath.basename(real.rstrip("/"))
                    if name.endswith(".db") and is_user_database(user, name[:-3]):
                        directories.add(posixpath.join(self.warehouse, name))
            report.warehouse_dirs = [
                self.files.summarize(path, self.limit) for path in sorted(directories)
            ]
        except OpsweekError as exc:
            report.errors.setdefault("hdfs", []).append(str(exc))
