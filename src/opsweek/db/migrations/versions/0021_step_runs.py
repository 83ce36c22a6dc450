"""Steps of alerts run by opsweek on request: the command, where, as whom, who asked, what it
said.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0021"
down_revision = "0020"


def upgrade() -> None:
    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("step", sa.String(80), nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("as_whom", sa.String(64), nullable=False),
        sa.Column("effect", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("exit_status", sa.Integer, nullable=True),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("output_size", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_step_runs_alert", "step_runs", ["alert_id", "id"])


def downgrade() -> None:
    op.drop_table("step_runs")
