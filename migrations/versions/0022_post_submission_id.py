"""forum: a post remembers the id its form or client sent it with, so a resend is not a second post

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:40:00.000000

A reply or new thread written offline waits in the member's outbox and is sent when the link
returns; a form may also be resent by the browser after an answer was lost on a flaky link.
Each carries a submission id; `post.submission_id` keeps it, unique per author, and a resend
finds the original. Existing posts have none (NULL), which never collides.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("post", sa.Column("submission_id", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_post_author_submission", "post", ["author_id", "submission_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_post_author_submission", table_name="post")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("submission_id")
