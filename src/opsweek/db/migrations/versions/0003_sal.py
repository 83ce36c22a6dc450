"""The Server Admin Log: entries, their references, and full-text search.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from opsweek.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "sal_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("logged_at", UTCDateTime, nullable=False, index=True),
        sa.Column("nick", sa.String(64), nullable=False, index=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("corrects_id", sa.Integer, sa.ForeignKey("sal_entries.id"), nullable=True),
    )
    op.create_table(
        "sal_refs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "entry_id", sa.Integer, sa.ForeignKey("sal_entries.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("logged_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sal_refs_value_logged_at", "sal_refs", ["value", "logged_at"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE sal_fts USING fts5(message, content='sal_entries', "
            "content_rowid='id')"
        )
        op.execute(
            "CREATE TRIGGER sal_entries_fts AFTER INSERT ON sal_entries BEGIN "
            "INSERT INTO sal_fts(rowid, message) VALUES (new.id, new.message); END"
        )
    else:
        op.execute(
            "CREATE INDEX ix_sal_entries_message_fts ON sal_entries "
            "USING gin (to_tsvector('simple', message))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER sal_entries_fts")
        op.execute("DROP TABLE sal_fts")
    op.drop_table("sal_refs")
    op.drop_table("sal_entries")
