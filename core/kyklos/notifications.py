"""In-app notifications with an e-mail copy, and reminders at a given time.

``notify(request, user_ids, title, body, url)`` adds a notification for each user in the
request's transaction and, per each user's preference, sends an e-mail copy after the
commit. ``remind(request, user_id, when, title, ...)`` does the same at ``when`` (a
durable delayed job; reminders survive restarts). Plugins reach both through
``request.notify(...)`` and ``request.remind(...)``.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import Boolean, ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, UTCDateTime, utcnow
from kyklos.i18n import _, translate_for
from kyklos.problem import Problem
from kyklos.security.models import User
from kyklos.sitesettings import public_base_url

log = logging.getLogger("kyklos.notifications")

PAGE = 50


class Notification(IdMixin, Base):
    __tablename__ = "kyklos_notification"
    __table_args__ = (Index("ix_kyklos_notification_user_read", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(50), nullable=False, default="info")
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    #: a same-site path (or absolute URL of this site) to open
    url: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "read_at": self.read_at.isoformat() if self.read_at else None,
        }


class NotificationSetting(Base):
    """A user's choice: an e-mail copy of each notification (default yes)."""

    __tablename__ = "kyklos_notification_setting"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), primary_key=True
    )
    email_copy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


# --- sending ---------------------------------------------------------------------------------


def _text(request, value, limit, locale_name: str | None = None) -> str:
    if value is None:
        return ""
    return str(translate_for(request, value, locale_name))[:limit]


def _absolute(request, url: str) -> str:
    if not url or url.startswith(("http://", "https://")):
        return url
    base = public_base_url(request)
    return base + url


def notify(
    request,
    user_ids,
    title,
    body="",
    url: str = "",
    kind: str = "info",
    email: bool | None = None,
) -> list[int]:
    """Notify ``user_ids`` (an id or a list). ``email``: None follows each user's
    preference, True/False forces it. Returns the new notification ids."""
    from kyklos.mail import MailError, send_mail

    if isinstance(user_ids, int):
        user_ids = [user_ids]
    ids = list(dict.fromkeys(int(u) for u in user_ids if u))
    if not ids:
        return []
    db = request.dbsession
    url_s = str(url or "")[:1000]
    users = db.execute(select(User).where(User.id.in_(ids), User.is_active.is_(True))).scalars()
    prefs = dict(
        db.execute(
            select(NotificationSetting.user_id, NotificationSetting.email_copy).where(
                NotificationSetting.user_id.in_(ids)
            )
        ).all()
    )
    out = []
    for user in users:
        # In the recipient's language: the sender's may not be theirs.
        title_s = _text(request, title, 300, user.locale)
        body_s = _text(request, body, 20000, user.locale)
        n = Notification(
            user_id=user.id, kind=str(kind)[:50], title=title_s, body=body_s, url=url_s
        )
        db.add(n)
        wants = prefs.get(user.id, True) if email is None else email
        if wants and user.email:
            link = _absolute(request, url_s)
            text = body_s + (f"\n\n{link}\n" if link else "\n")
            try:
                send_mail(request, user.email, title_s, text)
                n.emailed_at = utcnow()
            except MailError:
                log.warning("notification e-mail to user %s not sent: bad address", user.id)
        out.append(n)
    out += _hand_over(request, out, ids, kind, url_s)
    db.flush()
    return [n.id for n in out]


def _hand_over(request, sent, ids, kind, url_s) -> list:
    """In-app copies for the deputies of recipients who are away (SEC-03): during a
    delegation the deputy sees what reaches the absent person, marked as theirs."""
    from kyklos.security.delegation import deputies_now

    away = deputies_now(request.dbsession, [n.user_id for n in sent])
    copies, done = [], set(ids)
    for n in sent:
        for deputy in away.get(n.user_id, ()):
            if deputy.id in done:
                continue
            done.add(deputy.id)
            absent = request.dbsession.get(User, n.user_id)
            title = _("For ${name}: ${title}", mapping={"name": absent.title, "title": n.title})
            c = Notification(
                user_id=deputy.id,
                kind=str(kind)[:50],
                title=_text(request, title, 300, deputy.locale),
                body=n.body,
                url=url_s,
            )
            request.dbsession.add(c)
            copies.append(c)
    return copies


