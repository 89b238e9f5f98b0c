"""wide event ids: delivery and usage_event ids are 64-bit on PostgreSQL, as SQLite's rowids
already are. Both tables grow with traffic, and the ledger's INSERT ... ON CONFLICT DO NOTHING
draws a sequence value for every row a cold render offers, recorded before or not: about 50
per render, so a 32-bit sequence ran out after a few hundred days of a busy service's pulls

Revision ID: 0009_wide_event_ids
Revises: 0008_usage_upto
Create Date: 2026-11-27 20:00:00.000000

On PostgreSQL the column's type change rewrites each table and its indexes under an ACCESS
EXCLUSIVE lock (docs/deploy.md, "Upgrades"). On SQLite an INTEGER PRIMARY KEY is the 64-bit
rowid already: nothing to do.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_wide_event_ids"
down_revision: str | None = "0008_usage_upto"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("delivery", "usage_event")


def _widen(kind: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE {kind}")
        # SERIAL made the sequence `AS integer` (at most 2^31 - 1), apart from the column.
        sequence = bind.exec_driver_sql(
            f"SELECT pg_get_serial_sequence('{table}', 'id')"
        ).scalar_one()
        op.execute(f"ALTER SEQUENCE {sequence} AS {kind}")


def upgrade() -> None:
    _widen("bigint")


def downgrade() -> None:
    # Fails with "out of range" once an id has passed 2^31 - 1: those rows do not fit.
    _widen("integer")
