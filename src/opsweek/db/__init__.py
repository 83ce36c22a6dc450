"""The store: SQLAlchemy models, engine and session, Alembic migrations."""

from opsweek.db.session import open_store

__all__ = ["open_store"]
