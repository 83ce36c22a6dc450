"""The SAL outbox: entries waiting to be published to the team's SAL wiki page or IRC.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    op.create_table(
        "sal_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("sal_entries.id"), nullable=False),
        sa.Column("target", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("published_at", UTCDateTime, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.UniqueConstraint("entry_id", "target", name="uq_sal_outbox_entry_target"),
    )
    op.create_index(
        "ix_sal_outbox_due", "sal_outbox", ["target", "published_at", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("sal_outbox")
