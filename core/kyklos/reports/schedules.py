"""Report delivery by e-mail: daily, weekly (Mondays) or monthly (the 1st), in the
recipient's language and with the recipient's rights at the time it is sent.

An hourly periodic job (``kyklos.reports.deliver``, durable like every job) finds the
schedules due in each recipient's own time zone (from 06:00 on their day) and sends
each one in a request of its own, acting as the recipient: the report is computed with
their record rules and field permissions, and a report they may no longer see - or one
naming a field they may not read - is not sent (the reason is logged and kept on the
schedule). The day is recorded in the same transaction as the mail is queued, and the
mail leaves after it commits: a schedule is sent at most once per period.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import escape
from sqlalchemy import Boolean, Date, ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, TimestampMixin
from kyklos.entities import RecordError
from kyklos.i18n import _

log = logging.getLogger("kyklos.reports")

FREQUENCIES = ("daily", "weekly", "monthly")
FREQUENCY_WORDS = {
    "daily": _("Every day"),
    "weekly": _("Every Monday"),
    "monthly": _("On the 1st of every month"),
}
SEND_FROM_HOUR = 6


class ReportSchedule(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyklos_report_schedule"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False
    )
    frequency: Mapped[str] = mapped_column(String(10), nullable=False)
    #: the mail carries the report as a PDF document (chart and table) besides its table
    attach_pdf: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    #: the recipient's day it was last sent (their time zone)
    last_sent_on: Mapped[dt.date | None] = mapped_column(Date)
    #: why the last run did not send (words for the report's editors), or empty
    last_error: Mapped[str] = mapped_column(String(500), nullable=False, default="")


def _zone(user) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_due(frequency: str, last: dt.date | None, local_now: dt.datetime) -> bool:
    """Whether a schedule is due at the recipient's ``local_now``."""
    today = local_now.date()
    if local_now.hour < SEND_FROM_HOUR or last == today:
        return False
    if frequency == "daily":
        return True
    if frequency == "weekly":
        # Monday, or a Monday missed while the server was down
        return last is None or (today - last).days >= 7 or today.weekday() == 0 and last < today
    return last is None or (last.year, last.month) != (today.year, today.month)


def add_schedule(request, rep, data) -> ReportSchedule:
    """``{user_id, frequency, attach_pdf}``: the report's author (or an administrator) has it sent
    to someone who may open it. Raises :class:`RecordError`."""
    from kyklos.security.models import User

    errors = {}
    data = data if isinstance(data, dict) else {}
    freq = data.get("frequency")
    if freq not in FREQUENCIES:
        errors["frequency"] = _("Use daily, weekly or monthly.")
    attach = data.get("attach_pdf", False)
    if not isinstance(attach, bool):
        errors["attach_pdf"] = _("Send true or false.")
    uid = data.get("user_id")
    user = (
        request.dbsession.get(User, uid)
        if isinstance(uid, int) and not isinstance(uid, bool) and 0 < uid < 2**31
        else None
    )
    if user is None or not user.is_active:
        errors["user_id"] = _("Unknown person.")
    elif not (
        user.id == rep.created_by_id
        or user.id in (rep.shared_users or [])
        or {r.name for r in user.roles} & set(rep.shared_roles or [])
    ):
        errors["user_id"] = _("Share the report with this person first.")
    if errors:
        raise RecordError(errors, title=_("Invalid schedule"))
    existing = request.dbsession.execute(
        select(ReportSchedule).where(
            ReportSchedule.report_id == rep.id, ReportSchedule.user_id == user.id
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.frequency, existing.attach_pdf = freq, attach
        return existing
    sched = ReportSchedule(
        report_id=rep.id, user_id=user.id, frequency=freq, attach_pdf=attach, last_error=""
    )
    request.dbsession.add(sched)
    request.dbsession.flush()
    return sched


def schedules_of(request, rep) -> list[ReportSchedule]:
    return list(
        request.dbsession.execute(
            select(ReportSchedule)
            .where(ReportSchedule.report_id == rep.id)
            .order_by(ReportSchedule.id)
        ).scalars()
    )


def render_mail(request, rep, res) -> tuple[str, str, str]:
    """``(subject, text, html)`` of a report's result, in the request's language."""
    from kyklos.reports import views

    t = request.localizer.translate
    table = views.table_of(request, res)
    url = request.route_url("report", id=rep.id)
    subject = t(_("Report: ${name}", mapping={"name": rep.name}))
    lines = [rep.name, ""]
    lines.append(" | ".join(table["heads"]))
    for r in table["rows"]:
        lines.append(" | ".join([*r["groups"], *r["values"]]))
    if not table["rows"]:
        lines.append(t(_("No records match.")))
    lines += ["", t(_("Open the report: ${url}", mapping={"url": url}))]
    head = "".join(f"<th>{escape(h)}</th>" for h in table["heads"])
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(g)}</td>" for g in r["groups"])
        + "".join(f'<td style="text-align:right">{escape(v)}</td>' for v in r["values"])
        + "</tr>"
        for r in table["rows"]
    )
    html = (
        f"<h1>{escape(rep.name)}</h1>"
        f'<table border="1" cellpadding="4" cellspacing="0"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
        f'<p><a href="{escape(url)}">{escape(t(_("Open the report")))}</a></p>'
    )
    return subject, "\n".join(lines), html


