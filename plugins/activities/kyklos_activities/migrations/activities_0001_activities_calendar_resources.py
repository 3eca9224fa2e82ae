"""activities: types, status sets, activities, participants, resources, bookings,
reminders, feed tokens

Revision ID: activities_0001
Revises:
Created: 2026-11-22
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "activities_0001"
down_revision = None
branch_labels = ("activities",)
depends_on = None

# Frozen copies of the default status sets and activity types at this revision.
# Status set: name -> [(code, title, category, is_default)]
STATUS_SETS = {
    "Standard": [
        ("planned", "Planned", "open", True),
        ("in_progress", "In progress", "open", False),
        ("done", "Done", "done", False),
        ("cancelled", "Cancelled", "cancelled", False),
    ],
    "Approval": [
        ("requested", "Requested", "open", True),
        ("for_approval", "For approval", "open", False),
        ("approved", "Approved", "open", False),
        ("in_progress", "In progress", "open", False),
        ("done", "Done", "done", False),
        ("rejected", "Rejected", "cancelled", False),
        ("cancelled", "Cancelled", "cancelled", False),
    ],
    "Correspondence": [
        ("draft", "Draft", "open", True),
        ("to_send", "To send", "open", False),
        ("sent", "Sent", "done", False),
        ("received", "Received", "done", False),
        ("cancelled", "Cancelled", "cancelled", False),
    ],
}
# (code, title, duration_required, can_be_pending, private_by_default, default minutes,
#  color, icon, status set)
TYPES = [
    ("meeting", "Meeting", True, False, False, 60, "#0d6efd", "people", "Standard"),
    ("call", "Call", False, True, False, 15, "#198754", "telephone", "Standard"),
    ("task", "Task", False, True, False, 0, "#6f42c1", "check2-square", "Approval"),
    ("email", "E-mail", False, True, False, 0, "#0dcaf0", "envelope", "Correspondence"),
    ("sms", "SMS", False, True, False, 0, "#20c997", "chat-dots", "Correspondence"),
    ("letter", "Letter", False, True, False, 0, "#6c757d", "mailbox", "Correspondence"),
    ("fax", "Fax", False, True, False, 0, "#adb5bd", "printer", "Correspondence"),
    ("visit", "Visit", True, False, False, 90, "#fd7e14", "geo-alt", "Standard"),
]

SQLITE_TRIGGER = """
CREATE TRIGGER activities_booking_no_overlap_{event} BEFORE {what} ON activities_booking
FOR EACH ROW WHEN EXISTS (
    SELECT 1 FROM activities_booking b
    WHERE b.resource_id = NEW.resource_id AND b.id IS NOT NEW.id
      AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'activities_booking_overlap');
