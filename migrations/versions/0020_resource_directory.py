"""forum: a community's resource directory, table resource

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:20:00.000000

One table (forum's): each row is a directory entry (services, helplines, guides) or a
member's suggestion for one waiting for the community's moderators, with the help types it
serves, its region (a country code, or "ANY" for anywhere/online) and when a moderator
last checked it. Downgrade drops the table and everything in it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "resource",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        _text("name", 80),
        _text("kind", 12),
        _text("description", 400),
        _text("url", 500, nullable=True),
        _text("phone", 40, nullable=True),
        _text("help_types", 80),
        _text("region", 4),
        _text("status", 12),
        sa.Column("suggested_by_id", sa.Integer(), nullable=True),
        _text("hold_reason", 32, nullable=True),
        _text("decline_reason", 500, nullable=True),
        sa.Column("last_checked_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["suggested_by_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.create_index("ix_resource_community_status", ["community_id", "status"])
        batch_op.create_index(
            batch_op.f("ix_resource_suggested_by_id"), ["suggested_by_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_suggested_by_id"))
        batch_op.drop_index("ix_resource_community_status")
    op.drop_table("resource")
