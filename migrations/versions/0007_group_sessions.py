"""chat: live group sessions

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import core.db


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('group_session_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('local_time', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_session_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_session_series_community_id'), ['community_id'], unique=False)

    op.create_table('group_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('ground_rules', sa.Text(), nullable=False),
    sa.Column('starts_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('turn_taking', sa.Boolean(), nullable=False),
    sa.Column('floor_member_id', sa.Integer(), nullable=True),
    sa.Column('slow_mode_seconds', sa.Integer(), nullable=False),
    sa.Column('pinned_text', sa.Text(), nullable=False),
    sa.Column('pinned_html', sa.Text(), nullable=False),
    sa.Column('started_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('messages_purged_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('summary_note', sa.Text(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['room_id'], ['chat_room.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['group_session_series.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['floor_member_id'], ['member.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('room_id')
    )
    with op.batch_alter_table('group_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_session_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_session_series_id'), ['series_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_session_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_session_status'), ['status'], unique=False)

    op.create_table('group_session_facilitator',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['group_session.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('session_id', 'member_id')
    )
    with op.batch_alter_table('group_session_facilitator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_session_facilitator_member_id'), ['member_id'], unique=False)

    op.create_table('group_session_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('rules_ack_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('hand_raised_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('seat_held', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['group_session.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'member_id', name='uq_group_session_participant')
    )
    with op.batch_alter_table('group_session_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_session_participant_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_session_participant_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    op.drop_table('group_session_participant')
    op.drop_table('group_session_facilitator')
    op.drop_table('group_session')
    op.drop_table('group_session_series')
