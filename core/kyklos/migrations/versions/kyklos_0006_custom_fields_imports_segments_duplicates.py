"""custom fields, imports, segments, duplicates

Revision ID: kyklos_0006
Revises: kyklos_0005
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0006"
down_revision = "kyklos_0005"
branch_labels = None
depends_on = None


def _stamps():
    return [
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "kyklos_custom_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("label", kyklos.db.JSONType(), nullable=False),
        sa.Column("help", kyklos.db.JSONType(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("default", kyklos.db.JSONType(), nullable=True),
        sa.Column("unique", sa.Boolean(), nullable=False),
        sa.Column("choices", kyklos.db.JSONType(), nullable=True),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filterable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_custom_field")),
        sa.UniqueConstraint("entity", "name", name=op.f("uq_kyklos_custom_field_entity_name")),
    )
    op.create_index(
        op.f("ix_kyklos_custom_field_entity"), "kyklos_custom_field", ["entity"], unique=False
    )
    op.create_table(
        "kyklos_custom_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("v_text", sa.String(1000), nullable=True),
        sa.Column("v_num", sa.Numeric(38, 10), nullable=True),
        sa.Column("v_date", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("v_bool", sa.Boolean(), nullable=True),
        sa.Column("unique_key", sa.String(1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["kyklos_custom_field.id"],
            name=op.f("fk_kyklos_custom_value_field_id_kyklos_custom_field"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_custom_value")),
        sa.UniqueConstraint(
            "field_id", "unique_key", name=op.f("uq_kyklos_custom_value_field_id_unique_key")
        ),
    )
    for suffix, col in (("text", "v_text"), ("num", "v_num"), ("date", "v_date"),
                        ("bool", "v_bool")):
        op.create_index(
            f"ix_kyklos_custom_value_{suffix}", "kyklos_custom_value", ["field_id", col, "record_id"]
        )
    op.create_index(
        "ix_kyklos_custom_value_record", "kyklos_custom_value", ["entity", "record_id"]
    )

    op.create_table(
        "kyklos_import_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("mapping", kyklos.db.JSONType(), nullable=False),
        sa.Column("options", kyklos.db.JSONType(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_import_profile_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_import_profile")),
        sa.UniqueConstraint("entity", "name", name=op.f("uq_kyklos_import_profile_entity_name")),
    )
    op.create_table(
        "kyklos_import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("options", kyklos.db.JSONType(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_created", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("last_row", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_import_run_user_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_import_run")),
    )
    op.create_index(
        op.f("ix_kyklos_import_run_sha256"), "kyklos_import_run", ["sha256"], unique=False
    )

    op.create_table(
        "kyklos_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("definition", kyklos.db.JSONType(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_segment_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_segment")),
    )
    op.create_index(op.f("ix_kyklos_segment_entity"), "kyklos_segment", ["entity"], unique=False)
    op.create_table(
        "kyklos_segment_member",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("added_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["kyklos_segment.id"],
            name=op.f("fk_kyklos_segment_member_segment_id_kyklos_segment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "record_id", name=op.f("pk_kyklos_segment_member")),
    )

    op.create_table(
        "kyklos_duplicate_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_duplicate_key")),
    )
    op.create_index(
        "ix_kyklos_duplicate_key_lookup", "kyklos_duplicate_key", ["entity", "rule", "key"]
    )
    op.create_index(
        "ix_kyklos_duplicate_key_record", "kyklos_duplicate_key", ["entity", "record_id"]
    )
    op.create_table(
        "kyklos_duplicate_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_duplicate_candidate_resolved_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_duplicate_candidate")),
        sa.UniqueConstraint(
            "entity", "first_id", "second_id",
            name=op.f("uq_kyklos_duplicate_candidate_entity_first_id_second_id"),
        ),
    )
    op.create_index(
        op.f("ix_kyklos_duplicate_candidate_entity"), "kyklos_duplicate_candidate", ["entity"]
    )


def downgrade():
    op.drop_index(
        op.f("ix_kyklos_duplicate_candidate_entity"), table_name="kyklos_duplicate_candidate"
    )
    op.drop_table("kyklos_duplicate_candidate")
    op.drop_table("kyklos_duplicate_key")
    op.drop_table("kyklos_segment_member")
    op.drop_index(op.f("ix_kyklos_segment_entity"), table_name="kyklos_segment")
    op.drop_table("kyklos_segment")
    op.drop_index(op.f("ix_kyklos_import_run_sha256"), table_name="kyklos_import_run")
    op.drop_table("kyklos_import_run")
    op.drop_table("kyklos_import_profile")
    # custom fields
    op.drop_table("kyklos_custom_value")
    op.drop_index(op.f("ix_kyklos_custom_field_entity"), table_name="kyklos_custom_field")
    op.drop_table("kyklos_custom_field")
