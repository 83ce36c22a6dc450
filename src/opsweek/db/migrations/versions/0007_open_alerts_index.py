"""The open alerts, newest first, from an index of their own: the Today page and the inbox ask
for them on every render, and they are a few hundred among a year's hundred thousand.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

OPEN = sa.text("status != 'resolved'")


def upgrade() -> None:
    op.create_index(
        "ix_alerts_open_last_seen",
        "alerts",
        ["last_seen", "id"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_open_last_seen", "alerts")
