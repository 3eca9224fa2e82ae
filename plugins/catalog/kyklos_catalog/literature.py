"""Sales literature (SFA-16): brochures, datasheets, presentations and price sheets per
product or category and language, valid for a period.

A document's versions are its record's attachments (the core stores them and checks
their content): uploading a new file keeps the old ones and the latest is the current
version. A document past its "valid until" is marked expired and is not offered (on a
quote, in the send form) unless asked for. Sending documents by e-mail from an account,
person, opportunity or quote goes through the core mailer and is logged on the record's
timeline (and the recipient's)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    case,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    LANGUAGES,
    Base,
    EntityMixin,
    IdMixin,
    JSONType,
    TimelineItem,
    User,
    UTCDateTime,
    current_attachments,
    get_entity_type,
    utcnow,
    visible_select,
)

from . import _

KINDS = [
    ("brochure", _("Brochure")),
    ("datasheet", _("Datasheet")),
    ("presentation", _("Presentation")),
    ("pricesheet", _("Price sheet")),
    ("manual", _("Manual")),
    # a product's own papers: what it is made to, and what its maker guarantees
    ("specification", _("Specification")),
    ("warranty", _("Warranty")),
    ("other", _("Other document")),
]
#: the records documents are sent from, and where their people are found
SEND_FROM = ("account", "person", "opportunity", "quote")


class Literature(EntityMixin, Base):
    """One document of the library; its files (versions) are its attachments."""

    __tablename__ = "catalog_literature"

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="brochure")
    #: the language the document is written in; empty: any (a drawing, a price table)
    language: Mapped[str | None] = mapped_column(String(5))
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_category.id", ondelete="CASCADE"), index=True
    )
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    description: Mapped[str | None] = mapped_column(Text)

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or self.valid_until >= day
        )

    @property
    def expired(self) -> bool:
        return self.valid_until is not None and self.valid_until < dt.date.today()


#: a send's states: waiting in the outbox (the job queue), waiting for its next attempt
#: after a temporary failure (an SMTP 4xx, a server down or too slow), delivered to the
#: SMTP server, or refused for good / out of attempts (with the reason; the user may
#: send it again)
SEND_STATES = (
    ("queued", _("Queued")),
    ("retrying", _("Waiting to try again")),
    ("sent", _("Sent")),
    ("failed", _("Failed")),
)


class LiteratureSend(IdMixin, Base):
    """Documents sent by e-mail from a record, through the outbox: the job
    ``catalog.literature.send`` delivers it after the request, so an SMTP failure
    neither loses the send nor shows the user an error page. The timeline shows it."""

    __tablename__ = "catalog_literature_send"
    __table_args__ = (Index("ix_catalog_literature_send_record", "entity", "record_id"),)

    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    #: the documents' file names, one a line, as they were sent
    documents: Mapped[str] = mapped_column(Text, nullable=False)
    message: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("kyklos_user.id", ondelete="SET NULL"))
    #: when the user sent it (it was queued); ``delivered_at``: when SMTP accepted it
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="queued", index=True)
    #: why the last attempt failed, in the SMTP server's words
    error: Mapped[str | None] = mapped_column(Text)
    #: in the recipient's language, fixed when queued
    subject: Mapped[str | None] = mapped_column(String(998))
    #: the documents to send (their current files are read when the message is built)
    literature_ids: Mapped[list | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when a send waiting after a temporary failure is tried again (state "retrying")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: automatic retries after temporary failures since the send was last queued by a user
    retries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def current_files(request, ids) -> dict[int, dict]:
    """``{document id: {"id", "filename", "size", "versions", ...}}``: the latest file of
    each document the user may see and how many versions it has, in one query for a
    whole list (documents without a file are absent)."""
    found = current_attachments(request, get_entity_type(request, "literature"), ids)
    return {
        rid: {
            "id": c.attachment.id,
            "filename": c.attachment.filename,
            "content_type": c.attachment.content_type,
            "size": c.attachment.size,
            "created_at": c.attachment.created_at,
            "versions": c.versions,
            "attachment": c.attachment,
        }
        for rid, c in found.items()
    }


def category_chain(db, category_ids) -> set[int]:
    """The categories and all their parents (a brochure of "Oils" serves "Oils / Extra")."""
    from .paths import _tree

    tree = _tree(db)
    out: set[int] = set()
    for cid in category_ids:
        while cid is not None and cid in tree and cid not in out:
            out.add(cid)
            cid = tree[cid][1]
    return out


def offered_select(
    request,
    product_ids=(),
    language: str | None = None,
    *,
    day: dt.date | None = None,
    include_expired: bool = False,
    everything: bool = False,
    first_language: str | None = None,
):
    """The query of the documents the user may see for these products (their own, and
    their categories'), in ``language`` or in no particular one, valid on ``day``
    unless ``include_expired``, in title order; ``None`` when nothing can match.
    ``everything``: for no product in particular (the send form of an account);
    ``first_language``: documents in it (or for any reader) before the others."""
    from .models import Product

    db = request.dbsession
    day = day or dt.date.today()
    stmt = visible_select(request, get_entity_type(request, "literature"))
    if not everything:
        product_ids = [p for p in product_ids if p]
        if not product_ids:
            return None
        rows = db.execute(
            select(Product.id, Product.category_id, Product.template_id).where(
                Product.id.in_(product_ids)
            )
        ).all()
        # a variant is described by its template's documents too
        pids = {r.id for r in rows} | {r.template_id for r in rows if r.template_id}
        cats = {r.category_id for r in rows if r.category_id}
        templates = [r.template_id for r in rows if r.template_id]
        if templates:
            cats |= {
                c
                for (c,) in db.execute(
                    select(Product.category_id).where(Product.id.in_(templates))
                ).all()
                if c
            }
        cats = category_chain(db, cats)
        where = [Literature.product_id.in_(pids)]
        if cats:
            where.append(Literature.category_id.in_(cats))
        stmt = stmt.where(or_(*where))
    if language:
        stmt = stmt.where(or_(Literature.language == language, Literature.language.is_(None)))
    if not include_expired:
        stmt = stmt.where(
            or_(Literature.valid_from.is_(None), Literature.valid_from <= day),
            or_(Literature.valid_until.is_(None), Literature.valid_until >= day),
        )
    # documents without a file cannot be offered: left out by the query, so that a
    # page holds ``limit`` documents and the count is what the pages hold
    stmt = stmt.where(Literature.id.in_(with_file_ids(request)))
    order = [Literature.title, Literature.id]
    if first_language:
        # the reader's language (and documents for any reader) first, on every page
        order.insert(
            0,
            case(
                (or_(Literature.language == first_language, Literature.language.is_(None)), 0),
                else_=1,
            ),
        )
    return stmt.order_by(*order)


def with_file_ids(request):
    """A subquery of the ids of documents with at least one file. The SDK gives no
    attachment model to query by, only its functions, so the core's attachment table
    is named here by its two columns that say whose a file is."""
    from sqlalchemy import column, table

    att = table("kyklos_attachment", column("entity"), column("record_id"))
    return select(att.c.record_id).where(att.c.entity == "literature")


def offered_page(request, product_ids=(), language=None, *, page=1, limit=50, **kw):
    """One page of :func:`offered_select` (``page`` from 1): ``(documents with their
    current file, total)``."""
    from sqlalchemy import func

    stmt = offered_select(request, product_ids, language, **kw)
    if stmt is None:
        return [], 0
    db = request.dbsession
    total = db.execute(
        select(func.count()).select_from(
            stmt.order_by(None).with_only_columns(Literature.id).subquery()
        )
    ).scalar_one()
    docs = db.execute(stmt.offset((page - 1) * limit).limit(limit)).scalars().all()
    files = current_files(request, [d.id for d in docs])
    return [(d, files[d.id]) for d in docs if d.id in files], total


def offered(request, product_ids=(), language=None, **kw) -> list[tuple[Literature, dict]]:
    """The first 200 documents of :func:`offered_select`, each with its current file:
    for a record's panel and the documents a quote may attach (paged lists use
    :func:`offered_page`)."""
    return offered_page(request, product_ids, language, page=1, limit=200, **kw)[0]


def send_title(send: LiteratureSend):
    """What a send says on the timeline and its page: its state in words."""
    if send.state == "sent":
        return _("Documents sent to ${email}", mapping={"email": send.email})
    if send.state == "failed":
        return _("Sending documents to ${email} failed", mapping={"email": send.email})
    if send.state == "retrying":
        return _("Sending documents to ${email} will be tried again", mapping={"email": send.email})
    return _("Documents queued for ${email}", mapping={"email": send.email})


def next_attempt_words(request, send: LiteratureSend):
    """ "Attempt 2; next attempt on 7 Dec 2026, 11:05" in the user's language and zone."""
    from kyklos_sdk import format_datetime

    return _(
        "Attempt ${n}; next attempt ${when}",
        mapping={"n": send.attempts, "when": format_datetime(request, send.next_attempt_at)},
    )


