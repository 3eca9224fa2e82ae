"""The helpdesk's entity types: cases (HD-01..05, HD-14), their types, the support teams
and their members, the assignment rules that route a new case, and links between
related cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import available_timezones

# Our foreign keys name tables of the plugins helpdesk depends on: their models come with
# ours, so the shared metadata can always resolve those keys (a process that imports
# helpdesk alone, such as a test run collecting one plugin, held dangling keys and could
# not sort the tables).
import kyklos_catalog.models  # noqa: F401
import kyklos_contacts.models  # noqa: F401
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, JSONType, RelatedList, SoftDeleteMixin, UTCDateTime

from . import _


class Contract(EntityMixin, SoftDeleteMixin, Base):
    """A support or maintenance contract of a customer (HD-07..10): its term, renewal
    terms, and a bank of hours (or call units) that time logged on the customer's cases
    consumes; ``used`` is kept by the time entries' hooks."""

    __tablename__ = "helpdesk_contract"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    starts_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    renewal: Mapped[str] = mapped_column(String(10), nullable=False, default="manual")
    unit: Mapped[str] = mapped_column(String(10), nullable=False, default="hours")
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, default=0)
    used: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False, default=0)
    overage: Mapped[str] = mapped_column(String(10), nullable=False, default="bill")
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_slapolicy.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    #: scheduled maintenance visits (HD-11): monthly, quarterly, halfyearly, yearly or none
    visit_frequency: Mapped[str | None] = mapped_column(String(12))

    @property
    def balance(self) -> Decimal:
        return (self.quantity or Decimal(0)) - (self.used or Decimal(0))


class TimeEntry(EntityMixin, Base):
    """Time spent on a case (hours, or call units for a contract counted in calls); it
    consumes the bank of the case's contract."""

    __tablename__ = "helpdesk_timeentry"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="CASCADE"), nullable=False, index=True
    )
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_contract.id", ondelete="SET NULL"), index=True
    )
    spent_on: Mapped[dt.date] = mapped_column(Date, nullable=False, index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False)
    note: Mapped[str | None] = mapped_column(String(250))
    #: over the contract's bank when logged (billed by the overage rule)
    overage: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class CaseType(EntityMixin, Base):
    """Complaint, request, incident, question: data values (an administrator may add
    more), shown in the user's language like activity types."""

    __tablename__ = "helpdesk_casetype"

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class BusinessHours(EntityMixin, Base):
    """A week template of working hours in a time zone, with the public holidays of a
    country off: the clock SLA targets of a team's cases run on."""

    __tablename__ = "helpdesk_businesshours"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="UTC")
    #: whose public holidays are days off (ISO 3166 code); empty: none
    country: Mapped[str | None] = mapped_column(String(2))
    #: working spans per weekday, [{"day": "sat", "opens": "09:00", "closes": "13:00"}]
    #: (kyklos_helpdesk.hours); a day without a span is closed
    week: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)


class SlaPolicy(EntityMixin, Base):
    """First-response and resolution targets, in business hours of the case's team.
    The first active policy (by position) whose priority and type match a case is its
    policy; an empty condition matches any case."""

    __tablename__ = "helpdesk_slapolicy"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    priority: Mapped[str | None] = mapped_column(String(10))
    type_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_casetype.id", ondelete="CASCADE"), index=True
    )
    first_response_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    resolution_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))


class Team(EntityMixin, Base):
    """A support team. New cases routed to it go to its members in turn (round-robin);
    ``last_assigned_id`` remembers whose turn it was."""

    __tablename__ = "helpdesk_team"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_assigned_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    #: the clock of its cases' SLA targets; empty: round the clock
    hours_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_businesshours.id", ondelete="SET NULL"), index=True
    )


class TeamMember(EntityMixin, Base):
    """A user who takes cases of a team. ``available`` off: skipped by the round-robin
    (on leave), still a member."""

    __tablename__ = "helpdesk_teammember"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="helpdesk_teammember_once"),)

    team_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_team.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: the user's name, kept by the save hook: the record's title in lists and pickers
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class AssignmentRule(EntityMixin, Base):
    """Routes a new case without a team: the first active rule (by position) whose
    conditions all hold gives the team, and the assignee if it names one; otherwise the
    team's members take turns. Empty conditions match every case."""

    __tablename__ = "helpdesk_assignmentrule"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    type_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_casetype.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="CASCADE"), index=True
    )
    #: the customer's country (the account's, else the contact's): a territory
    country: Mapped[str | None] = mapped_column(String(2))
    team_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_team.id", ondelete="CASCADE"), nullable=False, index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