END
"""


def upgrade():
    op.create_table('activities_resource',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('custom', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_resource_created_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['kyklos_user.id'], name=op.f('fk_activities_resource_owner_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_resource_updated_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_resource'))
    )
    with op.batch_alter_table('activities_resource', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_resource_owner_id'), ['owner_id'], unique=False)

    op.create_table('activities_status_set',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('custom', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_status_set_created_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['kyklos_user.id'], name=op.f('fk_activities_status_set_owner_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_status_set_updated_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_status_set')),
    sa.UniqueConstraint('name', name=op.f('uq_activities_status_set_name'))
    )
    with op.batch_alter_table('activities_status_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_status_set_owner_id'), ['owner_id'], unique=False)

    op.create_table('activities_feed_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('last_used_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['activities_resource.id'], name=op.f('fk_activities_feed_token_resource_id_activities_resource'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['kyklos_user.id'], name=op.f('fk_activities_feed_token_user_id_kyklos_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_feed_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_activities_feed_token_token_hash'))
    )
    with op.batch_alter_table('activities_feed_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_feed_token_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_feed_token_user_id'), ['user_id'], unique=False)

    op.create_table('activities_status',
    sa.Column('status_set_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('custom', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.CheckConstraint("category IN ('open', 'done', 'cancelled')", name=op.f('ck_activities_status_category')),
    sa.ForeignKeyConstraint(['created_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_status_created_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['kyklos_user.id'], name=op.f('fk_activities_status_owner_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['status_set_id'], ['activities_status_set.id'], name=op.f('fk_activities_status_status_set_id_activities_status_set'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_status_updated_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_status')),
    sa.UniqueConstraint('status_set_id', 'code', name=op.f('uq_activities_status_status_set_id_code'))
    )
    with op.batch_alter_table('activities_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_status_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_status_status_set_id'), ['status_set_id'], unique=False)

    op.create_table('activities_type',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('duration_required', sa.Boolean(), nullable=False),
    sa.Column('can_be_pending', sa.Boolean(), nullable=False),
    sa.Column('private_by_default', sa.Boolean(), nullable=False),
    sa.Column('default_duration', sa.Integer(), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('icon', sa.String(length=40), nullable=False),
    sa.Column('status_set_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('custom', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_type_created_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['kyklos_user.id'], name=op.f('fk_activities_type_owner_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['status_set_id'], ['activities_status_set.id'], name=op.f('fk_activities_type_status_set_id_activities_status_set'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_type_updated_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_type')),
    sa.UniqueConstraint('code', name=op.f('uq_activities_type_code'))
    )
    with op.batch_alter_table('activities_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_type_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_type_status_set_id'), ['status_set_id'], unique=False)

    op.create_table('activities_activity',
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('starts_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('ends_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('due_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('private', sa.Boolean(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('rrule', sa.String(length=500), nullable=True),
    sa.Column('exdates', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('span_start', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('span_end', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('reminders', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('external_uid', sa.String(length=255), nullable=True),
    sa.Column('mass_batch', sa.String(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('custom', kyklos_sdk.JSONType(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('updated_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'done', 'cancelled')", name=op.f('ck_activities_activity_state')),
    sa.CheckConstraint('ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at', name=op.f('ck_activities_activity_ends_after_start')),
    sa.ForeignKeyConstraint(['account_id'], ['contacts_account.id'], name=op.f('fk_activities_activity_account_id_contacts_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_activity_created_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['kyklos_user.id'], name=op.f('fk_activities_activity_owner_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['activities_activity.id'], name=op.f('fk_activities_activity_parent_id_activities_activity'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['contacts_person.id'], name=op.f('fk_activities_activity_person_id_contacts_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_id'], ['kyklos_user.id'], name=op.f('fk_activities_activity_responsible_id_kyklos_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['type_id'], ['activities_type.id'], name=op.f('fk_activities_activity_type_id_activities_type'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['kyklos_user.id'], name=op.f('fk_activities_activity_updated_by_id_kyklos_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_activity')),
    sa.UniqueConstraint('external_uid', name=op.f('uq_activities_activity_external_uid'))
    )
    with op.batch_alter_table('activities_activity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_activity_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_mass_batch'), ['mass_batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_span_end'), ['span_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_span_start'), ['span_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_state'), ['state'], unique=False)
        batch_op.create_index('ix_activities_activity_state_responsible', ['state', 'responsible_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_activity_type_id'), ['type_id'], unique=False)

    op.create_table('activities_booking',
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('ends_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_activities_booking_positive')),
    sa.ForeignKeyConstraint(['activity_id'], ['activities_activity.id'], name=op.f('fk_activities_booking_activity_id_activities_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['activities_resource.id'], name=op.f('fk_activities_booking_resource_id_activities_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_booking'))
    )
    with op.batch_alter_table('activities_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_booking_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index('ix_activities_booking_resource_starts', ['resource_id', 'starts_at'], unique=False)

    op.create_table('activities_participant',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('responded_at', kyklos_sdk.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'user' AND user_id IS NOT NULL AND person_id IS NULL AND account_id IS NULL AND resource_id IS NULL) OR (kind = 'person' AND person_id IS NOT NULL AND user_id IS NULL AND account_id IS NULL AND resource_id IS NULL) OR (kind = 'account' AND account_id IS NOT NULL AND user_id IS NULL AND person_id IS NULL AND resource_id IS NULL) OR (kind = 'resource' AND resource_id IS NOT NULL AND user_id IS NULL AND person_id IS NULL AND account_id IS NULL)", name=op.f('ck_activities_participant_one_reference')),
    sa.ForeignKeyConstraint(['account_id'], ['contacts_account.id'], name=op.f('fk_activities_participant_account_id_contacts_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['activity_id'], ['activities_activity.id'], name=op.f('fk_activities_participant_activity_id_activities_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['contacts_person.id'], name=op.f('fk_activities_participant_person_id_contacts_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['activities_resource.id'], name=op.f('fk_activities_participant_resource_id_activities_resource'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['kyklos_user.id'], name=op.f('fk_activities_participant_user_id_kyklos_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_participant'))
    )
    with op.batch_alter_table('activities_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_participant_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_participant_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_participant_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_participant_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_participant_user_id'), ['user_id'], unique=False)

    op.create_table('activities_reminder',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('offset_minutes', sa.Integer(), nullable=False),
    sa.Column('remind_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('sent_at', kyklos_sdk.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activities_activity.id'], name=op.f('fk_activities_reminder_activity_id_activities_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['kyklos_user.id'], name=op.f('fk_activities_reminder_user_id_kyklos_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities_reminder')),
    sa.UniqueConstraint('activity_id', 'user_id', 'occurrence_at', 'offset_minutes', name=op.f('uq_activities_reminder_activity_id_user_id_occurrence_at_offset_minutes'))
    )
    with op.batch_alter_table('activities_reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activities_reminder_activity_id'), ['activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_reminder_user_id'), ['user_id'], unique=False)

    _no_double_booking()
    _seed()


def _no_double_booking():
    """A resource is never booked twice for overlapping times, whatever the requests'
    interleaving: the database itself refuses the second row."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE activities_booking ADD CONSTRAINT activities_booking_no_overlap "
            "EXCLUDE USING gist (resource_id WITH =, tsrange(starts_at, ends_at, '[)') WITH &&)"
        )
    elif bind.dialect.name == "sqlite":
        # SQLite serialises writers, so a check in a trigger cannot race.
        op.execute(SQLITE_TRIGGER.format(event="insert", what="INSERT"))
        op.execute(
            SQLITE_TRIGGER.format(
                event="update", what="UPDATE OF resource_id, starts_at, ends_at"
            )
        )


