"""partner pages: one row per page of a partner's that pixel hits showed one of our pieces on,
written with the hits. Related links and the compliance check read these instead of the hits,
whose number grows with every page view: with a few million hits, the related links of one
cold feed render read ~600 ms of them on PostgreSQL

Revision ID: 0011_partner_pages
Revises: 0010_wide_delivery_ids
Create Date: 2026-11-27 20:45:00.000000

The upgrade fills the table from the hits recorded so far: one pass over the pixel hits
(docs/deploy.md, "Upgrades").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0011_partner_pages"
down_revision: str | None = "0010_wide_delivery_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_page",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=2000), nullable=False),
        sa.Column(
            "first_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partner_id", "article_id", "page"),
    )
    with op.batch_alter_table("partner_page", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partner_page_article_id"), ["article_id"], unique=False
        )
    # PostgreSQL: a key entry cannot pass ~2700 bytes, and an older hit could carry a page of
    # up to 2000 characters that were not all ASCII (the pixel percent-encodes them now).
    fits = " AND octet_length(page) <= 2000" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(
        "INSERT INTO partner_page (partner_id, article_id, page, first_id)"
        " SELECT partner_id, article_id, page, min(id) FROM usage_event"
        f" WHERE kind = 'pixel_hit' AND page IS NOT NULL AND article_id IS NOT NULL{fits}"
        " GROUP BY partner_id, article_id, page"
    )


def downgrade() -> None:
    with op.batch_alter_table("partner_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_page_article_id"))
    op.drop_table("partner_page")
