"""identity: the language a member chose to read Kindred in

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 14:00:00.000000

`member.language` holds a language code ("es") the member chose on their account page; NULL,
as for every existing member, means their browser's languages decide (identity/language.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("member", sa.Column("language", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("language")