def send_one(registry, schedule_id: int, now: dt.datetime) -> bool:
    """Send one schedule if it is due, acting as its recipient. Returns whether sent."""
    from kyklos.jobs import job_request
    from kyklos.mail import send_mail
    from kyklos.problem import Problem
    from kyklos.reports import Report, engine, may_see
    from kyklos.security.models import User

    with job_request(registry, None) as request:
        sched = request.dbsession.get(ReportSchedule, schedule_id)
        if sched is None:
            return False
        user_id = sched.user_id
    with job_request(registry, user_id) as request:
        db = request.dbsession
        sched = db.get(ReportSchedule, schedule_id)
        user = db.get(User, user_id)
        rep = db.get(Report, sched.report_id)
        local_now = now.astimezone(_zone(user))
        if not user.is_active or not is_due(sched.frequency, sched.last_sent_on, local_now):
            return False
        sched.last_sent_on = local_now.date()
        if not may_see(request, rep):
            sched.last_error = request.localizer.translate(
                _("The recipient may no longer open this report.")
            )
            log.info("report %s not sent to user %s: no longer visible", rep.id, user_id)
            return False
        try:
            spec = engine.parse_spec(request, rep.spec)
        except Problem as exc:
            reasons = "; ".join(request.localizer.translate(v) for v in (exc.errors or {}).values())
            sched.last_error = reasons[:500]
            log.info("report %s not sent to user %s: %s", rep.id, user_id, reasons)
            return False
        res = engine.run(request, spec)
        subject, text, html = render_mail(request, rep, res)
        attachments = []
        if sched.attach_pdf:
            from kyklos.reports import pdf

            safe = "".join(c for c in rep.name if c.isalnum() or c in "-_ ")[:60].strip()
            attachments.append(
                (f"{safe or 'report'}.pdf", "application/pdf", pdf.render(request, rep.name, res))
            )
        send_mail(request, user.email, subject, text, html, attachments=attachments)
        sched.last_error = ""
        return True


def deliver_due(ctx, now: str | None = None):
    """The periodic job: send every schedule due now."""
    when = dt.datetime.fromisoformat(now) if now else dt.datetime.now(dt.UTC)
    ids = list(
        ctx.dbsession.execute(select(ReportSchedule.id).order_by(ReportSchedule.id)).scalars()
    )
    sent = 0
    for sid in ids:
        try:
            sent += send_one(ctx.registry, sid, when)
        except Exception:  # noqa: BLE001 - one failing schedule must not stop the others
            log.exception("report schedule %s failed", sid)
    return {"schedules": len(ids), "sent": sent}
