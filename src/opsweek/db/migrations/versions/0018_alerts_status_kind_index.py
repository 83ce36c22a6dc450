"""Open alerts counted per status and kind from an index alone (every page's title, Today's
areas and counts), without reading the alerts.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"


def upgrade() -> None:
    op.create_index("ix_alerts_status_kind", "alerts", ["status", "kind"])


def downgrade() -> None:
    op.drop_index("ix_alerts_status_kind", "alerts")
