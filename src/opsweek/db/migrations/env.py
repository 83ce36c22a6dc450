"""Alembic environment: runs on the engine opsweek hands over (never from an ini file).

On SQLite a migration that alters a table copies it into a new one and drops the old: with
foreign keys enforced, dropping a table others refer to (raw inputs, by alerts) would fail.
So they are not enforced while migrating (SQLite takes the setting only outside a
transaction), and checked once the migrations are done: a migration that broke a reference
fails the upgrade, and nothing of it is kept."""

from alembic import context
from sqlalchemy import text

from opsweek.db.models import Base

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"
with engine.connect() as connection:
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()  # SQLAlchemy began one; SQLite had not: the setting took
    try:
        with connection.begin():
            context.configure(
                connection=connection, target_metadata=Base.metadata, render_as_batch=sqlite
            )
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
                if broken:
                    raise RuntimeError(f"the migrations broke references: {broken[:5]}")
    finally:
        if sqlite:
            connection.rollback()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
