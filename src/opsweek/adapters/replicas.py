"""Wiki database replicas: does a wiki's database have tables yet (an empty list means it is
not replicated, so not ready for the sqoop list)? One SQLAlchemy URL template for all wikis."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from opsweek.errors import Unavailable


def table_count(url_template: str, wiki: str, timeout: int = 10) -> int:
    url = url_template.replace("{wiki}", wiki)
    args = {"connect_timeout": timeout} if url.startswith("mysql") else {}
    engine = create_engine(url, connect_args=args, pool_pre_ping=False)
    try:
        with engine.connect() as connection:
            return len(inspect(connection).get_table_names())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise Unavailable(f"replica of {wiki}: {reason}") from None
    finally:
        engine.dispose()