def _notify_job(ctx, user_ids, title, body="", url="", kind="reminder", email=None):
    return {"notified": notify(ctx.request, user_ids, title, body, url, kind, email)}


def remind(
    request,
    user_ids,
    when: dt.datetime,
    title,
    body="",
    url: str = "",
    key: str | None = None,
    kind: str = "reminder",
) -> str:
    """Notify ``user_ids`` at ``when`` (aware). With ``key``, a second call with the same
    key moves the waiting reminder instead of adding another. Returns the job id."""
    from kyklos import jobs
    from kyklos.jobs.models import CLAIMABLE, Job

    if isinstance(user_ids, int):
        user_ids = [user_ids]
    args = {
        "user_ids": [int(u) for u in user_ids],
        "title": _text(request, title, 300),
        "body": _text(request, body, 20000),
        "url": str(url or "")[:1000],
        "kind": kind,
    }
    if key is not None:
        key = f"remind:{key}"[:255]
        found = request.dbsession.execute(
            select(Job.id, Job.state).where(Job.key == key)
        ).first()
        if found is not None:
            if found.state in CLAIMABLE:
                jobs.reschedule(request, found.id, when, args)
            return found.id
    return jobs.enqueue(request, "kyklos.notify", args=args, key=key, eta=when, user_id=None)


def cancel_reminder(request, key: str) -> bool:
    """Cancel a waiting reminder by its key. Returns whether one was cancelled."""
    from kyklos import jobs
    from kyklos.jobs.models import Job

    job_id = request.dbsession.execute(
        select(Job.id).where(Job.key == f"remind:{key}"[:255])
    ).scalar_one_or_none()
    return bool(job_id) and jobs.cancel(request, job_id)


def unread_count(request) -> int:
    ident = request.identity
    if ident is None:
        return 0
    return request.dbsession.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == ident.user.id, Notification.read_at.is_(None)
        )
    ).scalar_one()


# --- views -----------------------------------------------------------------------------------


