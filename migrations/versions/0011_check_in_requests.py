"""moderation: members ask peer supporters to check in on someone

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "check_in_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("target_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("ask_count", sa.Integer(), nullable=False),
        sa.Column("opened_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_in_request", schema=None) as batch_op:
        batch_op.create_index(
            "uq_check_in_open_subject",
            ["subject_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.create_index("ix_check_in_subject_opened", ["subject_id", "opened_at"])

    op.create_table(
        "check_in_ask",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["check_in_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asker_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_in_ask", schema=None) as batch_op:
        batch_op.create_index("ix_check_in_ask_asker", ["asker_id", "created_at"])
        batch_op.create_index(
            batch_op.f("ix_check_in_ask_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_check_in_ask_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("check_in_ask", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_in_ask_subject_id"))
        batch_op.drop_index(batch_op.f("ix_check_in_ask_request_id"))
        batch_op.drop_index("ix_check_in_ask_asker")
    op.drop_table("check_in_ask")
    with op.batch_alter_table("check_in_request", schema=None) as batch_op:
        batch_op.drop_index("ix_check_in_subject_opened")
        batch_op.drop_index("uq_check_in_open_subject")
    op.drop_table("check_in_request")
