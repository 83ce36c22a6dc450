"""The Hive metastore through Spark SQL with Hive support (pyspark, the `spark` extra): an
embedded Derby metastore in a data directory by default, the team's metastore by URI in
production. Reading goes through Spark's external catalog, one call per database, so a scan
of thousands of tables is one pass instead of one `describe extended` per table."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsweek.errors import Unavailable, first_line


@dataclass(frozen=True)
class TableInfo:
    database: str
    name: str
    owner: str
    type: str  # MANAGED, EXTERNAL, VIEW
    location: str  # URL, empty for views

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.name}"


@dataclass(frozen=True)
class MetastoreConfig:
    warehouse_url: str  # spark.sql.warehouse.dir
    metastore_dir: Path
    metastore_uri: str = ""


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError:
        raise Unavailable(
            "the Hive checks need the spark extra (pip install 'opsweek[spark]') and Java 17"
        ) from None
    return pyspark.sql


@contextmanager
def spark_session(config: MetastoreConfig, user: str | None = None) -> Iterator[Any]:
    """A local Spark session with Hive support. ``user`` becomes HADOOP_USER_NAME, the owner
    of tables it creates (set before the JVM starts)."""
    sql = _pyspark()
    active = sql.SparkSession.getActiveSession()
    if active is not None:  # one JVM per process: reuse it (and leave it running)
        yield active
        return
    previous_user = os.environ.get("HADOOP_USER_NAME")
    if user:
        os.environ["HADOOP_USER_NAME"] = user
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local Spark talks only to loopback
    config.metastore_dir.mkdir(parents=True, exist_ok=True)
    quiet = config.metastore_dir / "log4j2.properties"
    quiet.write_text(
        "rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\nappender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n"
    )
    java_options = f"-Dlog4j2.configurationFile={quiet}"
    builder = (
        sql.SparkSession.builder.master("local[1]")
        .appName("opsweek")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.warehouse.dir", config.warehouse_url)
        .config("spark.sql.shuffle.partitions", "1")
    )
    if config.metastore_uri:
        builder = builder.config("spark.hadoop.hive.metastore.uris", config.metastore_uri)
    else:
        builder = builder.config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={config.metastore_dir}/metastore_db;create=true",
        )
        java_options += f" -Dderby.system.home={config.metastore_dir}"
    builder = builder.config("spark.driver.extraJavaOptions", java_options)
    try:
        spark = builder.enableHiveSupport().getOrCreate()
    except Exception as exc:  # the JVM's reasons arrive as many kinds of exceptions
        reason = first_line(exc)
        raise Unavailable(f"cannot start Spark with the Hive metastore: {reason}") from None
    finally:
        _restore("HADOOP_USER_NAME", previous_user)
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
        _stop_jvm()


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _stop_jvm() -> None:
    """End the JVM too, so the next session starts a fresh one: with its own
    HADOOP_USER_NAME (the owner of what it creates) and no embedded metastore left open."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    with contextlib.suppress(Exception):  # already gone
        gateway.shutdown()
    if process is not None:
        try:
            process.stdin.close()  # the launcher exits when its stdin closes
            process.wait(timeout=30)
        except Exception:
            process.kill()
    SparkContext._gateway = None
    SparkContext._jvm = None


TYPES = {"MANAGED_TABLE": "MANAGED", "EXTERNAL_TABLE": "EXTERNAL", "VIRTUAL_VIEW": "VIEW"}
# The metastore's own tables (Hive's schema): one query finds a user's databases and every
# table in them or owned by the user, without loading the other tables' metadata.
LEFTOVERS_SQL = (
    'SELECT d."NAME", t."TBL_NAME", t."OWNER", t."TBL_TYPE", s."LOCATION" '
    'FROM "TBLS" t JOIN "DBS" d ON t."DB_ID" = d."DB_ID" '
    'LEFT JOIN "SDS" s ON t."SD_ID" = s."SD_ID" '
    'WHERE t."OWNER" = ? OR d."NAME" = ? OR d."NAME" LIKE ? ESCAPE \'!\''
)
DATABASES_SQL = (
    'SELECT "NAME", "DB_LOCATION_URI" FROM "DBS" WHERE "NAME" = ? OR "NAME" LIKE ? ESCAPE \'!\''
)


