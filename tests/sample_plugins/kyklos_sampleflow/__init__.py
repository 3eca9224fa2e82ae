"""A sample plugin for the workflow engine and jobs: an entity type with a status,
dates and a parent, its workflow (guards, required fields, two-level approval), job
types the job tests run in real worker processes, a message channel and an automation
action type."""

import datetime as dt
import time

from sqlalchemy import Date, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Base,
    EntityMixin,
    Plugin,
    SoftDeleteMixin,
    UTCDateTime,
    create_record,
    hookimpl,
)

plugin = Plugin(id="sampleflow", title="Sample flow", requires_core=">=0.1")


class Ticket(EntityMixin, SoftDeleteMixin, Base):
    __tablename__ = "sampleflow_ticket"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str | None] = mapped_column(String(30))
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    amount: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sampleflow_ticket.id", ondelete="SET NULL"), index=True
    )


VERBS = ("read", "create", "update", "delete", "export", "import")

WORKFLOW = dict(
    states=[
        {"name": "new", "title": "New"},
        {"name": "open", "title": "Open"},
        {"name": "done", "title": "Done"},
        {"name": "closed", "title": "Closed"},
    ],
    initial="new",
    transitions=[
        {"name": "start", "source": "new", "target": "open"},
        {"name": "finish", "source": "open", "target": "done"},
        {"name": "reopen", "source": ["done"], "target": "open"},
        # WF-05: only the director closes, and only with a closing date
        {"name": "close", "source": "done", "target": "closed", "roles": ["director"],
         "required": ["closed_on"]},
        # WF-02: writing a ticket off needs the line manager, then all of finance
        {"name": "write_off", "source": ["new", "open"], "target": "closed",
         "approval": {"levels": [{"approvers": ["manager"], "mode": "any"},
                                 {"approvers": ["role:finance"], "mode": "all"}],
                      "notify": ["role:director"]}},
    ],
)


# --- jobs the tests run in real worker processes -------------------------------------------


def slow_job(ctx, tag, count=5, pause=0.5):
    """Create ``count`` tickets named ``tag-i`` slowly, in the job's one transaction."""
    for i in range(count):
        ctx.dbsession.add(Ticket(name=f"{tag}-{i}", status="new", custom={}))
        ctx.dbsession.flush()
        ctx.progress(100 * (i + 1) / count, f"{i + 1} of {count}")
        time.sleep(pause)
    return {"created": count}


def mark_job(ctx, tag):
    ctx.dbsession.add(Ticket(name=tag, status="new", custom={}))
    return {"job": ctx.job_id}


def flaky_job(ctx, tag, fail_times=1):
    """Fails its first ``fail_times`` attempts; then creates one ticket."""
    ctx.dbsession.add(Ticket(name=f"{tag}-attempt-{ctx.attempt}", status="new", custom={}))
    ctx.dbsession.flush()
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"failing on purpose (attempt {ctx.attempt})")
    return {"attempt": ctx.attempt}


def count_job(ctx, prefix):
    n = ctx.dbsession.execute(
        select(func.count(Ticket.id)).where(Ticket.name.like(f"{prefix}%"))
    ).scalar_one()
    return {"count": n}


# --- a message channel and an action type --------------------------------------------------


class Outbox:
    """An SMS-like channel that keeps what it "sends" (in this process)."""

    id = "sampleflow.sms"
    title = "SMS (sample)"

    def __init__(self):
        self.sent = []

    def send(self, request, recipient, subject, body):
        to = getattr(recipient, "email", recipient)
        self.sent.append((to, subject, body))


class CreateTicket:
    """An action type from a plugin: create a follow-up ticket ("a task the day
    after the meeting")."""

    type = "sampleflow.create_ticket"
    title = "Create a follow-up ticket"

    def validate(self, registry, entity_type, config):
        return [] if isinstance(config.get("name"), str) and config["name"] else [
            "sampleflow.create_ticket needs a name"
        ]

    def describe(self, request, entity_type, record, config):
        return f"create ticket {config['name']!r} owned by the record's owner"

    def run(self, request, entity_type, record, config, run):
        # The ordinary write path (hooks, history, rules firing in turn), with the
        # rights of the rule's author.
        days = int(config.get("due_in_days", 1))
        due = (record.due_at or dt.datetime.now(dt.UTC)) + dt.timedelta(days=days)
        t = create_record(
            request,
            request.registry.kyklos_entities["ticket"],
            {"name": config["name"].replace("$name", record.name), "due_at": due.isoformat(),
             "owner_id": record.owner_id},
            source="job",
        )
        return {"ticket": t.id}


class Hooks:
    def __init__(self, outbox):
        self.outbox = outbox

    @hookimpl
    def kyklos_message_channels(self):
        return [self.outbox]

    @hookimpl
    def kyklos_automation_actions(self):
        return [CreateTicket()]


def includeme(config):
    config.add_entity_type(
        Ticket,
        "ticket",
        title="Ticket",
        plural="Tickets",
        list_columns=("name", "status", "due_at"),
        filters=("name", "status", "parent_id", "owner_id"),
        sort=("name",),
        search=("name",),
    )
    perms = [f"sampleflow.ticket.{v}" for v in VERBS]
    config.add_role("ticketeer", "Ticket worker", perms)
    config.add_role("director", "Director", perms)
    config.add_role("finance", "Finance", ["sampleflow.ticket.read"])
    for role in ("ticketeer", "director"):
        config.add_record_rule("ticket", role, "read", "all")
        config.add_record_rule("ticket", role, "write", "all")
        config.add_record_rule("ticket", role, "delete", "all")
    config.add_record_rule("ticket", "finance", "read", "all")
    config.add_workflow("ticket", **WORKFLOW)
    config.add_job("sampleflow.slow", slow_job, retries=2, retry_delay=1)
    config.add_job("sampleflow.mark", mark_job, title="Mark a ticket")
    config.add_job("sampleflow.flaky", flaky_job, retries=2, retry_delay=2)
    config.add_job("sampleflow.count", count_job)
    outbox = Outbox()
    config.registry.sampleflow_outbox = outbox
    config.add_hooks(Hooks(outbox), name="kyklos_sampleflow.hooks")
