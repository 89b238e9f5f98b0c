"""tombstone_index: a feed's tombstones are found by the partner's licenses, not among every
piece withdrawn in the last 30 days

Revision ID: 0007_tombstone_index
Revises: 0006_usage_times
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_tombstone_index"
down_revision: str | None = "0006_usage_times"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_license_status_withdrawn",
            ["license", "status", "withdrawn_at"],
            unique=False,
        )
        batch_op.drop_index("ix_article_status_withdrawn")


def downgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(
            "ix_article_status_withdrawn", ["status", "withdrawn_at"], unique=False
        )
        batch_op.drop_index("ix_article_license_status_withdrawn")
