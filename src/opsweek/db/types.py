"""Column types shared by the models and the migrations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        """The conversion of each value, remembering recent ones: the rows of one write share
        a handful of instants (the moment of intake, the alerts' start times), and equal aware
        datetimes are the same instant, so they convert alike."""
        process = super().bind_processor(dialect)
        return None if process is None else functools.lru_cache(maxsize=512)(process)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
