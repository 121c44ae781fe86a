"""moderation: a community's policy moves to moderation's own table, community_policy

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 09:00:00.000000

What the pipeline does in a community (contact details, crisis language, how readily the
crisis model flags wording) is moderation's, so it leaves the community table (now
communities'). Every community's three values are copied across, then the columns go
(a batch copy of `community` on SQLite). Downgrade puts them back, filled from the table,
with the defaults for a community that has no row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, its default): the same three, in both tables.
POLICY = (
    ("contact_policy", "hold"),
    ("crisis_action", "publish"),
    ("crisis_sensitivity", "standard"),
)


def _column(name: str, **kwargs: object) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, **kwargs)


def upgrade() -> None:
    op.create_table(
        "community_policy",
        sa.Column("community_id", sa.Integer(), nullable=False),
        *(_column(name) for name, _ in POLICY),
        sa.ForeignKeyConstraint(["community_id"], ["community.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("community_id"),
    )
    names = ", ".join(name for name, _ in POLICY)
    op.execute(
        f"INSERT INTO community_policy (community_id, {names}) SELECT id, {names} FROM community"
    )
    with op.batch_alter_table("community") as batch_op:
        for name, _ in POLICY:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("community") as batch_op:
        for name, default in POLICY:
            batch_op.add_column(_column(name, server_default=default))
    for name, default in POLICY:
        op.execute(
            f"UPDATE community SET {name} = COALESCE((SELECT p.{name} FROM community_policy p "
            f"WHERE p.community_id = community.id), '{default}')"
        )
    # As 0002 made them: only crisis_sensitivity (0012) kept a server default.
    with op.batch_alter_table("community") as batch_op:
        for name, _ in POLICY[:2]:
            batch_op.alter_column(
                name, existing_type=sqlmodel.sql.sqltypes.AutoString(length=8), server_default=None
            )
    op.drop_table("community_policy")
