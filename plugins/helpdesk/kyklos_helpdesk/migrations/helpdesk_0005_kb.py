"""knowledge base (HD-06): articles, their products and the cases they solved, and
the readers' "did this help?" answers; the conversation on a case (replies from the
portal, staff replies and internal notes)

Revision ID: helpdesk_0005
Revises: helpdesk_0004
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0005"
down_revision = "helpdesk_0004"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"
ARTICLE = "helpdesk_kbarticle.id"


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


def _ref(name, target, ondelete, nullable=False):
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


def upgrade():
    op.create_table(
        "helpdesk_kbarticle",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(250), nullable=False),
        sa.Column("symptom", sa.Text()),
        sa.Column("cause", sa.Text()),
        sa.Column("solution", sa.Text()),
        sa.Column("language", sa.String(5), nullable=False, index=True),
        sa.Column("category", sa.String(120), index=True),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        _ref("translation_of_id", ARTICLE, "SET NULL", nullable=True),
        sa.Column("helpful_yes", sa.Integer(), nullable=False),
        sa.Column("helpful_no", sa.Integer(), nullable=False),
        sa.Column("helpful_percent", sa.Integer(), index=True),
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_kbproduct",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("article_id", ARTICLE, "CASCADE"),
        _ref("product_id", "catalog_product.id", "CASCADE"),
        *_entity_columns(),
        sa.UniqueConstraint("article_id", "product_id", name="helpdesk_kbproduct_once"),
    )
    op.create_table(
        "helpdesk_kbcase",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("article_id", ARTICLE, "CASCADE"),
        _ref("case_id", "helpdesk_case.id", "CASCADE"),
        sa.Column("title", sa.String(250), nullable=False),
        *_entity_columns(),
        sa.UniqueConstraint("article_id", "case_id", name="helpdesk_kbcase_once"),
    )
    op.create_table(
        "helpdesk_kbvote",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("article_id", ARTICLE, "CASCADE"),
        sa.Column("voter", sa.String(80), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voted_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("article_id", "voter", name="helpdesk_kbvote_once"),
    )
    op.create_table(
        "helpdesk_casereply",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("case_id", "helpdesk_case.id", "CASCADE"),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("from_customer", sa.Boolean(), nullable=False),
        _ref("person_id", "contacts_person.id", "SET NULL", nullable=True),
        sa.Column(
            "attachment_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_attachment.id", ondelete="SET NULL"),
        ),
        sa.Column("title", sa.String(120), nullable=False),
        *_entity_columns(),
    )


def downgrade():
    op.drop_table("helpdesk_casereply")
    for table in ("helpdesk_kbvote", "helpdesk_kbcase", "helpdesk_kbproduct", "helpdesk_kbarticle"):
        op.drop_table(table)
