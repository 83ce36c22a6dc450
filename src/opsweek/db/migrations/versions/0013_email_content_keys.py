"""E-mails are stored once: each raw e-mail keeps a key made of its Message-ID and a hash of
its content, unique, so a sender's retry (an SMTP relay that did not see our answer in time,
an IMAP message fetched again after a crash) is recognised and not stored twice.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    with op.batch_alter_table("raw_inputs") as batch:
        batch.add_column(sa.Column("content_key", sa.String(length=200), nullable=True))
    op.create_index("ix_raw_inputs_content_key", "raw_inputs", ["content_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_raw_inputs_content_key", "raw_inputs")
    with op.batch_alter_table("raw_inputs") as batch:
        batch.drop_column("content_key")
