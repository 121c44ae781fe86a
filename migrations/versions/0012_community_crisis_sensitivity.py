"""forum: how readily a community's crisis filter flags wording

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "crisis_sensitivity",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="standard",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("community", schema=None) as batch_op:
        batch_op.drop_column("crisis_sensitivity")