def _seed():
    now = dt.datetime.now(dt.UTC)
    common = {"version": 1, "custom": {}, "created_at": now, "updated_at": now}
    sets = sa.table(
        "activities_status_set",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("version", sa.Integer),
        sa.column("custom", kyklos_sdk.JSONType()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    statuses = sa.table(
        "activities_status",
        sa.column("status_set_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("title", sa.String),
        sa.column("category", sa.String),
        sa.column("position", sa.Integer),
        sa.column("is_default", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("custom", kyklos_sdk.JSONType()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    types = sa.table(
        "activities_type",
        sa.column("code", sa.String),
        sa.column("title", sa.String),
        sa.column("duration_required", sa.Boolean),
        sa.column("can_be_pending", sa.Boolean),
        sa.column("private_by_default", sa.Boolean),
        sa.column("default_duration", sa.Integer),
        sa.column("color", sa.String),
        sa.column("icon", sa.String),
        sa.column("status_set_id", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("position", sa.Integer),
        sa.column("version", sa.Integer),
        sa.column("custom", kyklos_sdk.JSONType()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    set_ids = {}
    for n, (name, rows) in enumerate(STATUS_SETS.items(), start=1):
        op.bulk_insert(sets, [{"id": n, "name": name, **common}])
        set_ids[name] = n
        op.bulk_insert(
            statuses,
            [
                {
                    "status_set_id": n,
                    "code": code,
                    "title": title,
                    "category": category,
                    "position": pos,
                    "is_default": default,
                    **common,
                }
                for pos, (code, title, category, default) in enumerate(rows)
            ],
        )
    op.bulk_insert(
        types,
        [
            {
                "code": code,
                "title": title,
                "duration_required": duration,
                "can_be_pending": pending,
                "private_by_default": private,
                "default_duration": minutes,
                "color": color,
                "icon": icon,
                "status_set_id": set_ids[set_name],
                "active": True,
                "position": pos,
                **common,
            }
            for pos, (code, title, duration, pending, private, minutes, color, icon, set_name)
            in enumerate(TYPES)
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # Explicit ids were inserted: move the sequence past them.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('activities_status_set', 'id'), "
            "(SELECT max(id) FROM activities_status_set))"
        )


def downgrade():
    with op.batch_alter_table('activities_reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_reminder_user_id'))
        batch_op.drop_index(batch_op.f('ix_activities_reminder_activity_id'))

    op.drop_table('activities_reminder')
    with op.batch_alter_table('activities_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_participant_user_id'))
        batch_op.drop_index(batch_op.f('ix_activities_participant_resource_id'))
        batch_op.drop_index(batch_op.f('ix_activities_participant_person_id'))
        batch_op.drop_index(batch_op.f('ix_activities_participant_activity_id'))
        batch_op.drop_index(batch_op.f('ix_activities_participant_account_id'))

    op.drop_table('activities_participant')
    with op.batch_alter_table('activities_booking', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_booking_resource_starts')
        batch_op.drop_index(batch_op.f('ix_activities_booking_activity_id'))

    op.drop_table('activities_booking')
    with op.batch_alter_table('activities_activity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_activity_type_id'))
        batch_op.drop_index('ix_activities_activity_state_responsible')
        batch_op.drop_index(batch_op.f('ix_activities_activity_state'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_span_start'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_span_end'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_responsible_id'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_person_id'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_parent_id'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_owner_id'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_mass_batch'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_due_at'))
        batch_op.drop_index(batch_op.f('ix_activities_activity_account_id'))

    op.drop_table('activities_activity')
    with op.batch_alter_table('activities_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_type_status_set_id'))
        batch_op.drop_index(batch_op.f('ix_activities_type_owner_id'))

    op.drop_table('activities_type')
    with op.batch_alter_table('activities_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_status_status_set_id'))
        batch_op.drop_index(batch_op.f('ix_activities_status_owner_id'))

    op.drop_table('activities_status')
    with op.batch_alter_table('activities_feed_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_feed_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_activities_feed_token_resource_id'))

    op.drop_table('activities_feed_token')
    with op.batch_alter_table('activities_status_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_status_set_owner_id'))

    op.drop_table('activities_status_set')
    with op.batch_alter_table('activities_resource', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_resource_owner_id'))

    op.drop_table('activities_resource')
