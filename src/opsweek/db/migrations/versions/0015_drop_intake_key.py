"""Raw inputs lose their intake key: it let a batch of inputs inserted at once find its ids
again, and nothing else read it; the intake now gets the ids from the insert itself
(RETURNING, in the order of the rows).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    with op.batch_alter_table("raw_inputs") as batch:
        batch.drop_column("intake_key")


def downgrade() -> None:
    # the old key was unique per row: the id stands in for it
    with op.batch_alter_table("raw_inputs") as batch:
        batch.add_column(sa.Column("intake_key", sa.String(32), nullable=True))
    op.execute("UPDATE raw_inputs SET intake_key = CAST(id AS VARCHAR(32))")
    with op.batch_alter_table("raw_inputs") as batch:
        batch.alter_column("intake_key", nullable=False)
        batch.create_unique_constraint("uq_raw_inputs_intake_key", ["intake_key"])
