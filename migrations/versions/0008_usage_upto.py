"""usage_upto: the catalog version records the newest usage event it takes into account, so
related links that follow a partner's pixel hits move with the version, alike in every worker

Revision ID: 0008_usage_upto
Revises: 0007_tombstone_index
Create Date: 2026-11-27 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_usage_upto"
down_revision: str | None = "0007_tombstone_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("usage_upto", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
    # Every hit recorded so far counts, as it did before the upgrade.
    op.execute(
        "UPDATE catalog_state SET usage_upto = (SELECT COALESCE(MAX(id), 0) FROM usage_event)"
    )


def downgrade() -> None:
    with op.batch_alter_table("catalog_state", schema=None) as batch_op:
        batch_op.drop_column("usage_upto")
