"""care for the carers: supporters' limits and hours, break notes, debriefs; a session's co-facilitator

- ``supporter_limits``: how many 1:1 conversations a supporter takes at once, and the weekly
  hours (in their own time zone) when requests reach them. No row: the defaults (two at
  once, any time).
- ``support_request.supporter_rested``: the supporter dismissed the "take a break" note
  after this conversation (only they ever see it).
- ``support_debrief``: a supporter's request to talk a crisis-flagged conversation through
  with a moderator; it carries the supporter's own note (vetted), never the conversation.
- ``group_session_cofacilitator``: the one member a facilitator named to take over a
  session, and when they did.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supporter_limits",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("max_conversations", sa.Integer(), nullable=False),
        sa.Column("hours", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("changed_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    # A plain ADD COLUMN (no table rebuild on SQLite, which would have to carry the
    # request table's partial unique index across).
    op.add_column(
        "support_request",
        sa.Column("supporter_rested", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "support_debrief",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("supporter_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_html", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("done_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["support_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["supporter_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["taken_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", name="uq_support_debrief_request"),
    )
    op.create_index(
        "ix_support_debrief_queue", "support_debrief", ["community_id", "status", "created_at"]
    )
    op.create_table(
        "group_session_cofacilitator",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("named_by_id", sa.Integer(), nullable=True),
        sa.Column("named_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("taken_over_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["group_session.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["named_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(
        "ix_group_session_cofacilitator_member_id", "group_session_cofacilitator", ["member_id"]
    )


def downgrade() -> None:
    op.drop_index(
        "ix_group_session_cofacilitator_member_id", table_name="group_session_cofacilitator"
    )
    op.drop_table("group_session_cofacilitator")
    op.drop_index("ix_support_debrief_queue", table_name="support_debrief")
    op.drop_table("support_debrief")
    op.drop_column("support_request", "supporter_rested")
    op.drop_table("supporter_limits")