class CaseSequence(Base):
    """The last case number given per year: one row per year, locked while a number is
    taken, so two cases never share one."""

    __tablename__ = "helpdesk_case_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Case(EntityMixin, SoftDeleteMixin, Base):
    """A customer's complaint, request, incident or question. ``owner_id`` is the
    assignee; ``status`` moves only through the workflow."""

    __tablename__ = "helpdesk_case"

    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    subject: Mapped[str] = mapped_column(String(250), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    type_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_casetype.id", ondelete="RESTRICT"), index=True
    )
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="normal", index=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False, default="phone")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="new", index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="SET NULL"), index=True
    )
    serial_number: Mapped[str | None] = mapped_column(String(100), index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_team.id", ondelete="SET NULL"), index=True
    )
    #: the e-mail a case opened from a message came from, and the message's id (a reply
    #: to the same thread is not a new case)
    from_email: Mapped[str | None] = mapped_column(String(254))
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="SET NULL"), index=True
    )
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: SLA (HD-03/04): the policy chosen when the case opened and its due times
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_slapolicy.id", ondelete="SET NULL"), index=True
    )
    first_response_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: business minutes left to the resolution target while waiting on the customer (the
    #: clock stops; ``resolution_due`` is empty meanwhile, so no escalation fires)
    sla_paused_minutes: Mapped[int | None] = mapped_column(Integer)
    #: the contract whose bank its time consumes and whose SLA policy applies
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_contract.id", ondelete="SET NULL"), index=True
    )
    #: the satisfaction survey (HD-16): sent once when closed, answered once
    survey_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer, index=True)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CaseLink(EntityMixin, Base):
    """Two related cases (the same fault at two customers, a follow-up). Stored once;
    each case lists the other."""

    __tablename__ = "helpdesk_caselink"
    __table_args__ = (
        UniqueConstraint("case_id", "related_id", name="helpdesk_caselink_once"),
        CheckConstraint("case_id <> related_id", name="not_itself"),
    )

    case_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="CASCADE"), nullable=False, index=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="CASCADE"), nullable=False, index=True
    )
    note: Mapped[str | None] = mapped_column(String(250))
    #: the related case's number and subject, kept by the save hook: the link's title
    title: Mapped[str] = mapped_column(String(300), nullable=False, default="")


PRIORITIES = [
    ("low", _("Low")),
    ("normal", _("Normal")),
    ("high", _("High")),
    ("urgent", _("Urgent")),
]
CHANNELS = [
    ("portal", _("Portal")),
    ("email", _("E-mail")),
    ("phone", _("Phone")),
    ("webform", _("Web form")),
    ("scanner", _("Scanner")),
]
STATUSES = [
    ("new", _("New")),
    ("assigned", _("Assigned")),
    ("waiting", _("Waiting on customer")),
    ("resolved", _("Resolved")),
    ("closed", _("Closed")),
]
OPEN_STATUSES = ("new", "assigned", "waiting")
RENEWALS = [
    ("none", _("Ends without renewal")),
    ("manual", _("Renewed on request")),
    ("auto", _("Renews automatically")),
]
UNITS = [("hours", _("Hours")), ("calls", _("Call units"))]
VISIT_FREQUENCIES = [
    ("monthly", _("Monthly")),
    ("quarterly", _("Quarterly")),
    ("halfyearly", _("Twice a year")),
    ("yearly", _("Yearly")),
]
OVERAGES = [
    ("bill", _("Bill the extra time")),
    ("refuse", _("Refuse time beyond the bank")),
]
RATINGS = [
    (5, _("Excellent")),
    (4, _("Good")),
    (3, _("Fair")),
    (2, _("Poor")),
    (1, _("Very poor")),
]
ZONES = [(z, z) for z in sorted(z for z in available_timezones() if "/" in z or z == "UTC")]
COUNTRY = {
    "title": _("Country"),
    "max_length": 2,
    "description": _("ISO 3166 country code, e.g. GR, RO, PL; empty: any country"),
}


