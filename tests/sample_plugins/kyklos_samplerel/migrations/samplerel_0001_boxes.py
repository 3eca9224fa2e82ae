"""boxes and items

Revision ID: samplerel_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "samplerel_0001"
down_revision = None
branch_labels = ("samplerel",)
depends_on = None


def _entity_columns():
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
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "samplerel_box",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("code", sa.String(20)),
        sa.Column("notes", sa.Text()),
        *_entity_columns(),
    )
    op.create_table(
        "samplerel_item",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "box_id",
            sa.Integer(),
            sa.ForeignKey("samplerel_box.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("qty", sa.Integer()),
        *_entity_columns(),
    )


def downgrade():
    op.drop_table("samplerel_item")
    op.drop_table("samplerel_box")
