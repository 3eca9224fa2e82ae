"""product releases (HD-15) and the notices sent about them, once per release and
address; an installed product's version lives in its custom document
(``helpdesk_release``), so the contacts table is not altered

Revision ID: helpdesk_0006
Revises: helpdesk_0004
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0006"
down_revision = "helpdesk_0005"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"


def _entity_columns():
    """The columns EntityMixin gives every entity table."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "helpdesk_release",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_product.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("released_on", sa.Date(), index=True),
        sa.Column("notes", sa.Text()),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", kyklos_sdk.UTCDateTime()),
        sa.Column("notified", sa.Integer(), nullable=False),
        *_entity_columns(),
        sa.UniqueConstraint("product_id", "name", name="helpdesk_release_once"),
    )
    op.create_table(
        "helpdesk_release_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "release_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_release.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("contacts_account.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("sent_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("release_id", "email", name="helpdesk_release_notice_once"),
    )


def downgrade():
    op.drop_table("helpdesk_release_notice")
    op.drop_table("helpdesk_release")
