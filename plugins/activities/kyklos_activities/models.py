"""The activities data model.

- An :class:`Activity` is a task, call, meeting, e-mail... of an :class:`ActivityType`,
  whose flags give it its behaviour (ACT-10) and whose :class:`StatusSet` lists the
  statuses it may take (ACT-12). ``state`` (open / done / cancelled) is the category of
  its status, kept on the row so "open items" is one indexed query.
- ``span_start`` / ``span_end`` cover every occurrence (``span_end`` is NULL for a
  recurrence without end): calendar and availability queries are one range scan.
- :class:`Participant` rows link users, people, accounts and resources (ACT-11).
- :class:`Booking` rows are a resource's occupied time, one per occurrence; the database
  refuses overlapping bookings of one resource (an exclusion constraint on PostgreSQL, a
  trigger on SQLite), so no two requests can double-book, however they interleave.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from kyklos_sdk import Base, EntityMixin, IdMixin, JSONType, UTCDateTime, utcnow

#: status categories: what a status means for lists, reminders and bookings
OPEN, DONE, CANCELLED = "open", "done", "cancelled"
STATES = (OPEN, DONE, CANCELLED)
PARTICIPANT_KINDS = ("user", "person", "account", "resource")
#: RFC 5545 PARTSTAT values used for invitations
NEEDS_ACTION, ACCEPTED, DECLINED, TENTATIVE = "needs-action", "accepted", "declined", "tentative"
RESPONSES = (ACCEPTED, DECLINED, TENTATIVE)
PRIORITIES = ("low", "normal", "high")
RESOURCE_KINDS = ("room", "car", "laptop", "projector", "other")


class StatusSet(EntityMixin, Base):
    """A named list of statuses that activity types share (ACT-12)."""

    __tablename__ = "activities_status_set"

    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class Status(EntityMixin, Base):
    """One status of a set; ``category`` tells whether it is open, done or cancelled."""

    __tablename__ = "activities_status"
    __table_args__ = (
        UniqueConstraint("status_set_id", "code"),
        CheckConstraint("category IN ('open', 'done', 'cancelled')", name="category"),
    )

    status_set_id: Mapped[int] = mapped_column(
        ForeignKey("activities_status_set.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    category: Mapped[str] = mapped_column(String(12), nullable=False, default=OPEN)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ActivityType(EntityMixin, Base):
    """Meeting, call, task, e-mail... and how activities of the type behave (ACT-10)."""

    __tablename__ = "activities_type"

    code: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    #: a start and an end are required (meetings, visits)
    duration_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: may exist without any date, waiting to be scheduled (tasks, letters)
    can_be_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    private_by_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: minutes an activity lasts when only its start is given (0: a point in time)
    default_duration: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    color: Mapped[str] = mapped_column(String(7), nullable=False, default="#0d6efd")
    icon: Mapped[str] = mapped_column(String(40), nullable=False, default="calendar-event")
    status_set_id: Mapped[int] = mapped_column(
        ForeignKey("activities_status_set.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Resource(EntityMixin, Base):
    """A room, car, laptop... that activities book (ACT-06)."""

    __tablename__ = "activities_resource"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="room")
    capacity: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Activity(EntityMixin, Base):
    """A task, call, meeting, e-mail, SMS, letter, fax or visit."""

    __tablename__ = "activities_activity"
    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at >= starts_at",
                        name="ends_after_start"),
        CheckConstraint("state IN ('open', 'done', 'cancelled')", name="state"),
        Index("ix_activities_activity_state_responsible", "state", "responsible_id"),
        # One exception per occurrence of a series, however many writers race.
        UniqueConstraint("series_id", "recurrence_id"),
        # The activities of one record (its panel and timeline) are one index scan.
        Index("ix_activities_activity_about", "about_type", "about_id"),
    )

    type_id: Mapped[int] = mapped_column(
        ForeignKey("activities_type.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    state: Mapped[str] = mapped_column(String(12), nullable=False, default=OPEN, index=True)
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    all_day: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: IANA zone the times were given in; recurrences repeat at its wall-clock time
    timezone: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(300))
    private: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: who has to complete it (the owner is who keeps the record)
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: RFC 5545 RRULE value, e.g. ``FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10``
    rrule: Mapped[str | None] = mapped_column(String(500))
    #: occurrence starts (ISO 8601, UTC) left out of the recurrence (EXDATE)
    exdates: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: extra occurrence starts (ISO 8601, UTC) besides the rule's (RDATE)
    rdates: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: attendees of an imported event that match no user, person or resource:
    #: ``[{"email", "name", "status"}]``, kept so they are not lost and go back out
    external_attendees: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    #: first start and last end over all occurrences (derived; NULL end: no end)
    span_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    span_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: minutes before the start (or due time) to remind, e.g. [15, 1440]
    reminders: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities_activity.id", ondelete="SET NULL"), index=True
    )
    #: the account and person the activity is mainly about (also participants)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    #: the record the activity is about: any entity type declared with ``about=True``
    #: (an account, person, lead, opportunity, quote... of any plugin), by type name and
    #: id; no foreign key since the table depends on the type (checked on every write)
    about_type: Mapped[str | None] = mapped_column(String(60))
    about_id: Mapped[int | None] = mapped_column(Integer)
    #: UID of an imported iCalendar event: importing it again updates this row (an
    #: imported exception: ``UID#<RECURRENCE-ID in UTC>``, see :func:`ical.exception_key`)
    external_uid: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: the recurring activity one of whose occurrences this activity replaces (an
    #: exception: RFC 5545 RECURRENCE-ID); the series skips that occurrence (EXDATE)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities_activity.id", ondelete="SET NULL"), index=True
    )
    #: the original start (UTC) of the occurrence this exception replaces
    recurrence_id: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the mass action that created it (one per segment run)
    mass_batch: Mapped[str | None] = mapped_column(String(36), index=True)

    participant_rows: Mapped[list[Participant]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Participant.id",
        lazy="selectin",
    )

    # ``participants`` is the list the API reads and writes (a virtual field):
    # [{"kind": "user", "id": 3, "status": "accepted"}, {"kind": "resource", "id": 1}].
    # Values arrive checked and normalised by the validate hook.
    @property
    def participants(self) -> list[dict]:
        return [
            {"kind": p.kind, "id": p.ref_id, "status": p.status} for p in self.participant_rows
        ]

    @participants.setter
    def participants(self, items) -> None:
        existing = {(p.kind, p.ref_id): p for p in self.participant_rows}
        rows = []
        for item in items or ():
            key = (item["kind"], item["id"])
            row = existing.pop(key, None)
            if row is None:
                row = Participant(kind=item["kind"])
                row.ref_id = item["id"]
                row.status = item.get("status") or NEEDS_ACTION
            elif item.get("status") and item["status"] != row.status:
                row.status = item["status"]
                row.responded_at = utcnow()
            rows.append(row)
        self.participant_rows = rows

    # ``type_code`` lets an import file or an API client name the type by its code
    # ("meeting") instead of its id; the validate hook turns it into ``type_id``.
    @property
    def type_code(self) -> str | None:
        db = object_session(self)
        atype = db.get(ActivityType, self.type_id) if db is not None and self.type_id else None
        return atype.code if atype is not None else None

    @type_code.setter
    def type_code(self, value) -> None:
        pass  # never reached: validation replaces it by type_id

    # ``attendees`` lets an import give the ORGANIZER and ATTENDEEs of an .ics event
    # (``[{"email", "name", "cutype", "status"}]``); the validate hook matches them to
    # participants and keeps the others in ``external_attendees``.
    @property
    def attendees(self) -> None:
        return None

    @attendees.setter
    def attendees(self, value) -> None:
        pass  # never reached: validation replaces it by participants

    def ids_of(self, kind: str) -> list[int]:
        return [p.ref_id for p in self.participant_rows if p.kind == kind]


class Participant(IdMixin, Base):
    """A user, person, account or resource taking part in an activity (ACT-11); users
    answer invitations (ACT-04). One reference column per kind keeps foreign keys."""

    __tablename__ = "activities_participant"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'user' AND user_id IS NOT NULL AND person_id IS NULL AND account_id IS NULL"
            " AND resource_id IS NULL)"
            " OR (kind = 'person' AND person_id IS NOT NULL AND user_id IS NULL"
            " AND account_id IS NULL AND resource_id IS NULL)"
            " OR (kind = 'account' AND account_id IS NOT NULL AND user_id IS NULL"
            " AND person_id IS NULL AND resource_id IS NULL)"
            " OR (kind = 'resource' AND resource_id IS NOT NULL AND user_id IS NULL"
            " AND person_id IS NULL AND account_id IS NULL)",
            name="one_reference",
        ),
    )

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities_activity.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), index=True
    )
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities_resource.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=NEEDS_ACTION)
    responded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    activity: Mapped[Activity] = relationship(back_populates="participant_rows")

    @property
    def ref_id(self) -> int:
        return getattr(self, f"{self.kind}_id")

    @ref_id.setter
    def ref_id(self, value: int) -> None:
        setattr(self, f"{self.kind}_id", value)


class Booking(IdMixin, Base):
    """A resource's occupied time for one occurrence of an activity. Derived from the
    activity's resource participants; overlaps of one resource are refused by the
    database (see the migration)."""

    __tablename__ = "activities_booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="positive"),
        Index("ix_activities_booking_resource_starts", "resource_id", "starts_at"),
    )

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("activities_resource.id", ondelete="CASCADE"), nullable=False
    )
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities_activity.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class Reminder(IdMixin, Base):
    """A reminder that was sent: the unique key makes each one go out exactly once."""

    __tablename__ = "activities_reminder"
    __table_args__ = (
        UniqueConstraint("activity_id", "user_id", "occurrence_at", "offset_minutes"),
    )

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities_activity.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    occurrence_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    offset_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    remind_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class FeedToken(IdMixin, Base):
    """A secret iCalendar feed address of a user's or a resource's calendar. Only the
    token's SHA-256 is kept; revoking it ends the feed."""

    __tablename__ = "activities_feed_token"

    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(String(8), nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: the resource whose bookings the feed shows; NULL: the user's own calendar
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities_resource.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
