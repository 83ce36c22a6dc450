"""Readings named after what they read (``connection:airflow analytics-test``, a check's
last run on request) outgrow 32 characters: 200.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"


def upgrade() -> None:
    with op.batch_alter_table("outside_readings") as batch:
        batch.alter_column("name", type_=sa.String(200), existing_type=sa.String(32))


def downgrade() -> None:
    with op.batch_alter_table("outside_readings") as batch:
        batch.alter_column("name", type_=sa.String(32), existing_type=sa.String(200))
