"""jobs, workflows, approvals, automation, notifications

Revision ID: kyklos_0005
Revises: kyklos_0004
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0005"
down_revision = "kyklos_0004"
branch_labels = None
depends_on = None


def _user_fk(name, ondelete="SET NULL", nullable=True):
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete=ondelete), nullable=nullable
    )


def upgrade():
    op.create_table(
        "kyklos_job",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("args", kyklos.db.JSONType(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("result", kyklos.db.JSONType(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _user_fk("user_id"),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("run_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("enqueued_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("started_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("finished_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("locked_until", kyklos.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_job")),
        sa.UniqueConstraint("key", name=op.f("uq_kyklos_job_key")),
    )
    op.create_index(op.f("ix_kyklos_job_state"), "kyklos_job", ["state"])
    op.create_index(op.f("ix_kyklos_job_user_id"), "kyklos_job", ["user_id"])
    op.create_index(op.f("ix_kyklos_job_created_at"), "kyklos_job", ["created_at"])

    op.create_table(
        "kyklos_workflow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("definition", kyklos.db.JSONType(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        _user_fk("updated_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_workflow")),
        sa.UniqueConstraint("entity", name=op.f("uq_kyklos_workflow_entity")),
    )

    op.create_table(
        "kyklos_workflow_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(100), nullable=False),
        sa.Column("from_state", sa.String(100), nullable=True),
        sa.Column("to_state", sa.String(100), nullable=False),
        _user_fk("user_id"),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("at", kyklos.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_workflow_event")),
    )
    op.create_index(
        "ix_kyklos_workflow_event_record", "kyklos_workflow_event", ["entity", "record_id"]
    )

    op.create_table(
        "kyklos_approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(100), nullable=False),
        _user_fk("requester_id"),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("spec", kyklos.db.JSONType(), nullable=False),
        sa.Column("data", kyklos.db.JSONType(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("decided_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_approval_request")),
    )
    op.create_index(
        "ix_kyklos_approval_request_record", "kyklos_approval_request", ["entity", "record_id"]
    )
    op.create_index(
        op.f("ix_kyklos_approval_request_state"), "kyklos_approval_request", ["state"]
    )

    op.create_table(
        "kyklos_approval_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_approval_request.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        _user_fk("approver_id", ondelete="CASCADE", nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", kyklos.db.UTCDateTime(), nullable=True),
        _user_fk("decided_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_approval_step")),
        sa.UniqueConstraint(
            "request_id",
            "level",
            "approver_id",
            name=op.f("uq_kyklos_approval_step_request_id_level_approver_id"),
        ),
    )
    op.create_index(
        "ix_kyklos_approval_step_approver", "kyklos_approval_step", ["approver_id", "decision"]
    )

    op.create_table(
        "kyklos_automation_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger", kyklos.db.JSONType(), nullable=False),
        sa.Column("conditions", kyklos.db.JSONType(), nullable=False),
        sa.Column("actions", kyklos.db.JSONType(), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("scanned_until", kyklos.db.UTCDateTime(), nullable=True),
        _user_fk("created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_automation_rule")),
    )
    op.create_index(
        op.f("ix_kyklos_automation_rule_entity"), "kyklos_automation_rule", ["entity"]
    )

    op.create_table(
        "kyklos_automation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_automation_rule.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("results", kyklos.db.JSONType(), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_automation_run")),
        sa.UniqueConstraint(
            "rule_id", "record_id", "event_key", name=op.f("uq_kyklos_automation_run_rule_id_record_id_event_key")
        ),
    )
    op.create_index(
        "ix_kyklos_automation_run_record", "kyklos_automation_run", ["entity", "record_id"]
    )

    op.create_table(
        "kyklos_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        _user_fk("user_id", ondelete="CASCADE", nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("read_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("emailed_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_notification")),
    )
    op.create_index(
        "ix_kyklos_notification_user_read", "kyklos_notification", ["user_id", "read_at"]
    )

    op.create_table(
        "kyklos_notification_setting",
        _user_fk("user_id", ondelete="CASCADE", nullable=False),
        sa.Column("email_copy", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_kyklos_notification_setting")),
    )


def downgrade():
    op.drop_table("kyklos_notification_setting")
    op.drop_index("ix_kyklos_notification_user_read", table_name="kyklos_notification")
    op.drop_table("kyklos_notification")
    op.drop_index("ix_kyklos_automation_run_record", table_name="kyklos_automation_run")
    op.drop_table("kyklos_automation_run")
    op.drop_index(op.f("ix_kyklos_automation_rule_entity"), table_name="kyklos_automation_rule")
    op.drop_table("kyklos_automation_rule")
    op.drop_index("ix_kyklos_approval_step_approver", table_name="kyklos_approval_step")
    op.drop_table("kyklos_approval_step")
    op.drop_index(op.f("ix_kyklos_approval_request_state"), table_name="kyklos_approval_request")
    op.drop_index("ix_kyklos_approval_request_record", table_name="kyklos_approval_request")
    op.drop_table("kyklos_approval_request")
    op.drop_index("ix_kyklos_workflow_event_record", table_name="kyklos_workflow_event")
    op.drop_table("kyklos_workflow_event")
    op.drop_table("kyklos_workflow")
    op.drop_index(op.f("ix_kyklos_job_created_at"), table_name="kyklos_job")
    op.drop_index(op.f("ix_kyklos_job_user_id"), table_name="kyklos_job")
    op.drop_index(op.f("ix_kyklos_job_state"), table_name="kyklos_job")
    op.drop_table("kyklos_job")