class HiveMetastore:
    def __init__(self, spark: Any, derby_dir: Path | None = None) -> None:
        """``derby_dir``: the embedded metastore's directory, read directly with SQL for
        scans; without it scans go through the catalog, one call per database."""
        self.spark = spark
        self.derby_dir = derby_dir
        self._catalog: Any = None

    @property
    def catalog(self) -> Any:
        """Spark's external catalog; connecting to the metastore happens here, on first use,
        so an unreachable metastore is an error of the Hive check, not of the whole command."""
        if self._catalog is None:
            self._catalog = self.spark._jsparkSession.sharedState().externalCatalog()
        return self._catalog

    def leftovers(self, user: str) -> tuple[dict[str, str], list[TableInfo]]:
        """Databases named after ``user`` (name -> location URL), and the tables in them or
        owned by ``user`` anywhere."""
        if self.derby_dir is not None:
            return self._leftovers_sql(user)
        databases: dict[str, str] = {}
        tables: list[TableInfo] = []
        for database in self.databases():
            mine = database == user or database.startswith(f"{user}_")
            if mine:
                databases[database] = self.database_location(database)
            tables += [t for t in self.tables(database) if mine or t.owner == user]
        return databases, tables

    def _leftovers_sql(self, user: str) -> tuple[dict[str, str], list[TableInfo]]:
        jvm = self.spark._jvm
        url = f"jdbc:derby:;databaseName={self.derby_dir}/metastore_db"
        pattern = user.replace("!", "!!").replace("_", "!_").replace("%", "!%") + "!_%"
        connection = jvm.java.sql.DriverManager.getConnection(url)
        try:
            query = connection.prepareStatement(DATABASES_SQL)
            query.setString(1, user)
            query.setString(2, pattern)
            rows = query.executeQuery()
            databases = {}
            while rows.next():
                databases[str(rows.getString(1))] = str(rows.getString(2))
            query = connection.prepareStatement(LEFTOVERS_SQL)
            query.setString(1, user)
            query.setString(2, user)
            query.setString(3, pattern)
            rows = query.executeQuery()
            tables = []
            while rows.next():
                kind = str(rows.getString(4))
                tables.append(
                    TableInfo(
                        str(rows.getString(1)),
                        str(rows.getString(2)),
                        str(rows.getString(3)),
                        TYPES.get(kind, kind),
                        str(rows.getString(5) or ""),
                    )
                )
        finally:
            connection.close()
        return databases, sorted(tables, key=lambda t: (t.database, t.name))

    def databases(self) -> list[str]:
        return sorted(self._list(self.catalog.listDatabases()))

    def tables(self, database: str) -> list[TableInfo]:
        """Every table of a database with owner, type and location: one metastore call."""
        names = self._list(self.catalog.listTables(database))
        if not names:
            return []
        seq = self.spark._jvm.PythonUtils.toSeq(names)
        found = []
        iterator = self.catalog.getTablesByName(database, seq).iterator()
        while iterator.hasNext():
            table = iterator.next()
            location = table.storage().locationUri()
            found.append(
                TableInfo(
                    database,
                    table.identifier().table(),
                    table.owner(),
                    table.tableType().name(),
                    location.get().toString() if location.isDefined() else "",
                )
            )
        return found

    def all_tables(self) -> Iterator[TableInfo]:
        for database in self.databases():
            yield from self.tables(database)

    def database_location(self, database: str) -> str:
        return str(self.catalog.getDatabase(database).locationUri().toString())

    def drop_database(self, database: str) -> None:
        self.spark.sql(f"DROP DATABASE IF EXISTS `{database}` CASCADE")

    def set_owner(self, database: str, table: str, owner: str) -> None:
        """What Hive's ALTER TABLE ... SET OWNER does (Spark SQL has no such statement): the
        table's metadata copied with a new owner, written back through the catalog."""
        current = self.catalog.getTable(database, table)
        arity = current.productArity()
        values = [getattr(current, f"copy$default${i + 1}")() for i in range(arity)]
        names = [current.productElementName(i) for i in range(arity)]
        values[names.index("owner")] = owner
        self.catalog.alterTable(current.copy(*values))
        if self.catalog.getTable(database, table).owner() != owner:
            raise Unavailable(f"the metastore kept the old owner of {database}.{table}")

    @staticmethod
    def _list(seq: Any) -> list[str]:
        items, iterator = [], seq.iterator()
        while iterator.hasNext():
            items.append(str(iterator.next()))
        return items
