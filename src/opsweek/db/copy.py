"""Copy a whole store into another, empty one: a team outgrowing SQLite moves to PostgreSQL
(or back). The target gets today's schema, then every table's rows in the order their
references need, in batches; PostgreSQL's id sequences go on after the copied ids. Checked
afterwards: the same rows in every table, and a sample of rows equal, value for value."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from opsweek.db.backup import table_counts
from opsweek.db.models import Base
from opsweek.db.session import newest_revision, stored_revision, upgrade
from opsweek.errors import BadInput, Unavailable

BATCH = 2000
SAMPLE = 25  # rows compared value for value in each table


@dataclass(frozen=True)
class Copied:
    counts: dict[str, int]
    compared: int  # rows compared value for value


def copy_store(source: Engine, target: Engine) -> Copied:
    if stored_revision(source) != newest_revision():
        raise BadInput("the store to copy is not at the newest schema: `opsweek db upgrade` first")
    with target.connect() as connection:
        if stored_revision(target) is not None and any(table_counts(connection).values()):
            raise BadInput("the target store is not empty: copy into a new, empty database")
    upgrade(target)
    tables = [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]
    with source.connect() as reading, target.begin() as writing:
        if target.dialect.name == "sqlite":
            writing.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for table in tables:
            for rows in _batches(reading, table):
                writing.execute(insert(table), rows)
        if target.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.c and table.c.id.autoincrement:
                    writing.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table.name}"
                        )
                    )
    with source.connect() as reading, target.connect() as written:
        before, after = table_counts(reading), table_counts(written)
        wrong = [t for t in before if not t.startswith("sal_fts") and before[t] != after.get(t)]
        if wrong:
            raise Unavailable(f"the copy does not hold the same rows: {', '.join(wrong)}")
        compared = sum(_compare(reading, written, table) for table in tables)
    return Copied(before, compared)


def _batches(connection: Connection, table: Table) -> Iterator[list[dict[str, object]]]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
    for partition in result.mappings().partitions(BATCH):
        yield [dict(row) for row in partition]


def _compare(source: Connection, target: Connection, table: Table) -> int:
    """A sample of rows (the first, the last and some between, by primary key) equal in both."""
    keys = list(table.primary_key.columns)
    if not keys:
        return 0
    key = keys[0]
    total = source.execute(select(func.count()).select_from(table)).scalar() or 0
    if not total:
        return 0
    ids = [row[0] for row in source.execute(select(key).order_by(key))]
    chosen = {ids[0], ids[-1], *random.Random(total).sample(ids, min(SAMPLE, len(ids)))}
    query = select(table).where(key.in_(sorted(chosen))).order_by(*keys)
    mine, theirs = source.execute(query).all(), target.execute(query).all()
    if [tuple(r) for r in mine] != [tuple(r) for r in theirs]:
        raise Unavailable(f"the copy of {table.name} differs from the original")
    return len(mine)
