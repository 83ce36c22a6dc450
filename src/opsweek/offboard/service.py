"""Offboarding wired to the configured adapters: files (fsspec), hosts (SSH or local), and the
Hive metastore (Spark), each optional, each failure reported rather than fatal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Protocol

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore
from opsweek.adapters.hosts import Host
from opsweek.errors import OpsweekError
from opsweek.offboard.scan import Scanner


class AppAdapters(Protocol):
    """The adapters the composition root (`opsweek.app.App`) builds for offboarding."""

    @property
    def files(self) -> Files: ...

    def hosts(self) -> list[Host]: ...

    def metastore(self) -> AbstractContextManager[HiveMetastore]: ...


@dataclass
class OffboardAdapters:
    """What offboarding talks to, each optional: what could not be reached is in
    ``unavailable``, with why, and the scan reports it instead of failing."""

    files: Files | None
    hosts: list[Host]
    metastore: HiveMetastore | None
    unavailable: dict[str, str]
    warehouse_dir: str
    summarize_above: int

    def scanner(self) -> Scanner:
        return Scanner(
            self.files,
            self.hosts,
            self.metastore,
            self.warehouse_dir,
            self.summarize_above,
            self.unavailable,
        )


@contextmanager
def offboard_adapters(
    app: AppAdapters, warehouse_dir: str, summarize_above: int, with_hive: bool = True
) -> Iterator[OffboardAdapters]:
    """Everything offboarding talks to; Spark is started only when ``with_hive``."""
    unavailable: dict[str, str] = {}
    files = None
    try:
        files = app.files
    except OpsweekError as exc:
        unavailable["hdfs"] = str(exc)
    hosts = app.hosts()
    with ExitStack() as stack:
        metastore = None
        if with_hive:
            try:
                metastore = stack.enter_context(app.metastore())
            except OpsweekError as exc:
                unavailable["hive"] = str(exc)
        yield OffboardAdapters(files, hosts, metastore, unavailable, warehouse_dir, summarize_above)
