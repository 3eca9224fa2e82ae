"""Retail coupons (MKT-12): one code per campaign and person, readable aloud and typed
at a till without mistakes (no 0/O, 1/I/L), the ``{{ coupon }}`` merge field of the
campaign's messages, redeemed once through the API or by hand on the campaign's coupons
page, and counted in the campaign's results.

Redeeming is one conditional ``UPDATE ... WHERE redeemed_at IS NULL AND not expired``:
of two concurrent redeems of one code the database lets exactly one through, the other
gets 409. Redeeming again with the same ``reference`` (an order number, or the
``Idempotency-Key`` header) answers the first redemption again: a till that retries
after a lost answer does not see "used already" for its own sale.
"""

from __future__ import annotations

import datetime as dt
import secrets

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Action,
    Base,
    EntityMixin,
    Problem,
    RecordError,
    UTCDateTime,
    entity_permissions,
    format_date,
    format_datetime,
    format_number,
    get_entity_type,
    get_record,
    hookimpl,
    read_json,
    utcnow,
    visible_select,
)

from . import _

#: capitals and digits that cannot be taken for one another when read or typed
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: 8 characters: 31**8 (about 850 billion) codes, so guessing one is hopeless
LENGTH = 8
PERMS = entity_permissions("campaigns", "campaigncoupon")
STATES = [
    ("valid", _("Valid")),
    ("redeemed", _("Redeemed")),
    ("expired", _("Expired")),
]


class Coupon(EntityMixin, Base):
    """A coupon of one campaign for one person."""

    __tablename__ = "campaigns_coupon"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id", name="campaigns_coupon_once"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns_campaign.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: the person's name when issued: the coupon's title in lists
    name: Mapped[str] = mapped_column(String(250), nullable=False, default="")
    #: stored as shown ("ABCD-EFGH"), unique over all campaigns
    code: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    redeemed_by_id: Mapped[int | None] = mapped_column(Integer)
    #: the order number or idempotency key of the redemption
    reference: Mapped[str | None] = mapped_column(String(100))


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _i in range(LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str | None:
    """What a person typed ("abcd efgh", "ABCDEFGH") as stored, or ``None`` when it
    cannot be a code."""
    raw = "".join(ch for ch in (code or "").upper() if ch not in " -")
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:]}"


def state_of(coupon: Coupon, now: dt.datetime | None = None) -> str:
    if coupon.redeemed_at is not None:
        return "redeemed"
    if coupon.expires_at is not None and coupon.expires_at <= (now or utcnow()):
        return "expired"
    return "valid"


