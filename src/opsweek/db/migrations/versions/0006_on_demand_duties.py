"""Duty occurrences: only recurring ones are unique per (duty, due time). Two on-demand duties
of the same kind started at the same moment (two new wikis found by one check run) are two
duties.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

RECURRING = sa.text("on_demand = false")


def upgrade() -> None:
    with op.batch_alter_table("duty_instances") as table:
        table.drop_constraint("uq_duty_instances_key_due", type_="unique")
    op.create_index(
        "uq_duty_instances_recurring",
        "duty_instances",
        ["duty_key", "due_at"],
        unique=True,
        sqlite_where=RECURRING,
        postgresql_where=RECURRING,
    )


def downgrade() -> None:
    op.drop_index("uq_duty_instances_recurring", "duty_instances")
    with op.batch_alter_table("duty_instances") as table:
        table.create_unique_constraint("uq_duty_instances_key_due", ["duty_key", "due_at"])
