"""sales literature (SFA-16): documents per product or category and language, with
validity; their versions are the record's attachments; sends by e-mail are logged

Revision ID: catalog_0005
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0005"
down_revision = "catalog_0004"
branch_labels = None
depends_on = None


def _entity_columns():
    """The columns EntityMixin gives every entity table."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_user.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column(
            "updated_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "catalog_literature",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5)),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_product.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column(
            "category_id",
            sa.Integer(),
            sa.ForeignKey("catalog_category.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_until", sa.Date(), index=True),
        sa.Column("description", sa.Text()),
        *_entity_columns(),
    )
    op.create_table(
        "catalog_literature_send",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")),
        sa.Column("sent_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Index("ix_catalog_literature_send_record", "entity", "record_id"),
    )


def downgrade():
    op.drop_table("catalog_literature_send")
    op.drop_table("catalog_literature")
