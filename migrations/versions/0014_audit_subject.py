"""moderation: whose anonymity an audited reveal lifted, so they can see that it happened

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:40:00.000000

A plain ADD COLUMN (no batch copy), so SQLite keeps the append-only triggers on
audit_entry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_entry", sa.Column("subject_id", sa.Integer(), nullable=True))
    op.create_index("ix_audit_subject", "audit_entry", ["subject_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_subject", table_name="audit_entry")
    with op.batch_alter_table("audit_entry") as batch_op:
        batch_op.drop_column("subject_id")