def generate(request, campaign, expires_at: dt.datetime | None) -> int:
    """A coupon for each person the campaign reaches (its recipients once sent, else
    its list now) who has none yet; returns how many were made. Codes are drawn at
    random and checked against the unique index, so two runs never share one."""
    from .models import Recipient, TargetList
    from .targets import resolve

    db = request.dbsession
    people = db.execute(
        select(Recipient.person_id, Recipient.name).where(Recipient.campaign_id == campaign.id)
    ).all()
    if not people:
        tl = db.get(TargetList, campaign.list_id) if campaign.list_id else None
        if tl is None:
            raise RecordError({"list_id": _("Choose the target list.")})
        channel = "sms" if campaign.channel != "email" else "email"
        people = [(pid, name) for pid, _a, name, _l in resolve(request, tl, channel).members]
    have = set(
        db.execute(select(Coupon.person_id).where(Coupon.campaign_id == campaign.id)).scalars()
    )
    made = 0
    now = utcnow()
    for pid, name in people:
        if pid in have:
            continue
        for _try in range(10):
            code = new_code()
            try:
                with db.begin_nested():
                    db.add(
                        Coupon(
                            campaign_id=campaign.id,
                            person_id=pid,
                            name=name or "",
                            code=code,
                            expires_at=expires_at,
                            owner_id=campaign.owner_id,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                    db.flush()
            except IntegrityError:
                continue  # the code exists already (one in 850 billion): draw again
            made += 1
            have.add(pid)
            break
    return made


def coupon_values(db, campaign_id: int, person_id: int) -> dict:
    """The ``coupon`` merge field of a person's message (nothing when they have none:
    ``{{ coupon | default("...") }}`` then applies)."""
    code = db.execute(
        select(Coupon.code).where(Coupon.campaign_id == campaign_id, Coupon.person_id == person_id)
    ).scalar()
    return {"coupon": code} if code else {}


def counts(request, campaign_id: int) -> dict:
    """Coupons issued and redeemed, of those the user may see (record rules)."""
    et = get_entity_type(request, "campaigncoupon")
    if not request.has_permission(et.permission("read")):
        return {"issued": 0, "redeemed": 0}
    sub = visible_select(request, et).where(Coupon.campaign_id == campaign_id).subquery()
    issued, redeemed = request.dbsession.execute(
        select(func.count(), func.count(sub.c.redeemed_at))
    ).one()
    return {"issued": int(issued or 0), "redeemed": int(redeemed or 0)}


class RedeemRefused(Exception):
    def __init__(self, status: int, message):
        super().__init__(str(message))
        self.status = status
        self.message = message


def redeem(request, code: str, reference: str | None) -> Coupon:
    """Redeem ``code`` (record rules: the user must be allowed to update the coupon).
    Raises :class:`HTTPNotFound` for an unknown or invisible code and
    :class:`RedeemRefused` for a used or expired one."""
    db = request.dbsession
    et = get_entity_type(request, "campaigncoupon")
    norm = normalise(code)
    if norm is None:
        raise HTTPNotFound()
    cid = db.execute(select(Coupon.id).where(Coupon.code == norm)).scalar()
    if cid is None:
        raise HTTPNotFound()
    get_record(request, et, cid, action="update")
    now = utcnow()
    done = db.execute(
        update(Coupon)
        .where(
            Coupon.id == cid,
            Coupon.redeemed_at.is_(None),
            or_(Coupon.expires_at.is_(None), Coupon.expires_at > now),
        )
        .values(
            redeemed_at=now,
            redeemed_by_id=request.authenticated_userid,
            reference=reference,
            updated_at=now,
            version=Coupon.version + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    coupon = db.get(Coupon, cid)
    db.refresh(coupon)
    if done == 1:
        return coupon
    if coupon.redeemed_at is not None:
        if reference and coupon.reference == reference:
            return coupon  # the same redemption asked again: the same answer
        raise RedeemRefused(409, _("This coupon was used already."))
    raise RedeemRefused(409, _("This coupon has expired."))


def _body(request, coupon: Coupon) -> dict:
    from .models import Campaign

    campaign = request.dbsession.get(Campaign, coupon.campaign_id)
    return {
        "id": coupon.id,
        "code": coupon.code,
        "campaign_id": coupon.campaign_id,
        "campaign": campaign.name if campaign else None,
        "person_id": coupon.person_id,
        "name": coupon.name,
        "state": state_of(coupon),
        "expires_at": coupon.expires_at.isoformat() if coupon.expires_at else None,
        "redeemed_at": coupon.redeemed_at.isoformat() if coupon.redeemed_at else None,
        "reference": coupon.reference,
    }


# --- API -------------------------------------------------------------------------------


def _campaign(request, action="read"):
    et = get_entity_type(request, "campaign")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def _expiry(request, raw) -> dt.datetime | None:
    """A "valid until" date (the user's day, inclusive) as the UTC instant it ends."""
    from zoneinfo import ZoneInfo

    if raw in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(str(raw))
    except ValueError:
        raise RecordError({"valid_until": _("A date, such as 2026-12-31.")}) from None
    ident = getattr(request, "identity", None)
    tz = getattr(getattr(ident, "user", None), "timezone", None) or "UTC"
    try:
        zone = ZoneInfo(str(tz))
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    if end <= utcnow():
        raise RecordError({"valid_until": _("The date has passed.")})
    return end.astimezone(dt.UTC)


def api_generate(request):
    """``POST /api/v1/campaigns/{id}/coupons`` ``{"valid_until": "2026-12-31"}``: a
    coupon for each person the campaign reaches; answers how many were made."""
    _et, campaign = _campaign(request, "update")
    if not request.has_permission(PERMS["update"]):
        raise Problem(403, _("Forbidden"))
    body = read_json(request) if request.body else {}
    try:
        made = generate(request, campaign, _expiry(request, body.get("valid_until")))
    except RecordError as exc:
        raise Problem(400, _("Invalid parameters"), errors=exc.errors) from None
    return {"created": made, **counts(request, campaign.id)}


def api_redeem(request):
    """``POST /api/v1/campaign-coupons/{code}/redeem`` ``{"reference": "order 123"}``."""
    body = read_json(request) if request.body else {}
    reference = body.get("reference") or request.headers.get("Idempotency-Key") or None
    if reference is not None and (not isinstance(reference, str) or len(reference) > 100):
        raise Problem(
            400, _("Invalid parameters"), errors={"reference": _("At most 100 characters.")}
        )
    try:
        coupon = redeem(request, request.matchdict["code"], reference)
    except HTTPNotFound:
        raise Problem(404, _("Not found"), errors={"code": _("No such coupon.")}) from None
    except RedeemRefused as exc:
        raise Problem(exc.status, _("Coupon refused"), errors={"code": exc.message}) from None
    return _body(request, coupon)


# --- the campaign's coupons page --------------------------------------------------------


def coupons_page(request):
    et, campaign = _campaign(request)
    cet = get_entity_type(request, "campaigncoupon")
    tr = request.localizer.translate
    errors: dict = {}
    url = request.route_url("campaigns.coupons", id=campaign.id)
    can_update = request.has_permission(PERMS["update"]) and request.has_permission(
        et.permission("update")
    )
    if request.method == "POST":
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["form"] = _("The form expired; send it again.")
        elif request.POST.get("do") == "generate" and can_update:
            try:
                made = generate(
                    request, campaign, _expiry(request, request.POST.get("valid_until"))
                )
            except RecordError as exc:
                errors = exc.errors
            else:
                request.session.flash(
                    request.localizer.pluralize(
                        "${n} coupon made",
                        "${n} coupons made",
                        made,
                        domain="kyklos_campaigns",
                        mapping={"n": made},
                    ),
                    "success",
                )
                return HTTPFound(url)
        elif request.POST.get("do") == "redeem" and request.has_permission(PERMS["update"]):
            try:
                coupon = redeem(request, request.POST.get("code", ""), None)
            except HTTPNotFound:
                errors["code"] = _("No such coupon.")
            except RedeemRefused as exc:
                errors["code"] = exc.message
            else:
                request.session.flash(
                    tr(
                        _(
                            "Coupon ${code} of ${name} redeemed.",
                            mapping={"code": coupon.code, "name": coupon.name},
                        )
                    ),
                    "success",
                )
                return HTTPFound(url)
    rows = []
    found = request.dbsession.execute(
        visible_select(request, cet)
        .where(Coupon.campaign_id == campaign.id)
        .order_by(Coupon.name, Coupon.id)
        .limit(500)
    ).scalars()
    now = utcnow()
    for c in found:
        rows.append(
            {
                "name": c.name,
                "person_url": request.route_url("entity.detail", slug="persons", id=c.person_id),
                "code": c.code,
                "state": tr(dict(STATES)[state_of(c, now)]),
                "expires": format_date(request, c.expires_at - dt.timedelta(seconds=1))
                if c.expires_at
                else "",
                "redeemed": format_datetime(request, c.redeemed_at, "short")
                if c.redeemed_at
                else "",
            }
        )
    n = counts(request, campaign.id)
    return {
        "title": _("Coupons: ${name}", mapping={"name": campaign.name}),
        "campaign": campaign,
        "detail_url": request.route_url("entity.detail", slug=et.slug, id=campaign.id),
        "list_url": request.route_url("entity.list", slug=et.slug),
        "results_url": request.route_url("campaigns.results", id=campaign.id),
        "rows": rows,
        "issued": format_number(request, n["issued"]),
        "redeemed": format_number(request, n["redeemed"]),
        "errors": {k: tr(v) for k, v in errors.items()},
        "can_generate": can_update,
        "can_redeem": request.has_permission(PERMS["update"]),
        "valid_until": request.POST.get("valid_until", "") if request.method == "POST" else "",
    }


class CouponHooks:
    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name != "campaign" or not request.has_permission(PERMS["read"]):
            return None
        return [Action(_("Coupons"), request.route_url("campaigns.coupons", id=record.id))]


def includeme(config):
    config.add_entity_type(
        Coupon,
        "campaigncoupon",
        title=_("Coupon"),
        plural=_("Coupons"),
        slug="campaign-coupons",
        title_field="code",
        subtitle_field="name",
        primary_filters=("campaign_id", "code"),
        list_columns=("code", "name", "campaign_id", "expires_at", "redeemed_at"),
        filters=("campaign_id", "person_id", "code", "expires_at", "redeemed_at"),
        sort=("code", "name", "expires_at", "redeemed_at"),
        search=("code", "name"),
        readonly=(
            "campaign_id",
            "person_id",
            "name",
            "code",
            "expires_at",
            "redeemed_at",
            "redeemed_by_id",
            "reference",
        ),
        fields={
            "campaign_id": {"title": _("Campaign")},
            "person_id": {"title": _("Person")},
            "name": {"title": _("Name")},
            "code": {"title": _("Code")},
            "expires_at": {"title": _("Valid until")},
            "redeemed_at": {"title": _("Redeemed at")},
            "redeemed_by_id": {"title": _("Redeemed by"), "form": False},
            "reference": {"title": _("Order reference")},
        },
        menu_group=None,
        icon="ticket-perforated",
    )
    # issued by the "make coupons" action only, never typed in: no create, no delete
    for role in ("campaignmanager", "manager"):
        config.extend_role(role, [PERMS["read"], PERMS["update"], PERMS["export"]])
        for action in ("read", "write"):
            config.add_record_rule("campaigncoupon", role, action, "all")
    # a rep (or a shop's till user) redeems coupons
    config.extend_role("sales", [PERMS["read"], PERMS["update"]])
    config.add_record_rule("campaigncoupon", "sales", "read", "all")
    config.add_record_rule("campaigncoupon", "sales", "write", "all")
    config.add_hooks(CouponHooks(), name="kyklos_campaigns.coupons")
    ID = r"{id:\d{1,18}}"  # noqa: N806 - a route pattern, as in views
    config.add_route(
        "campaigns.api.coupons.generate", f"/api/v1/campaigns/{ID}/coupons", request_method="POST"
    )
    config.add_route(
        "campaigns.api.coupons.redeem",
        r"/api/v1/campaign-coupons/{code:[A-Za-z0-9 -]{1,20}}/redeem",
        request_method="POST",
    )
    config.add_route("campaigns.coupons", f"/campaigns/{ID}/coupons")
    config.add_view(
        api_generate,
        route_name="campaigns.api.coupons.generate",
        renderer="json",
        permission=PERMS["update"],
    )
    config.add_view(
        api_redeem,
        route_name="campaigns.api.coupons.redeem",
        renderer="json",
        permission=PERMS["update"],
    )
    config.add_view(
        coupons_page,
        route_name="campaigns.coupons",
        renderer="kyklos_campaigns:templates/coupons.pt",
        permission=PERMS["read"],
    )
