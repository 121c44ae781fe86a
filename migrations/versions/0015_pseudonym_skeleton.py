"""identity: each pseudonym's look-alike skeleton, so members can't pass for each other

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:00:00.000000

Filled in for existing members from identity.names.lookalike_key. Not unique: names that read
alike may already exist side by side; from now on sign-up refuses a new one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from identity.names import lookalike_key

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_member = sa.table(
    "member",
    sa.column("id", sa.Integer),
    sa.column("pseudonym", sa.String),
    sa.column("deleted_at", sa.DateTime),
    sa.column("pseudonym_skeleton", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pseudonym_skeleton", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True
            )
        )
        batch_op.create_index("ix_member_pseudonym_skeleton", ["pseudonym_skeleton"])
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_member.c.id, _member.c.pseudonym).where(_member.c.deleted_at.is_(None))
    ).all()
    for member_id, pseudonym in rows:
        bind.execute(
            _member.update()
            .where(_member.c.id == member_id)
            .values(pseudonym_skeleton=lookalike_key(pseudonym)[:40])
        )


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index("ix_member_pseudonym_skeleton")
        batch_op.drop_column("pseudonym_skeleton")
