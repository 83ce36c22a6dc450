"""Alertmanager silences opsweek made (an acknowledgement's, or asked for) and those made
elsewhere that it noted on an alert: their outbox state while an Alertmanager is unreachable.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0022"
down_revision = "0021"


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("silence_id", sa.String(64), nullable=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=True),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("matchers", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("until_resolved", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_silences_state", "silences", ["state", "next_attempt_at"])
    op.create_index("ix_silences_alert", "silences", ["alert_id"])
    op.create_index("ix_silences_silence_id", "silences", ["cluster", "silence_id"])


def downgrade() -> None:
    op.drop_table("silences")
