"""communities: private thank-yous to helpers; forum: each community's shelf of stories of hope

`thanks` (communities: forum and chat both send them) holds one thank-you per sender per
reply, chat message or 1:1 conversation, with its vetted note and status (published,
held, removed). `hope_shelf` (forum) holds the stories of hope a community's moderators put
on its shelf. A story of hope is a thread of kind "story": no new column.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thanks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("helper_id", sa.Integer(), nullable=False),
        sa.Column("about_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("about_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=240), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("note_html", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("hold_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sender_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["helper_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "about_kind", "about_id", name="uq_thanks_once"),
    )
    op.create_index("ix_thanks_helper_status", "thanks", ["helper_id", "status"])
    op.create_table(
        "hope_shelf",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["thread.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("thread_id"),
    )
    op.create_index("ix_hope_shelf_community_id", "hope_shelf", ["community_id"])


def downgrade() -> None:
    op.drop_index("ix_hope_shelf_community_id", table_name="hope_shelf")
    op.drop_table("hope_shelf")
    op.drop_index("ix_thanks_helper_status", table_name="thanks")
    op.drop_table("thanks")