def _mine(request, unread_only=False, limit=PAGE):
    stmt = (
        select(Notification)
        .where(Notification.user_id == request.identity.user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return request.dbsession.execute(stmt).scalars().all()


def _mark_read(request, nid=None) -> int:
    stmt = update(Notification).where(
        Notification.user_id == request.identity.user.id, Notification.read_at.is_(None)
    )
    if nid is not None:
        stmt = stmt.where(Notification.id == nid)
    return request.dbsession.execute(
        stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount


def _nid(request) -> int:
    try:
        nid = int(request.matchdict["id"])
    except ValueError:
        raise Problem(404, _("Not found")) from None
    if nid > 2**31 - 1:
        # past the id column: the database would refuse the comparison
        raise Problem(404, _("Not found"))
    return nid


def _setting(request) -> NotificationSetting:
    uid = request.identity.user.id
    row = request.dbsession.get(NotificationSetting, uid)
    if row is None:
        row = NotificationSetting(user_id=uid, email_copy=True)
        request.dbsession.add(row)
    return row


def page(request):
    if request.method == "POST":
        what = request.POST.get("action")
        if what == "read-all":
            _mark_read(request)
        elif what == "read":
            try:
                _mark_read(request, int(request.POST.get("id", "")))
            except ValueError:
                pass
        elif what == "settings":
            _setting(request).email_copy = request.POST.get("email_copy") == "1"
            request.session.flash(_("Settings saved."), "success")
        return HTTPSeeOther(request.route_url("notifications"))
    return {
        "title": _("Notifications"),
        "items": _mine(request, limit=200),
        "email_copy": _setting(request).email_copy,
    }


def api_list(request):
    unread = request.params.get("unread") in ("1", "true")
    return {
        "items": [n.as_dict() for n in _mine(request, unread_only=unread)],
        "unread": unread_count(request),
    }


def api_read(request):
    nid = _nid(request)
    n = request.dbsession.get(Notification, nid)
    if n is None or n.user_id != request.identity.user.id:
        raise Problem(404, _("Not found"))
    _mark_read(request, nid)
    return {"id": nid, "unread": unread_count(request)}


def api_read_all(request):
    return {"marked": _mark_read(request), "unread": 0}


def api_settings(request):
    row = _setting(request)
    if request.method == "PUT":
        from kyklos.entities.api import read_json

        body = read_json(request)
        errors = {str(k)[:100]: _("Unknown key.") for k in body if k != "email_copy"}
        if not isinstance(body.get("email_copy"), bool):
            errors["email_copy"] = _("true or false")
        if errors:
            raise Problem(400, _("Invalid data"), errors=errors)
        row.email_copy = body["email_copy"]
    return {"email_copy": row.email_copy}


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    item = o.obj(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "url": {"type": "string"},
            "created_at": o.DATETIME,
            "read_at": {"type": ["string", "null"], "format": "date-time"},
        },
        ["id", "kind", "title", "body", "url", "created_at", "read_at"],
    )
    setting = o.obj({"email_copy": {"type": "boolean"}}, ["email_copy"])
    tag = "Notifications"
    return {
        "/api/v1/_notifications": {
            "get": o.operation(
                tag,
                "list_notifications",
                {
                    "200": o.json_ok(
                        o.obj(
                            {"items": o.array(item), "unread": {"type": "integer"}},
                            ["items", "unread"],
                        )
                    ),
                    **o.problems("401"),
                },
                summary=f"Your latest {PAGE} notifications, newest first",
                parameters=[
                    o.param("unread", {"type": "string", "enum": ["0", "1", "true", "false"]})
                ],
            )
        },
        "/api/v1/_notifications/read-all": {
            "post": o.operation(
                tag,
                "read_all_notifications",
                {
                    "200": o.json_ok(
                        o.obj(
                            {"marked": {"type": "integer"}, "unread": {"const": 0}},
                            ["marked", "unread"],
                        )
                    ),
                    **o.problems("401"),
                },
            )
        },
        "/api/v1/_notifications/settings": {
            "get": o.operation(
                tag, "get_notification_settings", {"200": o.json_ok(setting), **o.problems("401")}
            ),
            "put": o.operation(
                tag,
                "set_notification_settings",
                {"200": o.json_ok(setting), **o.problems("400", "401", "413", "415")},
                summary="Whether each notification is also e-mailed to you",
                body=o.json_body(setting),
            ),
        },
        "/api/v1/_notifications/{id}/read": {
            "post": o.operation(
                tag,
                "read_notification",
                {
                    "200": o.json_ok(
                        o.obj(
                            {"id": {"type": "integer"}, "unread": {"type": "integer"}},
                            ["id", "unread"],
                        )
                    ),
                    **o.problems("401", "404"),
                },
                parameters=[o.path_id()],
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_job("kyklos.notify", _notify_job, retries=3, title=_("Send a reminder"))
    config.add_request_method(notify, "notify")
    config.add_request_method(remind, "remind")
    config.add_request_method(
        lambda request: unread_count(request), "unread_notifications", reify=True
    )
    tpl = "kyklos:web/templates/"
    config.add_route("notifications", "/notifications")
    config.add_view(page, route_name="notifications", renderer=tpl + "notifications.pt")
    config.add_route("api.notifications", "/api/v1/_notifications", request_method="GET")
    config.add_view(api_list, route_name="api.notifications", renderer="json")
    config.add_route(
        "api.notifications.read_all", "/api/v1/_notifications/read-all", request_method="POST"
    )
    config.add_view(api_read_all, route_name="api.notifications.read_all", renderer="json")
    config.add_route(
        "api.notifications.settings",
        "/api/v1/_notifications/settings",
        request_method=("GET", "PUT"),
    )
    config.add_view(api_settings, route_name="api.notifications.settings", renderer="json")
    config.add_route(
        "api.notification.read", r"/api/v1/_notifications/{id:\d+}/read", request_method="POST"
    )
    config.add_view(api_read, route_name="api.notification.read", renderer="json")
