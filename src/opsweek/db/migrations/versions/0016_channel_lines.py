"""The IRC channel's lines, kept for a few days: Today shows what mentioned the team's work.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    op.create_table(
        "channel_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("nick", sa.String(64), nullable=False),
        sa.Column("text", sa.String(512), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_lines")
