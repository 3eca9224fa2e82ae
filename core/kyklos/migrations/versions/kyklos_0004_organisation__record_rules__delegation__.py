"""organisation, record rules, delegation, security log

Revision ID: kyklos_0004
Revises: kyklos_0003
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0004"
down_revision = "kyklos_0003"
branch_labels = None
depends_on = None


def _now_cols():
    return [
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
    ]


def _add_user_fk(column: str, target: str):
    """Add a nullable FK column to kyklos_user without rebuilding the table.

    A SQLite batch rebuild drops kyklos_user, and with foreign keys on, that DROP
    cascades into sessions, tokens and role links. SQLite's own ADD COLUMN accepts an
    inline REFERENCES clause for a NULL-default column, so use it there.
    """
    fk_name = f"fk_kyklos_user_{column}_{target}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE kyklos_user ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {fk_name} REFERENCES {target} (id) ON DELETE SET NULL"
        )
    else:
        op.add_column("kyklos_user", sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(fk_name, "kyklos_user", target, [column], ["id"], ondelete="SET NULL")
    op.create_index(f"ix_kyklos_user_{column}", "kyklos_user", [column])


def upgrade():
    op.create_table(
        "kyklos_department",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_department.id",
                name="fk_kyklos_department_parent_id_kyklos_department",
            ),
            nullable=True,
        ),
        sa.Column(
            "manager_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="SET NULL",
                name="fk_kyklos_department_manager_id_kyklos_user",
            ),
            nullable=True,
        ),
        sa.Column("path", sa.String(500), nullable=False),
        *_now_cols(),
    )
    op.create_index("ix_kyklos_department_parent_id", "kyklos_department", ["parent_id"])
    op.create_index("ix_kyklos_department_manager_id", "kyklos_department", ["manager_id"])
    op.create_index("ix_kyklos_department_path", "kyklos_department", ["path"])

    op.create_table(
        "kyklos_position",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column(
            "department_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_department.id",
                ondelete="SET NULL",
                name="fk_kyklos_position_department_id_kyklos_department",
            ),
            nullable=True,
        ),
        *_now_cols(),
    )
    op.create_index("ix_kyklos_position_department_id", "kyklos_position", ["department_id"])

    _add_user_fk("department_id", "kyklos_department")
    _add_user_fk("position_id", "kyklos_position")
    op.add_column("kyklos_user", sa.Column("totp_last_step", sa.Integer(), nullable=True))

    op.create_table(
        "kyklos_territory",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.UniqueConstraint("name", name="uq_kyklos_territory_name"),
    )
    op.create_table(
        "kyklos_territory_value",
        sa.Column(
            "territory_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_territory.id",
                ondelete="CASCADE",
                name="fk_kyklos_territory_value_territory_id_kyklos_territory",
            ),
            primary_key=True,
        ),
        sa.Column("value", sa.String(200), primary_key=True),
    )
    op.create_table(
        "kyklos_user_territory",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="CASCADE",
                name="fk_kyklos_user_territory_user_id_kyklos_user",
            ),
            primary_key=True,
        ),
        sa.Column(
            "territory_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_territory.id",
                ondelete="CASCADE",
                name="fk_kyklos_user_territory_territory_id_kyklos_territory",
            ),
            primary_key=True,
        ),
    )
    op.create_index(
        "ix_kyklos_user_territory_territory_id", "kyklos_user_territory", ["territory_id"]
    )

    op.create_table(
        "kyklos_record_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "role_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_role.id",
                ondelete="CASCADE",
                name="fk_kyklos_record_rule_role_id_kyklos_role",
            ),
            nullable=False,
        ),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "role_id",
            "entity",
            "action",
            "scope",
            name="uq_kyklos_record_rule_role_id_entity_action_scope",
        ),
    )
    op.create_index("ix_kyklos_record_rule_role_id", "kyklos_record_rule", ["role_id"])

    op.create_table(
        "kyklos_field_permission",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "role_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_role.id",
                ondelete="CASCADE",
                name="fk_kyklos_field_permission_role_id_kyklos_role",
            ),
            nullable=False,
        ),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("access", sa.String(10), nullable=False),
        sa.UniqueConstraint(
            "role_id", "entity", "field", name="uq_kyklos_field_permission_role_id_entity_field"
        ),
    )
    op.create_index("ix_kyklos_field_permission_role_id", "kyklos_field_permission", ["role_id"])

    op.create_table(
        "kyklos_delegation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "from_user_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="CASCADE",
                name="fk_kyklos_delegation_from_user_id_kyklos_user",
            ),
            nullable=False,
        ),
        sa.Column(
            "to_user_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="CASCADE",
                name="fk_kyklos_delegation_to_user_id_kyklos_user",
            ),
            nullable=False,
        ),
        sa.Column("starts_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("scope", kyklos.db.JSONType(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column(
            "created_by_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="SET NULL",
                name="fk_kyklos_delegation_created_by_id_kyklos_user",
            ),
            nullable=True,
        ),
        sa.Column("ended_at", kyklos.db.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_kyklos_delegation_from_user_id", "kyklos_delegation", ["from_user_id"])
    op.create_index("ix_kyklos_delegation_to_user_id", "kyklos_delegation", ["to_user_id"])

    op.create_table(
        "kyklos_security_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="SET NULL",
                name="fk_kyklos_security_event_user_id_kyklos_user",
            ),
            nullable=True,
        ),
        sa.Column(
            "on_behalf_of_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="SET NULL",
                name="fk_kyklos_security_event_on_behalf_of_id_kyklos_user",
            ),
            nullable=True,
        ),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("detail", kyklos.db.JSONType(), nullable=False),
    )
    op.create_index("ix_kyklos_security_event_at", "kyklos_security_event", ["at"])
    op.create_index("ix_kyklos_security_event_user_id", "kyklos_security_event", ["user_id"])
    op.create_index("ix_kyklos_security_event_kind_at", "kyklos_security_event", ["kind", "at"])

    op.create_table(
        "kyklos_password_reset",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(
                "kyklos_user.id",
                ondelete="CASCADE",
                name="fk_kyklos_password_reset_user_id_kyklos_user",
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_kyklos_password_reset_token_hash"),
    )
    op.create_index("ix_kyklos_password_reset_user_id", "kyklos_password_reset", ["user_id"])

    op.create_table(
        "kyklos_login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", kyklos.db.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_kyklos_login_attempt_at", "kyklos_login_attempt", ["at"])
    op.create_index("ix_kyklos_login_attempt_ip_at", "kyklos_login_attempt", ["ip", "at"])


def downgrade():
    op.drop_table("kyklos_login_attempt")
    op.drop_table("kyklos_password_reset")
    op.drop_table("kyklos_security_event")
    op.drop_table("kyklos_delegation")
    op.drop_table("kyklos_field_permission")
    op.drop_table("kyklos_record_rule")
    op.drop_table("kyklos_user_territory")
    op.drop_table("kyklos_territory_value")
    op.drop_table("kyklos_territory")
    for column in ("position_id", "department_id"):
        op.drop_index(f"ix_kyklos_user_{column}", table_name="kyklos_user")
        if op.get_bind().dialect.name != "sqlite":
            op.drop_constraint(
                f"fk_kyklos_user_{column}_kyklos_{column[:-3]}", "kyklos_user", type_="foreignkey"
            )
        op.drop_column("kyklos_user", column)
    op.drop_column("kyklos_user", "totp_last_step")
    op.drop_table("kyklos_position")
    op.drop_table("kyklos_department")
