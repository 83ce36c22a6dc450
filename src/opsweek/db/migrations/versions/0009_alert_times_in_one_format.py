"""Alert times in one text format on SQLite. Alerts and their history written in bulk by the
intake were stored through the sqlite3 module's own datetime adapter, which drops a zero
fraction of a second ('2026-11-01 12:00:00'), while everything else stores SQLAlchemy's
'2026-11-01 12:00:00.000000'. Both read back the same, but the text compares differently at
the same instant; this pads the short ones. Nothing to do on PostgreSQL (real timestamps).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"

COLUMNS = {
    "alerts": ("first_seen", "last_seen", "acked_at", "resolved_at", "updated_at"),
    "alert_events": ("at",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(
                f"UPDATE {table} SET {column} = {column} || '.000000' WHERE length({column}) = 19"
            )


def downgrade() -> None:
    """Nothing to undo: the padded times read back as before."""
