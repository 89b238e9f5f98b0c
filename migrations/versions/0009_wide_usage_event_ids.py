"""wide usage_event ids: 64-bit on PostgreSQL, as SQLite's rowids already are. A pixel hit
is a row of its own, so a busy service's usage events pass 2^31 in time

Revision ID: 0009_wide_usage_event_ids
Revises: 0008_usage_upto
Create Date: 2026-11-27 20:00:00.000000

On PostgreSQL the type change rewrites the table and its indexes under an ACCESS EXCLUSIVE
lock (docs/deploy.md, "Upgrades"); one table per migration, each committed on its own, so no
lock is held while another is awaited (readers take usage_event and delivery in either order).
On SQLite an INTEGER PRIMARY KEY is the 64-bit rowid already: nothing to do.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_wide_usage_event_ids"
down_revision: str | None = "0008_usage_upto"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retype(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: an INTEGER PRIMARY KEY is the 64-bit rowid already
    # SERIAL made the sequence `AS integer` (at most 2^31 - 1) apart from the column.
    op.execute(f"""
        DO $$
        DECLARE seq text := pg_get_serial_sequence('usage_event', 'id');
        BEGIN
            ALTER TABLE usage_event ALTER COLUMN id TYPE {kind};
            IF seq IS NOT NULL THEN
                EXECUTE 'ALTER SEQUENCE ' || seq || ' AS {kind}';  -- quoted already
            END IF;
        END $$
    """)


def upgrade() -> None:
    _retype("bigint")


def downgrade() -> None:
    # Fails with "out of range" once the sequence has passed 2^31 - 1, rows or not.
    _retype("integer")
