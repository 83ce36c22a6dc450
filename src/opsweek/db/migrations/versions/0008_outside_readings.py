"""The last reading of each outside system (the tracker's ops-week column, the collaboration
channel's unanswered questions), so pages show them without waiting on those systems.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "outside_readings",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("read_at", UTCDateTime, nullable=False),
        sa.Column("items", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("outside_readings")
