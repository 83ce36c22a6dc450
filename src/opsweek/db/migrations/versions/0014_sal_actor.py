"""Who recorded each SAL entry (the API token's user, the logged-in user, the IRC sender, the
CLI's user), next to the nick it is shown under: a display nick can no longer hide who wrote.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    with op.batch_alter_table("sal_entries") as batch:
        batch.add_column(
            sa.Column("actor", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("sal_entries") as batch:
        batch.drop_column("actor")
