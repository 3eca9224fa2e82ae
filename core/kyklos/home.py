"""The home page as the user's day: sections contributed through the
``kyklos_home_sections`` hook (today's agenda, tasks, meetings, invitations from the
activities plugin), the core's "recent records", then the dashboard's KPI widgets.

Recent records are a short per-user list (created, changed or opened), one row per
record in ``kyklos_recent``, upserted on the record page and on every UI/API save, and
trimmed to :data:`KEEP` rows per user, so reading it is one small indexed query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pyramid.renderers import render
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, UTCDateTime, utcnow
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _

log = logging.getLogger("kyklos.home")

#: recent records kept per user (shown: :data:`SHOW`)
KEEP = 30
SHOW = 10
#: Bootstrap grid classes by section size
SIZES = {"full": "col-12", "half": "col-12 col-xl-6"}


@dataclass
class HomeSection:
    """A section of the home page (see the ``kyklos_home_sections`` hook).

    Content is either ``html`` (markup the plugin rendered and escaped itself) or
    ``template`` (an asset spec such as ``"kyklos_activities:templates/today.pt"``)
    rendered by the core with ``values`` (plus ``request``). ``count`` is the number of
    items the section lists: when it is ``0`` the core shows ``empty`` instead of the
    content - a sentence that says what to do ("No meetings today. Plan one from a
    person's page.") - followed by ``actions``, which are shown in any case (e.g. "New
    task"). ``url`` links the title to the full list ("See all"). ``order`` is
    ascending; the core's "recent records" is 900 and every KPI chart comes after all
    sections. ``size`` is ``"full"`` or ``"half"`` (two sections side by side on wide
    screens). ``permission`` hides the section from users who do not hold it.
    """

    id: str
    title: object
    order: int = 100
    html: str | None = None
    template: str | None = None
    values: dict = field(default_factory=dict)
    count: int | None = None
    empty: object = None
    actions: list = field(default_factory=list)
    url: str | None = None
    size: str = "full"
    permission: str | None = None

    @property
    def css_class(self) -> str:
        return SIZES.get(self.size, SIZES["full"])

    @property
    def is_empty(self) -> bool:
        return self.count == 0 or (self.html is None and self.template is None)


class RecentRecord(Base):
    __tablename__ = "kyklos_recent"
    __table_args__ = (
        UniqueConstraint("user_id", "entity", "record_id"),
        Index("ix_kyklos_recent_user_at", "user_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False
    )
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: "opened", "created" or "changed": the last thing the user did with it
    action: Mapped[str] = mapped_column(String(16), nullable=False, default="opened")
    at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# --- recent records ----------------------------------------------------------------------


def note_recent(request, et, record_id, action: str) -> None:
    """Put a record at the top of the user's recent list (one UPDATE, or an INSERT and
    a trim to :data:`KEEP` rows)."""
    import zope.sqlalchemy
    from sqlalchemy import update

    identity = getattr(request, "identity", None)
    user = getattr(identity, "user", None)
    if user is None or record_id is None:
        return
    db = request.dbsession
    now = utcnow()
    values = {"at": now}
    if action != "opened":
        values["action"] = action
    hit = db.execute(
        update(RecentRecord)
        .where(
            RecentRecord.user_id == user.id,
            RecentRecord.entity == et.name,
            RecentRecord.record_id == record_id,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not hit:
        db.execute(
            RecentRecord.__table__.insert().values(
                user_id=user.id, entity=et.name, record_id=record_id, action=action, at=now
            )
        )
        keep = (
            select(RecentRecord.id)
            .where(RecentRecord.user_id == user.id)
            .order_by(RecentRecord.at.desc(), RecentRecord.id.desc())
            .limit(KEEP)
        )
        db.execute(
            delete(RecentRecord)
            .where(RecentRecord.user_id == user.id, RecentRecord.id.not_in(keep.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
    # Core statements pass by the ORM's change tracking: a page view that only noted
    # the record must still commit.
    zope.sqlalchemy.mark_changed(db)


@dataclass
class RecentItem:
    title: str
    url: str
    type_title: object
    icon: str
    action: str
    at: object


ACTIONS = {"opened": _("opened"), "created": _("created"), "changed": _("changed")}


def recent_items(request, limit: int = SHOW) -> list[RecentItem]:
    """The user's recent records they may still see, newest first: one query for the
    list, one per entity type for the titles (through the type's visibility)."""
    from kyklos.entities import service

    user = getattr(getattr(request, "identity", None), "user", None)
    if user is None:
        return []
    db = request.dbsession
    rows = db.execute(
        select(RecentRecord.entity, RecentRecord.record_id, RecentRecord.action, RecentRecord.at)
        .where(RecentRecord.user_id == user.id)
        .order_by(RecentRecord.at.desc(), RecentRecord.id.desc())
        .limit(KEEP)
    ).all()
    by_type: dict[str, list[int]] = {}
    for entity, rid, _a, _at in rows:
        by_type.setdefault(entity, []).append(rid)
    found: dict[tuple[str, int], object] = {}
    for entity, ids in by_type.items():
        et = request.registry.kyklos_entities.get(entity)
        if et is None or not request.has_permission(et.permission("read")):
            continue
        stmt = service.visible_select(request, et).where(et.model.id.in_(ids))
        for rec in db.execute(stmt).scalars():
            found[(entity, rec.id)] = (et, rec)
    out = []
    for entity, rid, action, at in rows:
        hit = found.get((entity, rid))
        if hit is None:
            continue
        et, rec = hit
        out.append(
            RecentItem(
                et.record_title(rec),
                request.route_url("entity.detail", slug=et.slug, id=rid),
                et.title,
                et.icon,
                action,
                at,
            )
        )
        if len(out) >= limit:
            break
    return out


# --- the page ----------------------------------------------------------------------------


def sections(request) -> list[HomeSection]:
    """The sections the user may see, in order. A failing contributor is logged and
    left out: one broken plugin must not take the home page down."""
    pm = request.registry.kyklos_pm
    out: list[HomeSection] = []
    for impl in pm.hook.kyklos_home_sections.get_hookimpls():
        try:
            kwargs = {"request": request} if "request" in impl.argnames else {}
            result = impl.function(**kwargs)
        except Exception:  # noqa: BLE001 - isolate one contributor's failure
            log.exception("home sections of %s failed", impl.plugin_name)
            continue
        out.extend(s for s in (result or []) if isinstance(s, HomeSection))
    visible = [s for s in out if not s.permission or request.has_permission(s.permission)]
    return sorted(visible, key=lambda s: (s.order, s.id))


def render_section(request, section: HomeSection):
    """The section's content as markup (``None`` when it is empty)."""
    from markupsafe import Markup

    if section.is_empty:
        return None
    if section.html is not None:
        # the hook's contract: markup the plugin rendered and escaped itself
        return Markup(section.html)  # noqa: S704
    try:
        html = render(section.template, {**section.values, "request": request}, request=request)
        return Markup(html)  # noqa: S704 - Chameleon escaped every value it inserted
    except Exception:  # noqa: BLE001 - a broken template hides its section only
        log.exception("home section %s failed to render", section.id)
        return None


def _standing_in(request) -> list[HomeSection]:
    """A deputy's reminder of whom they stand in for and until when (in their own time
    zone); the absent person's tasks, approvals and notifications are in the other
    sections (SEC-03)."""
    from markupsafe import escape

    from kyklos.i18n import format_datetime
    from kyklos.security.models import Delegation

    ident = getattr(request, "identity", None)
    if ident is None or not ident.delegations:
        return []
    tr = request.localizer.translate
    lines = []
    for d in ident.delegations:
        row = request.dbsession.get(Delegation, d.delegation_id)
        until = format_datetime(request, row.ends_at, "short")
        text = tr(
            _(
                "You stand in for ${name} until ${until}.",
                mapping={"name": d.from_user.title, "until": until},
            )
        )
        lines.append(f"<li>{escape(text)}</li>")
    return [
        HomeSection(
            id="delegations",
            title=_("Standing in"),
            order=5,
            html=f'<ul class="mb-0" id="home-standing-in">{"".join(lines)}</ul>',
            count=len(lines),
        )
    ]


class HomeHooks:
    @hookimpl
    def kyklos_home_sections(self, request):
        items = recent_items(request)
        return [
            *_standing_in(request),
            HomeSection(
                id="recent",
                title=_("Recent records"),
                order=900,
                template="kyklos:web/templates/home_recent.pt",
                values={"items": items, "actions": ACTIONS},
                count=len(items),
                empty=_(
                    "Records you open, create or change show up here, so you can go back "
                    "to them in one click. Start from the menu or the search box."
                ),
            )
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        # Called once per record page view: the cheapest place to note "opened".
        note_recent(request, entity_type, record.id, "opened")

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, created, source):
        if source in ("ui", "api"):
            note_recent(request, entity_type, record.id, "created" if created else "changed")


def includeme(config):
    config.add_hooks(HomeHooks(), name="kyklos.home")
