"""chat: rooms have a kind (public, session, private)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 18:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('chat_room', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=12), nullable=False, server_default='public')
        )
        batch_op.create_index(batch_op.f('ix_chat_room_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chat_room', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_room_kind'))
        batch_op.drop_column('kind')
