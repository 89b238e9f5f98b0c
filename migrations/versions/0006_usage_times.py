"""usage_times: feed pulls of one partner and format within a second are one row, with a count

Revision ID: 0006_usage_times
Revises: 0005_scale
Create Date: 2026-11-27 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_usage_times'
down_revision: str | None = '0005_scale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('times', sa.Integer(), server_default=sa.text('1'), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_column('times')
