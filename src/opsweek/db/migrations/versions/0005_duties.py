"""Duties (one row per occurrence), decisions, and a record of what was published where.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "duty_instances",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("duty_key", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False, index=True),
        sa.Column("overdue_at", UTCDateTime, nullable=False),
        sa.Column("on_demand", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("steps", sa.JSON, nullable=False),
        sa.Column("alert_ids", sa.JSON, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("duty_key", "due_at", name="uq_duty_instances_key_due"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("mailed_at", UTCDateTime, nullable=True),
        sa.Column("mail_error", sa.Text, nullable=True),
    )
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("publications")
    op.drop_table("decisions")
    op.drop_table("duty_instances")
