"""Offboarding wired to the configured adapters: files (fsspec), hosts (SSH or local), and the
Hive metastore (Spark), each optional, each failure reported rather than fatal."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from opsweek.adapters.fs import Files
from opsweek.adapters.hive import HiveMetastore, MetastoreConfig, spark_session
from opsweek.adapters.hosts import Host, LocalHost, hosts_from
from opsweek.config import Settings
from opsweek.errors import OpsweekError
from opsweek.offboard.scan import Scanner


def configured_hosts(settings: Settings) -> list[Host]:
    """The [[hosts]] tables; without any, this machine (its '/')."""
    entries = settings.tables("hosts")
    if not entries:
        return [LocalHost(socket.gethostname(), "/")]
    return hosts_from(entries, settings.get("offboard.host_timeout"))


def metastore_config(settings: Settings, files: Files | None) -> MetastoreConfig:
    warehouse = settings.warehouse_dir
    url = files.url(warehouse) if files else warehouse
    return MetastoreConfig(url, settings.metastore_dir, settings.get("hive.metastore_uri"))


@dataclass
class Adapters:
    files: Files | None
    hosts: list[Host]
    metastore: HiveMetastore | None
    unavailable: dict[str, str]

    def scanner(self, settings: Settings) -> Scanner:
        return Scanner(
            self.files,
            self.hosts,
            self.metastore,
            settings.warehouse_dir,
            settings.get("offboard.summarize_above"),
            self.unavailable,
        )


@contextmanager
def adapters(settings: Settings, with_hive: bool = True) -> Iterator[Adapters]:
    """Everything offboarding talks to; Spark is started only when ``with_hive``."""
    unavailable: dict[str, str] = {}
    files = None
    try:
        files = Files(settings.files_root)
    except OpsweekError as exc:
        unavailable["hdfs"] = str(exc)
    hosts = configured_hosts(settings)
    with ExitStack() as stack:
        metastore = None
        if with_hive:
            try:
                spark = stack.enter_context(spark_session(metastore_config(settings, files)))
                embedded = None if settings.get("hive.metastore_uri") else settings.metastore_dir
                metastore = HiveMetastore(spark, embedded)
            except OpsweekError as exc:
                unavailable["hive"] = str(exc)
        yield Adapters(files, hosts, metastore, unavailable)
