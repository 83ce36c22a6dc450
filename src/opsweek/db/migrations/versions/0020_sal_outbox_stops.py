"""An outbox row counts the edits after which the page did not show its entry, and stops
after a few (flagged, for a person), instead of adding the entry again for ever.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0020"
down_revision = "0019"


def upgrade() -> None:
    with op.batch_alter_table("sal_outbox") as table:
        table.add_column(sa.Column("misses", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("stopped_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sal_outbox") as table:
        table.drop_column("stopped_at")
        table.drop_column("misses")