def includeme(config):
    config.add_entity_type(
        BusinessHours,
        "businesshours",
        lookup=True,
        title=_("Business hours"),
        plural=_("Business hours"),
        slug="business-hours",
        title_field="name",
        list_columns=("name", "timezone", "country", "week"),
        filters=("name", "timezone", "country"),
        sort=("name",),
        search=("name",),
        fields={
            "name": {"title": _("Name")},
            "timezone": {
                "title": _("Time zone"),
                "type": "choice",
                "choices": ZONES,
                "default": "Europe/Athens",
            },
            "country": {
                **COUNTRY,
                "title": _("Public holidays of"),
                "description": _("ISO 3166 country code, e.g. GR, RO, PL; empty: no holidays"),
            },
            "week": {
                "title": _("Working hours"),
                "display": "businessweek",
                "description": _("One row per day and span; a day without a row is closed"),
            },
        },
        default_sort="name",
        menu_group=None,
        icon="clock",
    )
    config.add_entity_type(
        SlaPolicy,
        "slapolicy",
        title=_("SLA policy"),
        plural=_("SLA policies"),
        slug="sla-policies",
        title_field="name",
        list_columns=(
            "position",
            "name",
            "priority",
            "type_id",
            "first_response_hours",
            "resolution_hours",
            "active",
        ),
        filters=("name", "priority", "type_id", "active"),
        sort=("position", "name"),
        search=("name",),
        fields={
            "name": {"title": _("Name")},
            "position": {
                "title": _("Position"),
                "description": _("Policies are tried from the lowest position up."),
            },
            "active": {"title": _("Active"), "default": True},
            "priority": {
                "title": _("Priority"),
                "type": "choice",
                "choices": PRIORITIES,
                "description": _("Empty: any priority"),
            },
            "type_id": {"title": _("Case type"), "description": _("Empty: any type")},
            "first_response_hours": {
                "title": _("First response within (business hours)"),
                "description": _("Empty: no first-response target"),
            },
            "resolution_hours": {
                "title": _("Resolution within (business hours)"),
                "description": _("Empty: no resolution target"),
            },
        },
        default_sort="position",
        menu_group=None,
        icon="stopwatch",
    )
    config.add_entity_type(
        CaseType,
        "casetype",
        lookup=True,
        title=_("Case type"),
        plural=_("Case types"),
        slug="case-types",
        title_field="name",
        primary_filters=("name", "active"),
        list_columns=("position", "name", "code", "active"),
        filters=("name", "code", "active"),
        sort=("position", "name"),
        search=("name", "code"),
        fields={
            "code": {"title": _("Code")},
            "name": {"title": _("Name")},
            "position": {"title": _("Position")},
            "active": {"title": _("Active"), "default": True},
        },
        default_sort="position",
        menu_group=None,
        icon="tags",
    )
    config.add_entity_type(
        Team,
        "supportteam",
        lookup=True,
        title=_("Support team"),
        plural=_("Support teams"),
        slug="support-teams",
        title_field="name",
        subtitle_field="lead_id",
        primary_filters=("name", "lead_id", "active"),
        list_columns=("name", "lead_id", "email", "active"),
        filters=("name", "lead_id", "active"),
        sort=("position", "name"),
        search=("name",),
        readonly=("last_assigned_id",),
        fields={
            "name": {"title": _("Name")},
            "lead_id": {"title": _("Team lead")},
            "email": {"title": _("E-mail"), "type": "email"},
            "active": {"title": _("Active"), "default": True},
            "position": {"title": _("Position")},
            "last_assigned_id": {"title": _("Last case went to")},
            "hours_id": {
                "title": _("Business hours"),
                "description": _("The clock of its cases' SLA targets; empty: round the clock."),
            },
        },
        related=(
            RelatedList("supportteammember", "team_id", _("Members")),
            RelatedList("case", "team_id", _("Cases")),
        ),
        default_sort="position",
        menu_group=None,
        icon="people",
    )
    config.add_entity_type(
        TeamMember,
        "supportteammember",
        title=_("Team member"),
        plural=_("Team members"),
        slug="support-team-members",
        title_field="name",
        subtitle_field="team_id",
        readonly=("name",),
        list_columns=("team_id", "user_id", "available"),
        filters=("team_id", "user_id", "available"),
        sort=("team_id",),
        fields={
            "team_id": {"title": _("Team")},
            "user_id": {"title": _("User")},
            "name": {"title": _("Name")},
            "available": {
                "title": _("Takes new cases"),
                "default": True,
                "description": _("Off while on leave: the others take the new cases."),
            },
        },
        menu_group=None,
        icon="person-badge",
    )
    config.add_entity_type(
        AssignmentRule,
        "caserule",
        title=_("Assignment rule"),
        plural=_("Assignment rules"),
        slug="case-assignment-rules",
        title_field="name",
        subtitle_field="team_id",
        primary_filters=("name", "team_id", "active"),
        list_columns=(
            "position",
            "name",
            "type_id",
            "product_id",
            "country",
            "team_id",
            "assignee_id",
            "active",
        ),
        filters=("name", "team_id", "type_id", "product_id", "country", "active"),
        sort=("position", "name"),
        search=("name",),
        fields={
            "name": {"title": _("Name")},
            "position": {
                "title": _("Position"),
                "description": _("Rules are tried from the lowest position up."),
            },
            "active": {"title": _("Active"), "default": True},
            "type_id": {"title": _("Case type"), "description": _("Empty: any type")},
            "product_id": {"title": _("Product"), "description": _("Empty: any product")},
            "country": COUNTRY,
            "team_id": {"title": _("Team")},
            "assignee_id": {
                "title": _("Assignee"),
                "description": _("Empty: the team's members take turns."),
            },
        },
        default_sort="position",
        menu_group=None,
        icon="signpost-split",
    )
    config.add_entity_type(
        Case,
        "case",
        about=True,
        # SEC-04: territory rules place a case by its customer's country
        territory_field=("account.country", "person.country"),
        title=_("Case"),
        plural=_("Cases"),
        slug="cases",
        title_field="subject",
        subtitle_field="number",
        primary_filters=("status", "priority", "type_id", "team_id", "owner_id", "account_id"),
        # the report of failures filters cases on their type's code (kyklos_helpdesk.reports)
        related_filters={"type.code": "type_id"},
        list_columns=(
            "number",
            "subject",
            "account_id",
            "type_id",
            "priority",
            "status",
            "resolution_due",
            "team_id",
            "owner_id",
            "created_at",
        ),
        filters=(
            "number",
            "subject",
            "type_id",
            "priority",
            "channel",
            "status",
            "account_id",
            "person_id",
            "product_id",
            "serial_number",
            "team_id",
            "owner_id",
            "merged_into_id",
            "created_at",
            "resolved_at",
            "closed_at",
            "contract_id",
            "sla_policy_id",
            "first_response_due",
            "resolution_due",
            "rating",
        ),
        sort=(
            "number",
            "priority",
            "status",
            "created_at",
            "updated_at",
            "closed_at",
            "first_response_due",
            "resolution_due",
            "rating",
        ),
        search=("number", "subject", "serial_number", "from_email"),
        readonly=(
            "number",
            "merged_into_id",
            "resolved_at",
            "closed_at",
            "from_email",
            "message_id",
            "sla_policy_id",
            "first_response_due",
            "first_response_at",
            "resolution_due",
            "sla_paused_minutes",
            "survey_sent_at",
            "rating",
            "rating_comment",
            "rated_at",
        ),
        fields={
            "number": {"title": _("Number")},
            "subject": {"title": _("Subject")},
            "description": {"title": _("Description")},
            "type_id": {"title": _("Type")},
            "priority": {
                "title": _("Priority"),
                "type": "choice",
                "choices": PRIORITIES,
                "default": "normal",
            },
            "channel": {
                "title": _("Channel"),
                "type": "choice",
                "choices": CHANNELS,
                "default": "phone",
            },
            "status": {
                "title": _("Status"),
                "type": "choice",
                "choices": STATUSES,
                "default": "new",
            },
            "account_id": {"title": _("Account")},
            "person_id": {"title": _("Contact")},
            "product_id": {"title": _("Product")},
            "serial_number": {"title": _("Serial number")},
            "team_id": {
                "title": _("Team"),
                "description": _("Empty: the assignment rules choose."),
            },
            "owner_id": {"title": _("Assignee")},
            "from_email": {"title": _("From e-mail"), "type": "email"},
            # mail plumbing: the thread's Message-ID and the SLA clock's saved minutes
            # are read by the mail intake and the SLA job, not by people
            "message_id": {"title": _("Message id"), "form": False},
            "merged_into_id": {"title": _("Merged into")},
            "resolved_at": {"title": _("Resolved at")},
            "closed_at": {"title": _("Closed at")},
            "sla_policy_id": {"title": _("SLA policy")},
            "first_response_due": {"title": _("First response due")},
            "first_response_at": {"title": _("First response at")},
            "resolution_due": {"title": _("Resolution due")},
            "sla_paused_minutes": {"title": _("SLA minutes left while paused"), "form": False},
            "contract_id": {
                "title": _("Contract"),
                "description": _("Empty: the customer's contract running today, if any."),
            },
            "survey_sent_at": {"title": _("Survey sent at")},
            "rating": {"title": _("Customer's rating"), "type": "choice", "choices": RATINGS},
            "rating_comment": {"title": _("Customer's comment")},
            "rated_at": {"title": _("Rated at")},
        },
        related=(
            RelatedList("timeentry", "case_id", _("Time spent")),
            RelatedList("partusage", "case_id", _("Parts used")),
            RelatedList("caselink", "case_id", _("Related cases")),
            RelatedList("case", "merged_into_id", _("Merged cases")),
        ),
        default_sort="-created_at",
        menu_order=40,
        icon="life-preserver",
        description=_("Customers' complaints, requests, incidents and questions"),
    )
    config.add_entity_type(
        CaseLink,
        "caselink",
        title=_("Related case"),
        plural=_("Related cases"),
        slug="case-links",
        title_field="title",
        subtitle_field="case_id",
        readonly=("title",),
        list_columns=("related_id", "note", "case_id"),
        filters=("case_id", "related_id"),
        sort=("created_at",),
        fields={
            "case_id": {"title": _("Case")},
            "related_id": {"title": _("Related case")},
            "note": {"title": _("How they relate")},
            "title": {"title": _("Title")},
        },
        menu_group=None,
        icon="link-45deg",
    )
    config.add_entity_type(
        Contract,
        "supportcontract",
        about=True,
        title=_("Support contract"),
        plural=_("Support contracts"),
        slug="support-contracts",
        title_field="name",
        subtitle_field="account_id",
        primary_filters=("name", "account_id", "ends_on"),
        list_columns=("name", "account_id", "starts_on", "ends_on", "unit", "quantity", "used"),
        filters=("name", "account_id", "starts_on", "ends_on", "renewal", "unit", "overage"),
        sort=("name", "starts_on", "ends_on", "created_at"),
        search=("name",),
        readonly=("used",),
        territory_field=("account.country",),
        fields={
            "name": {"title": _("Name")},
            "account_id": {"title": _("Customer")},
            "starts_on": {"title": _("Starts on")},
            "ends_on": {"title": _("Ends on"), "description": _("Empty: open-ended")},
            "renewal": {
                "title": _("Renewal"),
                "type": "choice",
                "choices": RENEWALS,
                "default": "manual",
            },
            "unit": {
                "title": _("Counted in"),
                "type": "choice",
                "choices": UNITS,
                "default": "hours",
            },
            "quantity": {"title": _("Bank (hours or calls)")},
            "used": {"title": _("Used")},
            "overage": {
                "title": _("Beyond the bank"),
                "type": "choice",
                "choices": OVERAGES,
                "default": "bill",
            },
            "visit_frequency": {
                "title": _("Maintenance visits"),
                "type": "choice",
                "choices": VISIT_FREQUENCIES,
                "description": _("Visits are planned in the calendar for the contract's term"),
            },
            "sla_policy_id": {
                "title": _("SLA policy"),
                "description": _("Empty: the policies chosen by priority and type."),
            },
            "notes": {"title": _("Notes")},
        },
        related=(
            RelatedList("timeentry", "contract_id", _("Time spent")),
            RelatedList("case", "contract_id", _("Cases")),
        ),
        default_sort="-starts_on",
        menu_order=41,
        icon="file-earmark-check",
        description=_("Support and maintenance contracts with their bank of hours"),
    )
    config.add_entity_type(
        TimeEntry,
        "timeentry",
        title=_("Time spent"),
        plural=_("Time spent"),
        slug="case-time",
        title_field="note",
        subtitle_field="case_id",
        list_columns=("spent_on", "case_id", "quantity", "note", "owner_id", "overage"),
        filters=("case_id", "contract_id", "spent_on", "owner_id", "overage"),
        sort=("spent_on", "created_at"),
        readonly=("contract_id", "overage"),
        fields={
            "case_id": {"title": _("Case")},
            "contract_id": {"title": _("Contract")},
            "spent_on": {"title": _("Date")},
            "quantity": {"title": _("Hours or calls")},
            "note": {"title": _("What was done")},
            "owner_id": {"title": _("By")},
            "overage": {"title": _("Beyond the bank")},
        },
        default_sort="-spent_on",
        menu_group=None,
        icon="hourglass-split",
    )
