"""Portal logins: invite (by e-mail, through the core mail sender), accept (choose a
password by the core rules), disable, re-enable and reset. Staff call these from the
record page, the administration page and the API alike."""

from __future__ import annotations

from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.entities.service import get_record
from kyklos.i18n import _
from kyklos.mail import MailError, send_mail
from kyklos.portal.identity import PORTAL_ROLE
from kyklos.portal.models import PortalAccount
from kyklos.problem import Problem
from kyklos.security.audit import log_event
from kyklos.security.auth import end_user_sessions, find_user
from kyklos.security.models import Role, User
from kyklos.security.reset import create_reset
from kyklos.settings import asint
from kyklos.sitesettings import public_base_url


def identity_type(request):
    """The entity type portal users are tied to, or a 404 problem when no enabled
    plugin declared one (the portal is then off)."""
    decl = request.registry.kyklos_portal.identity
    if decl is None:
        raise Problem(404, _("The customer portal is not enabled"))
    return decl, request.registry.kyklos_entities[decl.entity]


def account_of_record(db, entity: str, record_id: int) -> PortalAccount | None:
    return db.execute(
        select(PortalAccount).where(
            PortalAccount.entity == entity, PortalAccount.record_id == record_id
        )
    ).scalar_one_or_none()


def send_link(request, acc: PortalAccount, first: bool) -> None:
    settings = request.registry.settings
    seconds = asint(settings, "kyklos.portal.invite_seconds")
    user = acc.user
    token = create_reset(request.dbsession, user, seconds)
    link = public_base_url(request) + request.route_path("portal.welcome", _query={"token": token})
    site = request.layout.site_name
    tr = request.localizer.translate
    days = max(1, seconds // 86400)
    if first:
        subject = tr(_("Your access to the ${site} customer portal", mapping={"site": site}))
        text = tr(
            _(
                "Hello ${name},\n\n${site} invites you to its customer portal, where you "
                "can see your company's details and documents.\n\nTo choose your password, "
                "open this link within ${days} days:\n${link}\n\nThe link works once. "
                "Afterwards, log in at ${login}\n",
                mapping={
                    "name": user.name or user.email,
                    "site": site,
                    "days": days,
                    "link": link,
                    "login": public_base_url(request) + request.route_path("portal.login"),
                },
            )
        )
    else:
        subject = tr(_("Choose a new password for the ${site} portal", mapping={"site": site}))
        text = tr(
            _(
                "Hello ${name},\n\nTo choose a new password for the ${site} customer "
                "portal, open this link within ${days} days:\n${link}\n\nThe link works "
                "once. If you did not ask for this, ignore this message.\n",
                mapping={"name": user.name or user.email, "site": site, "days": days, "link": link},
            )
        )
    send_mail(request, user.email, subject, text)


def invite(request, record_id) -> PortalAccount:
    """Invite the person ``record_id`` (of the portal identity type) to the portal:
    create their login (or renew the link of a pending one) and e-mail the link.
    Raises :class:`Problem` naming the field at fault."""
    decl, et = identity_type(request)
    try:
        rid = int(record_id)
    except (TypeError, ValueError):
        raise Problem(400, _("Invalid data"), errors={"record_id": _("Choose a record.")}) from None
    record = get_record(request, et, rid)  # staff must see the person (else 404)
    db = request.dbsession
    email = (getattr(record, decl.email_field, None) or "").strip()
    errors = {}
    if not email:
        errors["record_id"] = _("This person has no e-mail address: add one first.")
    elif getattr(record, decl.customer_field, None) is None:
        errors["record_id"] = _("This person belongs to no customer: link them to one first.")
    acc = account_of_record(db, et.name, rid)
    if not errors and acc is not None and acc.disabled_at is not None:
        errors["record_id"] = _("This person's portal login is disabled: re-enable it.")
    if not errors and acc is None:
        other = find_user(db, email)
        if other is not None and not other.is_portal:
            errors["record_id"] = _("This e-mail address belongs to a staff login.")
        elif other is not None:
            errors["record_id"] = _("This e-mail address already opens another portal login.")
    if errors:
        raise Problem(400, _("The person cannot be invited"), errors=errors)
    ident = request.identity
    if acc is None:
        role = db.execute(select(Role).where(Role.name == PORTAL_ROLE)).scalar_one_or_none()
        user = User(
            email=email.lower(),
            name=et.record_title(record)[:200],
            is_portal=True,
            is_active=True,
            locale=ident.user.locale,
            timezone=ident.user.timezone,
        )
        if role is not None:
            user.roles = [role]
        db.add(user)
        db.flush()
        acc = PortalAccount(
            user_id=user.id,
            entity=et.name,
            record_id=rid,
            invited_by_id=ident.user.id,
            invited_at=utcnow(),
        )
        db.add(acc)
        db.flush()
        db.refresh(acc)
    else:
        acc.invited_at = utcnow()
        acc.invited_by_id = ident.user.id
    try:
        send_link(request, acc, first=acc.accepted_at is None)
    except MailError:
        raise Problem(
            400,
            _("The person cannot be invited"),
            errors={"record_id": _("This person's e-mail address cannot receive mail.")},
        ) from None
    log_event(request, "portal.invited", user_id=acc.user_id, record=rid)
    return acc


def _get(request, account_id) -> PortalAccount:
    try:
        acc = request.dbsession.get(PortalAccount, int(account_id))
    except (TypeError, ValueError):
        acc = None
    if acc is None:
        raise Problem(404, _("Not found"))
    # staff who may not see the person may not manage their login either
    decl, et = identity_type(request)
    get_record(request, et, acc.record_id)
    return acc


def set_enabled(request, account_id, enabled: bool) -> PortalAccount:
    acc = _get(request, account_id)
    if enabled:
        acc.disabled_at = None
        acc.user.is_active = True
    elif acc.disabled_at is None:
        acc.disabled_at = utcnow()
        acc.user.is_active = False
        end_user_sessions(request, acc.user_id)
    log_event(request, "portal.enabled" if enabled else "portal.disabled", user_id=acc.user_id)
    return acc


def reset(request, account_id) -> PortalAccount:
    """Send a new link to choose a password (the old password keeps working until the
    customer uses it; a pending invitation's link is renewed)."""
    acc = _get(request, account_id)
    if acc.disabled_at is not None:
        raise Problem(
            400,
            _("The login is disabled"),
            errors={"id": _("This person's portal login is disabled: re-enable it.")},
        )
    send_link(request, acc, first=acc.accepted_at is None)
    log_event(request, "portal.reset_sent", user_id=acc.user_id)
    return acc


def as_json(request, acc: PortalAccount) -> dict:
    _decl, et = identity_type(request)
    record = request.dbsession.get(et.model, acc.record_id)
    return {
        "id": acc.id,
        "record_id": acc.record_id,
        "record_title": et.record_title(record) if record is not None else None,
        "email": acc.user.email,
        "status": acc.status,
        "invited_at": acc.invited_at.isoformat() if acc.invited_at else None,
        "accepted_at": acc.accepted_at.isoformat() if acc.accepted_at else None,
        "last_login_at": acc.user.last_login_at.isoformat() if acc.user.last_login_at else None,
    }
