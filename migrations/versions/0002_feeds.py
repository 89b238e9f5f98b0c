"""feeds: index for tombstones (pieces withdrawn recently)

Revision ID: 0002_feeds
Revises: 0001
Create Date: 2026-11-26 23:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002_feeds"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_status_withdrawn", ["status", "withdrawn_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_status_withdrawn")
