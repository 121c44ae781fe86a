"""been there: experience lists, members' private experiences, and who may be asked

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:20:00.000000

communities: `experience_label` (each community's list, kept by its moderators) and
`lived_experience` (a member's private record: which label, and roughly how long ago).
forum: `been_there_choice` (open to being asked, quiet hours on the member's clock, when they
were last asked, for rotation) and `been_there_ask` (a request for help that asked for
someone who's been through it: which label, and how many members were told). Who was told
for which thread is not a table: each of them has the notice in their own list.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experience_label",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "label"),
    )
    op.create_index(op.f("ix_experience_label_community_id"), "experience_label", ["community_id"])
    op.create_table(
        "lived_experience",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=False),
        sa.Column("since", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["label_id"], ["experience_label.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "label_id"),
    )
    op.create_index(op.f("ix_lived_experience_label_id"), "lived_experience", ["label_id"])
    op.create_table(
        "been_there_choice",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("open_to_asks", sa.Boolean(), nullable=False),
        sa.Column("quiet_from", sa.Integer(), nullable=True),
        sa.Column("quiet_until", sa.Integer(), nullable=True),
        sa.Column("zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("last_asked_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    op.create_table(
        "been_there_ask",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("label_id", sa.Integer(), nullable=True),
        sa.Column("told", sa.Integer(), nullable=False),
        sa.Column("told_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["thread_id"], ["thread.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["label_id"], ["experience_label.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("thread_id"),
    )


def downgrade() -> None:
    op.drop_table("been_there_ask")
    op.drop_table("been_there_choice")
    op.drop_index(op.f("ix_lived_experience_label_id"), table_name="lived_experience")
    op.drop_table("lived_experience")
    op.drop_index(op.f("ix_experience_label_community_id"), table_name="experience_label")
    op.drop_table("experience_label")