def timeline(request, entity: str, record_id: int) -> list[TimelineItem]:
    db = request.dbsession
    where = (LiteratureSend.entity == entity) & (LiteratureSend.record_id == record_id)
    if entity == "person":
        where = where | (LiteratureSend.person_id == record_id)
    rows = db.execute(
        select(LiteratureSend, User.name)
        .outerjoin(User, User.id == LiteratureSend.user_id)
        .where(where)
        .order_by(LiteratureSend.sent_at.desc(), LiteratureSend.id.desc())
        .limit(50)
    ).all()
    out = []
    for s, who in rows:
        detail = ", ".join(s.documents.splitlines())
        if s.state in ("failed", "retrying") and s.error:
            reason = request.localizer.translate(
                _("Reason: ${reason}", mapping={"reason": s.error})
            )
            detail = f"{detail} — {reason}"
        if s.state == "retrying" and s.next_attempt_at:
            detail = f"{detail} — " + request.localizer.translate(next_attempt_words(request, s))
        out.append(
            TimelineItem(
                when=s.delivered_at or s.sent_at,
                title=send_title(s),
                detail=detail,
                url=request.route_path("catalog.literature.sent", id=s.id),
                who=who or "",
                kind="literature",
            )
        )
    return out


def register(config):
    config.add_entity_type(
        Literature,
        "literature",
        primary_filters=("title", "kind", "language", "product_id", "category_id"),
        title=_("Sales document"),
        plural=_("Sales literature"),
        slug="sales-literature",
        title_field="title",
        subtitle_field="kind",
        list_columns=(
            "title",
            "kind",
            "language",
            "product_id",
            "category_id",
            "valid_from",
            "valid_until",
        ),
        filters=(
            "title",
            "kind",
            "language",
            "product_id",
            "category_id",
            "valid_from",
            "valid_until",
        ),
        sort=("title", "valid_until", "created_at"),
        search=("title", "description"),
        fields={
            "title": {"title": _("Title")},
            "kind": {"title": _("Type"), "type": "choice", "choices": KINDS, "default": "brochure"},
            "language": {
                "title": _("Language"),
                "type": "choice",
                "choices": list(LANGUAGES.items()),
                "description": _("Empty: for readers of any language."),
            },
            "product_id": {"title": _("Product")},
            "category_id": {
                "title": _("Category"),
                "description": _("For every product of the category and its subcategories."),
            },
            "valid_from": {"title": _("Valid from")},
            "valid_until": {
                "title": _("Valid until"),
                "description": _("After this day the document is marked expired and not offered."),
            },
            "description": {"title": _("Description")},
        },
        default_sort="title",
        menu_group=None,
        icon="file-earmark-richtext",
    )
