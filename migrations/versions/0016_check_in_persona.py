"""moderation: check-in requests and asks per persona (named, or one anonymous label)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 05:00:00.000000

Asks about a member's anonymous posts no longer fold into the request about their named
posts: the answer an asker got ("supporters already know") and the count a supporter saw
tied the two together. Plain ADD COLUMNs with a default and a rebuilt partial index (no
batch copy).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    for table in ("check_in_request", "check_in_ask"):
        op.add_column(
            table,
            sa.Column(
                "persona",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default="",
            ),
        )
    op.drop_index("uq_check_in_open_subject", table_name="check_in_request")
    op.create_index(
        "uq_check_in_open_subject",
        "check_in_request",
        ["subject_id", "persona"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_check_in_open_subject", table_name="check_in_request")
    op.create_index(
        "uq_check_in_open_subject",
        "check_in_request",
        ["subject_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    for table in ("check_in_ask", "check_in_request"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("persona")
