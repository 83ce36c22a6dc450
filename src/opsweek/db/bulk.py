"""Fast executemany and IN-list lookups for hot paths (alert intake).

SQLAlchemy Core spends tens of microseconds per row building parameters and converting
results. For a statement run with many rows, compile it once per dialect, take each
parameter's (or result column's) type processor once (the same processors SQLAlchemy would
apply: UTC datetimes, JSON, booleans), and hand the DBAPI cursor plain tuples or dicts. Values
end up stored and read exactly as through Core.

Datetime conversions are memoized: the rows of one batch share a handful of timestamps (the
moment of intake, the alerts' `startsAt`), and formatting or parsing each again is most of
the cost of a row."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

Processor = Callable[[Any], Any] | None


def _memoized(processor: Processor, type_: TypeEngine[Any]) -> Processor:
    """``processor``, remembering its last results when its values are datetimes (pure
    conversions of hashable values; equal aware datetimes are the same instant)."""
    if processor is None:
        return None
    underlying = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    return (
        functools.lru_cache(maxsize=1024)(processor)
        if isinstance(underlying, DateTime)
        else processor
    )


def _driver_execute(
    connection: Connection, sql: str, params: Any, many: bool = False
) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the connection's DBAPI cursor, in its transaction; the rows it returns.
    Skips Core's per-statement execution context and result object (about 40 microseconds a
    lookup, more than the lookup itself on a warm page cache); errors still come out as
    `sqlalchemy.exc.DBAPIError`, as through Core."""
    dbapi = connection.dialect.loaded_dbapi
    cursor = connection.connection.cursor()
    try:
        if many:
            cursor.executemany(sql, params)
            return []
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, params, exc, dbapi.Error) from exc
    finally:
        cursor.close()


class BulkStatement:
    def __init__(self, statement: Executable, keys: Sequence[str]) -> None:
        self.statement = statement
        self.keys = list(keys)
        self._compiled: dict[str, tuple[str, list[str], dict[str, Processor], bool]] = {}

    def _prepare(self, connection: Connection) -> tuple[str, list[str], dict[str, Processor], bool]:
        dialect = connection.dialect
        if dialect.name not in self._compiled:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
            names = (
                list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
            )
            processors = {
                name: _memoized(bind.type.dialect_impl(dialect).bind_processor(dialect), bind.type)
                for name, bind in compiled.binds.items()
            }
            self._compiled[dialect.name] = (compiled.string, names, processors, compiled.positional)
        return self._compiled[dialect.name]

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        sql, names, processors, positional = self._prepare(connection)
        take = operator.itemgetter(*names)
        conversions = [(i, processors[n]) for i, n in enumerate(names) if processors.get(n)]
        params: list[Any] = []
        for row in rows:
            values = list(take(row)) if len(names) > 1 else [take(row)]
            for i, convert in conversions:
                values[i] = convert(values[i])
            params.append(tuple(values) if positional else dict(zip(names, values, strict=True)))
        _driver_execute(connection, sql, params, many=True)


class BulkLookup:
    """``SELECT columns WHERE key IN (values)`` for many values: compiled once per dialect
    and list length, lengths rounded up to a power of two (the list padded with its last
    value), so a few statements serve every batch; rows come back as dicts."""

    def __init__(
        self, columns: Sequence[ColumnElement[Any]], key: ColumnElement[Any], chunk: int = 512
    ) -> None:
        self.columns = list(columns)
        self.key = key
        self.chunk = chunk
        self._compiled: dict[tuple[str, int], tuple[str, bool]] = {}
        self._processors: dict[str, list[tuple[str, Processor]]] = {}

    def rows(self, connection: Connection, values: Sequence[Any]) -> list[dict[str, Any]]:
        values = list(dict.fromkeys(values))  # a value asked twice gives its rows once
        found: list[dict[str, Any]] = []
        converters = self._converters(connection.dialect)
        for start in range(0, len(values), self.chunk):
            chunk = list(values[start : start + self.chunk])
            size = max(8, 1 << (len(chunk) - 1).bit_length())
            sql, positional = self._prepare(connection.dialect, size)
            padded = chunk + [chunk[-1]] * (size - len(chunk))
            params: Any = (
                tuple(padded)
                if positional
                else dict(zip((f"v{i}" for i in range(size)), padded, strict=True))
            )
            for row in _driver_execute(connection, sql, params):
                found.append(
                    {
                        name: convert(value) if convert else value
                        for (name, convert), value in zip(converters, row, strict=True)
                    }
                )
        return found

    def _converters(self, dialect: Dialect) -> list[tuple[str, Processor]]:
        if dialect.name not in self._processors:
            self._processors[dialect.name] = [
                (
                    column.key or "",
                    _memoized(
                        column.type.dialect_impl(dialect).result_processor(dialect, None),
                        column.type,
                    ),
                )
                for column in self.columns
            ]
        return self._processors[dialect.name]

    def _prepare(self, dialect: Dialect, size: int) -> tuple[str, bool]:
        if (dialect.name, size) not in self._compiled:
            statement = select(*self.columns).where(
                self.key.in_([bindparam(f"v{i}") for i in range(size)])
            )
            compiled = statement.compile(dialect=dialect)
            if compiled.positional and list(compiled.positiontup or []) != [
                f"v{i}" for i in range(size)
            ]:
                raise RuntimeError(f"unexpected parameter order in {compiled.string!r}")
            self._compiled[dialect.name, size] = (compiled.string, compiled.positional)
        return self._compiled[dialect.name, size]


def reserve_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` new ids for rows of ``table`` (integer primary key ``id``), to insert them
    with, instead of asking for their ids after an executemany, which cannot return them.
    Only in the store's writing turn (`Store.writing_connection`): on SQLite they are the ids
    after the largest, as SQLite itself would give them, and no other writer can take them
    meanwhile; on PostgreSQL they come from the column's sequence."""
    if count == 0:
        return []
    if connection.dialect.name == "sqlite":
        ((top,),) = _driver_execute(connection, f"SELECT max(id) FROM {table.name}", ())
        start = (top or 0) + 1
        return list(range(start, start + count))
    sequence = func.pg_get_serial_sequence(table.name, "id")
    numbers = func.generate_series(1, count).table_valued("n")
    query = select(func.nextval(sequence)).select_from(numbers)
    return list(connection.scalars(query))
