"""No index on alerts.group_key: nothing looks alerts up by group (the inbox groups the alerts
it lists), and every new alert paid for an entry on a random page of it.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.drop_index("ix_alerts_group_key", "alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_group_key", "alerts", ["group_key"])
