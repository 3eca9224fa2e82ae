"""Product releases (HD-15): the versions of a catalog product, which customers run
which version (an installed product's "Version"), and a notice to the customers of a
product when one of its releases is published.

Publishing (the "Publish and notify customers" button, ``POST
/api/v1/releases/{id}/publish``, or ticking "Published" on the form) queues the
``helpdesk.release_notices`` background job, which e-mails every contact with an
address at the accounts (and every person) with the product installed, each in their
own language, reporting its progress; the release's "Release notices" page follows it.

Each address is *claimed* in ``helpdesk_release_notice`` (unique release + address)
in a committed transaction before its mail goes out, then marked sent or failed: two
senders at once (two workers, a double click on the button) never mail one person
twice, and publishing again tells only those not told yet (and those whose mail
failed). The notices show on the release's and the contact's timeline.
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    LANGUAGES,
    Action,
    Base,
    EntityMixin,
    Panel,
    Problem,
    TimelineItem,
    UTCDateTime,
    entity_permissions,
    get_entity_type,
    get_record,
    hookimpl,
    serialize,
    translate_for,
    utcnow,
    visible_select,
)

from . import _
from .mailing import Recipient, send_claimed

#: the installed product's version: a reference to one of its product's releases
FIELD = "helpdesk_release"
#: the catalog's product field on the installed product (kyklos_catalog.installed)
PRODUCT_FIELD = "catalog_product"
PERMS = entity_permissions("helpdesk", "release")
ID = r"{id:\d{1,18}}"


class Release(EntityMixin, Base):
    """A version of a catalog product: its date, release notes and whether it is
    published (customers are told once it is)."""

    __tablename__ = "helpdesk_release"
    __table_args__ = (UniqueConstraint("product_id", "name", name="helpdesk_release_once"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="CASCADE"), nullable=False, index=True
    )
    #: the version's name ("2.4.1"); ``version`` is the record's lock counter
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    released_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: how many customers' contacts were told (kept by the notices)
    notified: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ReleaseNotice(Base):
    """One e-mail about one release to one address (lower-cased): the claim a sender
    takes before it mails (``state`` "sending", by ``job_id``), then its outcome
    ("sent" or "failed" with the ``error``). The unique key is what lets only one of
    two concurrent senders take an address."""

    __tablename__ = "helpdesk_release_notice"
    __table_args__ = (UniqueConstraint("release_id", "email", name="helpdesk_release_notice_once"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_release.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="sent")
    job_id: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))


# --- who runs the product ----------------------------------------------------------------


def installed_of(request, product_id: int, release_id: int | None = None):
    """The active installed products of a catalog product the user may see (those
    running ``release_id`` when given)."""
    et = get_entity_type(request, "installedproduct")
    if not request.has_permission(et.permission("read")):
        return []
    model = et.model
    stmt = visible_select(request, et).where(
        model.custom[PRODUCT_FIELD].as_integer() == product_id, model.active.is_(True)
    )
    if release_id is not None:
        stmt = stmt.where(model.custom[FIELD].as_integer() == release_id)
    return list(request.dbsession.execute(stmt.order_by(model.id)).scalars())


def recipients(request, release: Release) -> list[tuple[str, int | None, int | None, str | None]]:
    """``(email, person_id, account_id, language)`` of everyone to tell: the contacts
    with an e-mail of each account with the product installed, and each person who
    owns one; an address once."""
    from kyklos_contacts.models import Person

    rows = installed_of(request, release.product_id)
    accounts = {r.account_id for r in rows if r.account_id}
    people = {r.person_id for r in rows if r.person_id}
    if not accounts and not people:
        return []
    pet = get_entity_type(request, "person")
    q = visible_select(request, pet).where(Person.email.is_not(None), Person.email != "")
    conds = []
    if accounts:
        conds.append(Person.account_id.in_(accounts))
    if people:
        conds.append(Person.id.in_(people))
    found = request.dbsession.execute(q.where(or_(*conds)).order_by(Person.id)).scalars()
    out, seen = [], set()
    for p in found:
        email = p.email.strip().lower()
        if email in seen:
            continue
        seen.add(email)
        out.append((p.email.strip(), p.id, p.account_id, p.language))
    return out


def _product_title(request, release: Release, lang: str | None) -> str:
    from kyklos_catalog.models import Product, product_name

    product = request.dbsession.get(Product, release.product_id)
    return product_name(product, lang) if product is not None else ""


def render_notice(request, release: Release, lang: str) -> tuple[str, str]:
    """``(subject, body)`` of the release notice in ``lang``."""
    mapping = {
        "product": _product_title(request, release, lang),
        "version": release.name,
        "notes": release.notes or "",
    }
    subject = translate_for(
        request, _("New version ${version} of ${product}", mapping=mapping), lang
    )
    body = translate_for(
        request,
        _(
            "Version ${version} of ${product}, which you use, is out.\n\n${notes}\n\n"
            "Ask us if you would like it installed.",
            mapping=mapping,
        ),
        lang,
    )
    return subject, body


def claim(request, release_id: int, r: Recipient, job_id: str | None) -> bool:
    """Take ``r`` for this run, in the database: a new notice row under the unique
    (release, address) key, or, for a row that exists, an ``UPDATE`` that only matches
    a notice that failed before or one this very job claimed in an earlier attempt (a
    worker that died before sending). Two runs at once: the database lets one win (the
    loser's insert meets the key, its update matches no row)."""
    from sqlalchemy.exc import IntegrityError

    db = request.dbsession
    email = r.email.strip().lower()
    person_id, account_id = r.about
    try:
        with db.begin_nested():
            db.add(
                ReleaseNotice(
                    release_id=release_id,
                    person_id=person_id,
                    account_id=account_id,
                    email=email,
                    state="sending",
                    job_id=job_id,
                    claimed_at=utcnow(),
                )
            )
    except IntegrityError:
        mine = ReleaseNotice.state == "failed"
        if job_id:
            mine = or_(mine, (ReleaseNotice.state == "sending") & (ReleaseNotice.job_id == job_id))
        won = db.execute(
            update(ReleaseNotice)
            .where(ReleaseNotice.release_id == release_id, ReleaseNotice.email == email, mine)
            .values(state="sending", job_id=job_id, claimed_at=utcnow(), error=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        return won == 1
    return True


def finish(request, release_id: int, r: Recipient, state: str, error: str | None) -> None:
    values = {"state": state, "error": (error or None) and error[:500]}
    if state == "sent":
        values["sent_at"] = utcnow()
    request.dbsession.execute(
        update(ReleaseNotice)
        .where(
            ReleaseNotice.release_id == release_id,
            ReleaseNotice.email == r.email.strip().lower(),
            ReleaseNotice.state == "sending",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def notify(registry, user_id: int | None, release_id: int, job_id: str | None, progress=None):
    """Mail every customer contact of the release not told yet, in their language
    (:func:`kyklos_helpdesk.mailing.send_claimed`: each address claimed in the
    database first); ``{"sent", "skipped", "failed"}``. The release's ``notified``
    count is brought up to date at the end."""
    from kyklos_sdk import request_as

    with request_as(registry, user_id, job_id=job_id) as request:
        release = request.dbsession.get(Release, int(release_id))
        if release is None:
            return {"sent": 0, "skipped": 0, "failed": 0}
        people = [
            Recipient(email, lang, (person_id, account_id))
            for email, person_id, account_id, lang in recipients(request, release)
        ]

    def render(request, r: Recipient, lang: str) -> tuple[str, str]:
        return render_notice(request, request.dbsession.get(Release, int(release_id)), lang)

    result = send_claimed(
        registry,
        user_id,
        job_id,
        people,
        render,
        list(LANGUAGES),
        claim=lambda request, r: claim(request, int(release_id), r, job_id),
        finish=lambda request, r, state, error: finish(request, int(release_id), r, state, error),
        progress=progress,
    )
    # one statement, not the ORM's versioned UPDATE: two senders finishing at once
    # both set the count the database holds (neither is refused as stale)
    with request_as(registry, user_id, job_id=job_id, write=True) as request:
        told = (
            select(func.count())
            .select_from(ReleaseNotice)
            .where(ReleaseNotice.release_id == int(release_id), ReleaseNotice.state == "sent")
            .scalar_subquery()
        )
        request.dbsession.execute(
            update(Release)
            .where(Release.id == int(release_id))
            .values(notified=told)
            .execution_options(synchronize_session=False)
        )
    return result


JOB = "helpdesk.release_notices"


def notices_job(ctx, release_id: int) -> dict:
    """``helpdesk.release_notices``: the notices of one release, sent as the user who
    published it, progress reported per contact. Each mail goes out between two short
    transactions of its own; the job's own transaction (``ctx.request``) is left
    untouched until the runner records the result: on SQLite a transaction that read
    before those commits could not write afterwards."""
    from kyklos_sdk import request_as

    with request_as(ctx.registry, ctx.user_id, job_id=ctx.job_id) as request:
        loc = request.localizer

    def progress(done: int, total: int) -> None:
        words = _("${done} of ${total} contacts", mapping={"done": done, "total": total})
        ctx.progress(100 * done / max(1, total), loc.translate(words))

    return notify(ctx.registry, ctx.user_id, int(release_id), ctx.job_id, progress)


def publish(request, release: Release) -> str:
    """Mark the release published (once) and queue the notices to its customers; the
    job's id (the job starts when this transaction commits)."""
    if not release.published:
        release.published = True
    if release.published_at is None:
        release.published_at = utcnow()
    return request.enqueue_job(JOB, args={"release_id": release.id})


# --- API and pages -----------------------------------------------------------------------


def _release(request, action="update") -> Release:
    return get_record(request, get_entity_type(request, "release"), request.matchdict["id"], action)


def api_publish(request):
    """``POST /api/v1/releases/{id}/publish`` → 202: the release (published), with
    ``job_id`` and ``job_url``; the job's result is ``{"sent", "skipped", "failed"}``."""
    release = _release(request)
    job_id = publish(request, release)
    request.dbsession.flush()
    out = serialize(request, get_entity_type(request, "release"), release)
    out["job_id"] = job_id
    out["job_url"] = request.route_url("api.job", id=job_id)
    request.response.status = 202
    return out


def publish_page(request):
    """The release page's button (POST with the form's token): the notices page of
    the release, following the job."""
    release = _release(request)
    if request.POST.get("csrf_token") != request.session.get_csrf_token():
        raise Problem(400, _("The form expired; send it again."))
    job_id = publish(request, release)
    return HTTPSeeOther(
        request.route_url("helpdesk.release.notices", id=release.id, _query={"job": job_id})
    )


def notices_page(request):
    """Who was told of a release, and the progress of the notices being sent."""
    from kyklos_sdk import format_datetime

    from .notices import job_panel

    release = _release(request, "read")
    rows = request.dbsession.execute(
        select(ReleaseNotice)
        .where(ReleaseNotice.release_id == release.id)
        .order_by(ReleaseNotice.email)
    ).scalars()
    states = {
        "sent": _("Sent"),
        "sending": _("Being sent"),
        "failed": _("Failed"),
    }
    panel = job_panel(request, request.GET.get("job"))
    if panel is not None:
        panel["done"] = request.localizer.translate(
            _(
                "E-mails sent: ${sent}; already told before: ${skipped}; failed: ${failed}.",
                mapping={"sent": "{sent}", "skipped": "{skipped}", "failed": "{failed}"},
            )
        )
    return {
        "title": _("Release notices"),
        "release": release,
        "product": _product_title(request, release, request.locale_name),
        "release_url": request.route_path("entity.detail", slug="releases", id=release.id),
        "job": panel,
        "rows": [
            {
                "email": n.email,
                "state": request.localizer.translate(states.get(n.state, n.state)),
                "state_code": n.state,
                "when": format_datetime(request, n.sent_at or n.claimed_at, "short")
                if (n.sent_at or n.claimed_at)
                else "",
                "error": n.error or "",
            }
            for n in rows
        ],
        "can_publish": request.has_permission(PERMS["update"]),
        "publish_url": request.route_path("helpdesk.release.publish", id=release.id),
    }


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name != "installedproduct" or not data.get(FIELD):
            return
        release = request.dbsession.get(Release, data[FIELD])
        custom = getattr(record, "custom", None) or {}
        product = data.get(PRODUCT_FIELD, custom.get(PRODUCT_FIELD))
        if release is None:
            errors[FIELD] = _("No such version.")
        elif product and int(product) != release.product_id:
            errors[FIELD] = _("This version is another product's.")

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        # ticking "Published" on the form is publishing: the customers are told
        if entity_type.name == "release" and record.published and "published" in changes:
            publish(request, record)

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name != "release" or not request.has_permission(PERMS["update"]):
            return None
        title = _("Notify new customers") if record.published else _("Publish and notify customers")
        return [
            Action(
                title,
                request.route_url("helpdesk.release.publish", id=record.id),
                method="post",
                style="primary",
                permission=PERMS["update"],
            )
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name == "release":
            rows = installed_of(request, record.product_id, record.id)
            items = [_installed_item(request, r) for r in rows[:20]]
            told = record.notified or 0
            notices = (
                request.localizer.pluralize(
                    "${n} customer contact told",
                    "${n} customer contacts told",
                    told,
                    domain="kyklos_helpdesk",
                    mapping={"n": told},
                ),
                request.route_path("helpdesk.release.notices", id=record.id),
                "",
            )
            return [
                Panel(
                    _("Customers running this version"),
                    items=items,
                    count=len(rows),
                    order=10,
                ),
                Panel(_("Release notices"), items=[notices], order=11),
            ]
        if entity_type.name == "product" and request.has_permission(PERMS["read"]):
            et = get_entity_type(request, "release")
            found = request.dbsession.execute(
                visible_select(request, et)
                .where(Release.product_id == record.id)
                .order_by(Release.released_on.desc().nulls_last(), Release.id.desc())
            ).scalars()
            found = list(found)
            if not found:
                return None
            runs = _running_counts(request, record.id)
            items = [
                (
                    r.name,
                    request.route_path("entity.detail", slug="releases", id=r.id),
                    request.localizer.pluralize(
                        "${n} customer unit runs it",
                        "${n} customer units run it",
                        runs.get(r.id, 0),
                        domain="kyklos_helpdesk",
                        mapping={"n": runs.get(r.id, 0)},
                    ),
                )
                for r in found[:20]
            ]
            return [Panel(_("Releases"), items=items, count=len(found), order=22)]
        return None

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name not in ("release", "person"):
            return None
        q = (
            select(ReleaseNotice, Release)
            .join(Release, Release.id == ReleaseNotice.release_id)
            .where(ReleaseNotice.state == "sent")
        )
        if entity_type.name == "release":
            q = q.where(ReleaseNotice.release_id == record.id)
        else:
            if not request.has_permission(PERMS["read"]):
                return None
            q = q.where(ReleaseNotice.person_id == record.id)
        items = []
        for notice, release in request.dbsession.execute(q.order_by(ReleaseNotice.id).limit(200)):
            items.append(
                TimelineItem(
                    when=notice.sent_at,
                    title=request.localizer.translate(
                        _(
                            "Release notice of version ${version} sent to ${email}",
                            mapping={"version": release.name, "email": notice.email},
                        )
                    ),
                    url=request.route_path("entity.detail", slug="releases", id=release.id),
                    kind="email",
                )
            )
        return items


def _running_counts(request, product_id: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in installed_of(request, product_id):
        rid = (r.custom or {}).get(FIELD)
        if rid:
            counts[int(rid)] = counts.get(int(rid), 0) + 1
    return counts


def _installed_item(request, r):
    from kyklos_sdk import reference_titles

    et = get_entity_type(request, "installedproduct")
    owners = reference_titles(request, et, [r], ("account_id", "person_id"))
    ref = owners["account_id"].get(r.account_id) or owners["person_id"].get(r.person_id)
    title = ref[0] if ref else r.product
    detail = " · ".join(x for x in (r.product, r.serial_number) if x)
    return (title, request.route_path("entity.detail", slug=et.slug, id=r.id), detail)


def openapi_paths(request):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    record = {"application/json": {"schema": {"type": "object"}}}
    return {
        "/api/v1/releases/{id}/publish": {
            "post": {
                "operationId": "helpdesk_release_publish",
                "tags": ["Helpdesk"],
                "summary": "Publish a release and e-mail the customers who run the product",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {
                    "202": {
                        "description": "the release, with job_id and job_url: the "
                        "notices go out in a background job whose result is "
                        "{sent, skipped, failed}",
                        "content": record,
                    },
                    "403": {"description": "not allowed", "content": problem},
                    "404": {"description": "no such release", "content": problem},
                },
            }
        }
    }


def includeme(config):
    config.add_entity_type(
        Release,
        "release",
        about=True,
        title=_("Release"),
        plural=_("Releases"),
        slug="releases",
        title_field="name",
        subtitle_field="product_id",
        primary_filters=("product_id", "name", "published"),
        list_columns=("product_id", "name", "released_on", "published", "notified"),
        filters=("product_id", "name", "released_on", "published", "published_at"),
        sort=("name", "released_on", "published_at", "created_at"),
        search=("name",),
        readonly=("published_at", "notified"),
        fields={
            "product_id": {"title": _("Product")},
            "name": {"title": _("Version")},
            "released_on": {"title": _("Release date")},
            "notes": {"title": _("Release notes")},
            "published": {
                "title": _("Published"),
                "description": _("Publishing e-mails the customers who run the product."),
            },
            "published_at": {"title": _("Published at")},
            "notified": {"title": _("Customer contacts notified")},
        },
        default_sort="-released_on",
        menu_order=43,
        icon="box-seam",
        description=_("Versions of products and the customers who run them"),
    )
    config.add_entity_field(
        "installedproduct",
        FIELD,
        type="reference",
        reference="release",
        title=_("Version"),
        description=_("The release of the product this customer runs."),
        list_column=True,
        after=PRODUCT_FIELD,
    )
    full = [PERMS[v] for v in ("read", "create", "update", "delete", "export", "import")]
    config.extend_role("agent", [PERMS["read"], PERMS["export"]])
    config.extend_role("helpdeskmanager", full)
    config.extend_role("manager", full)
    config.add_record_rule("release", "agent", "read", "all")
    for role in ("helpdeskmanager", "manager"):
        for action in ("read", "write", "delete"):
            config.add_record_rule("release", role, action, "all")
    config.add_hooks(Hooks(), name="kyklos_helpdesk.releases")
    config.add_openapi_paths(openapi_paths)
    config.add_route("helpdesk.api.release.publish", f"/api/v1/releases/{ID}/publish")
    config.add_view(
        api_publish,
        route_name="helpdesk.api.release.publish",
        request_method="POST",
        permission=PERMS["update"],
        renderer="json",
    )
    config.add_job(JOB, notices_job, retries=2, title=_("Release notices"))
    config.add_route("helpdesk.release.notices", f"/helpdesk/releases/{ID}/notices")
    config.add_view(
        notices_page,
        route_name="helpdesk.release.notices",
        request_method="GET",
        permission=PERMS["read"],
        renderer="kyklos_helpdesk:templates/release_notices.pt",
    )
    config.add_route("helpdesk.release.publish", f"/helpdesk/releases/{ID}/publish")
    config.add_view(
        publish_page,
        route_name="helpdesk.release.publish",
        request_method="POST",
        permission=PERMS["update"],
    )
