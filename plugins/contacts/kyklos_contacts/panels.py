"""The contacts' contributions to the 360° pages of people and accounts: summary of
open items (CON-14), contact details, relationship graph (D12), affiliations and
employment history (CON-04/16), occasions (CON-09/10), consent, installed base (CON-13),
hierarchy and partner channel (CON-03/06); plus record actions and menu entries."""

from __future__ import annotations

import datetime as dt

from pyramid.renderers import render
from sqlalchemy import func, or_, select

from kyklos_sdk import Action, MenuItem, Panel, TimelineItem, collect

from . import _, graph
from .domain.phones import format_phone
from .models import (
    Account,
    Affiliation,
    Consent,
    Greeting,
    InstalledProduct,
    Person,
    PersonPhoto,
)
from .models import choices as c
from .occasions import readable_kinds, upcoming_for
from .relations import links_of
from .settings import calendars

TEMPLATES = "kyklos_contacts:templates/panels/"


def can(request, entity: str, verb: str = "read") -> bool:
    return bool(request.has_permission(f"contacts.{entity}.{verb}"))


def record_url(request, slug: str, record_id: int) -> str:
    return request.route_url("entity.detail", slug=slug, id=record_id)


def _render(request, name: str, **values) -> str:
    values.setdefault("choices", c)
    return render(TEMPLATES + name, values, request=request)


def panels_for(request, et, record) -> list[Panel]:
    if et.name == "person":
        return person_panels(request, et, record)
    if et.name == "account":
        return account_panels(request, et, record)
    return []


# --- summary (CON-14) -------------------------------------------------------------------


def summary_panel(request, et, record) -> Panel:
    parts = collect(
        request.registry.kyklos_pm,
        "kyklos_record_summary",
        request=request,
        entity_type=et,
        record=record,
    )
    parts = sorted(parts, key=lambda p: (p.order, str(p.title)))
    total = sum(p.count or 0 for p in parts)
    html = _render(request, "summary.pt", parts=parts)
    return Panel(title=_("Summary of open items"), html=html, count=total, order=0)


# --- relationship graph (D12) -----------------------------------------------------------


def graph_panel(request, kind: str, record) -> Panel:
    db = request.dbsession
    visible = {"person": can(request, "person"), "account": can(request, "account")}
    links = links_of(db, kind, record.id, visible=lambda k: visible[k]) if can(
        request, "relationship"
    ) else []
    title = record.full_name if kind == "person" else record.name
    center = graph.Node((kind, record.id), title, kind, None)
    neighbours = []
    for link in links:
        node = graph.Node(
            (link.other_kind, link.other_id),
            link.other_title,
            link.other_kind,
            record_url(request, "persons" if link.other_kind == "person" else "accounts",
                       link.other_id),
        )
        neighbours.append((node, request.localizer.translate(link.label), "relationship"))
    # Affiliations are relationships too: a person's firms, an account's people.
    if can(request, "affiliation"):
        for aff, other_title in _affiliations(db, kind, record.id, current_only=True):
            other_kind = "account" if kind == "person" else "person"
            other_id = aff.account_id if kind == "person" else aff.person_id
            if not visible[other_kind]:
                continue
            node = graph.Node(
                (other_kind, other_id),
                other_title,
                other_kind,
                record_url(request, "accounts" if other_kind == "account" else "persons",
                           other_id),
            )
            neighbours.append((node, aff.role or request.localizer.translate(_("works at")),
                               "affiliation"))
    nodes, edges, hidden = graph.layout(center, neighbours)
    html = _render(
        request,
        "relationships.pt",
        links=links,
        nodes=nodes,
        edges=edges,
        hidden=hidden,
        width=graph.WIDTH,
        height=graph.HEIGHT,
        kind=kind,
        record=record,
        record_url=lambda k, i: record_url(request, "persons" if k == "person" else "accounts",
                                           i),
        can_add=can(request, "relationship", "create"),
        add_url=request.route_url("contacts.relationship_new", kind=kind, id=record.id),
    )
    return Panel(title=_("Relationships"), html=html, count=len(links), order=20)


def _affiliations(db, kind: str, party_id: int, current_only: bool = False):
    """``(affiliation, title of the other end)`` of a person or an account."""
    if kind == "person":
        stmt = (
            select(Affiliation, Account.name)
            .join(Account, Account.id == Affiliation.account_id)
            .where(Affiliation.person_id == party_id, Account.deleted_at.is_(None))
        )
    else:
        stmt = (
            select(Affiliation, Person.first_name + " " + Person.last_name)
            .join(Person, Person.id == Affiliation.person_id)
            .where(Affiliation.account_id == party_id, Person.deleted_at.is_(None))
        )
    if current_only:
        stmt = stmt.where(
            or_(Affiliation.end_date.is_(None), Affiliation.end_date >= dt.date.today())
        )
    stmt = stmt.order_by(
        Affiliation.end_date.is_(None).desc(), Affiliation.start_date.desc(), Affiliation.id
    ).limit(200)
    return db.execute(stmt).all()


def affiliations_panel(request, kind: str, record) -> Panel | None:
    if not can(request, "affiliation"):
        return None
    rows = _affiliations(request.dbsession, kind, record.id)
    today = dt.date.today()
    current = [(a, t) for a, t in rows if a.is_current(today)]
    past = [(a, t) for a, t in rows if not a.is_current(today)]
    other_slug = "accounts" if kind == "person" else "persons"
    other_field = "account_id" if kind == "person" else "person_id"
    html = _render(
        request,
        "affiliations.pt",
        current=current,
        past=past,
        kind=kind,
        url=lambda a: record_url(request, other_slug, getattr(a, other_field)),
        edit_url=lambda a: record_url(request, "affiliations", a.id),
        can_add=can(request, "affiliation", "create"),
        add_url=request.route_url("entity.new", slug="affiliations",
                                  _query={f"{kind}_id": record.id}),
    )
    title = _("Affiliations and employment history") if kind == "person" else _(
        "Affiliated people"
    )
    return Panel(title=title, html=html, count=len(current), order=30)


# --- people -----------------------------------------------------------------------------


def contact_panel(request, record) -> Panel:
    has_photo = request.dbsession.execute(
        select(PersonPhoto.person_id).where(PersonPhoto.person_id == record.id)
    ).first() is not None
    phones = [dict(p, display=_display_phone(p["number"])) for p in record.phones]
    html = _render(
        request,
        "contact.pt",
        person=record,
        phones=phones,
        emails=record.emails,
        photo_url=request.route_url("contacts.photo", id=record.id) if has_photo else None,
        edit_url=request.route_url("contacts.person_details", id=record.id),
        can_edit=can(request, "person", "update"),
    )
    return Panel(title=_("Contact details"), html=html, order=10)


def _display_phone(number: str) -> str:
    try:
        return format_phone(number)
    except ValueError:
        return number


def occasions_panel(request, record) -> Panel:
    today = dt.date.today()
    items = upcoming_for(record, today, days=366, calendars=calendars(request),
                         kinds=readable_kinds(request))
    sent = {
        (g.kind, g.occasion_date)
        for g in request.dbsession.execute(
            select(Greeting).where(Greeting.person_id == record.id)
        ).scalars()
    }
    html = _render(
        request,
        "occasions.pt",
        items=items[:6],
        sent=sent,
        person=record,
        occasions_url=request.route_url("contacts.occasions"),
    )
    return Panel(title=_("Occasions"), html=html, count=None, order=40)


def consent_panel(request, record) -> Panel | None:
    if not can(request, "consent"):
        return None
    rows = {
        r.channel: r
        for r in request.dbsession.execute(
            select(Consent).where(Consent.person_id == record.id)
        ).scalars()
    }
    html = _render(
        request,
        "consent.pt",
        rows=rows,
        person=record,
        can_edit=can(request, "consent", "update") and can(request, "consent", "create"),
        action=request.route_url("contacts.consent", id=record.id),
        csrf=request.session.get_csrf_token(),
    )
    return Panel(title=_("Consent"), html=html, order=50)


def installed_panel(request, kind: str, record) -> Panel | None:
    if not can(request, "installedproduct"):
        return None
    col = InstalledProduct.person_id if kind == "person" else InstalledProduct.account_id
    rows = (
        request.dbsession.execute(
            select(InstalledProduct)
            .where(col == record.id)
            .order_by(InstalledProduct.active.desc(), InstalledProduct.purchased_on.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    html = _render(
        request,
        "installed.pt",
        rows=rows,
        url=lambda r: record_url(request, "installed-products", r.id),
        can_add=can(request, "installedproduct", "create"),
        add_url=request.route_url(
            "entity.new", slug="installed-products", _query={f"{kind}_id": record.id}
        ),
    )
    active = sum(1 for r in rows if r.active)
    return Panel(title=_("Installed base"), html=html, count=active, order=60)


def person_panels(request, et, record) -> list[Panel]:
    panels = [summary_panel(request, et, record), contact_panel(request, record)]
    panels.append(graph_panel(request, "person", record))
    panels.append(affiliations_panel(request, "person", record))
    panels.append(occasions_panel(request, record))
    panels.append(consent_panel(request, record))
    panels.append(installed_panel(request, "person", record))
    return [p for p in panels if p is not None]


# --- accounts ---------------------------------------------------------------------------


def hierarchy_panel(request, record) -> Panel:
    db = request.dbsession
    chain = []
    seen = {record.id}
    parent_id = record.parent_id
    while parent_id is not None and parent_id not in seen and len(chain) < 20:
        seen.add(parent_id)
        parent = db.get(Account, parent_id)
        if parent is None or parent.deleted_at is not None:
            break
        chain.append(parent)
        parent_id = parent.parent_id
    children = (
        db.execute(
            select(Account)
            .where(Account.parent_id == record.id, Account.deleted_at.is_(None))
            .order_by(Account.is_branch, Account.name)
            .limit(100)
        )
        .scalars()
        .all()
    )
    partner = db.get(Account, record.partner_id) if record.partner_id else None
    handled = db.execute(
        select(func.count()).select_from(Account).where(
            Account.partner_id == record.id, Account.deleted_at.is_(None)
        )
    ).scalar_one()
    html = _render(
        request,
        "hierarchy.pt",
        account=record,
        chain=list(reversed(chain)),
        children=children,
        partner=partner,
        handled=handled,
        url=lambda a: record_url(request, "accounts", a.id),
        handled_url=request.route_url("entity.list", slug="accounts",
                                      _query={"partner_id": record.id}),
    )
    return Panel(title=_("Group and partner channel"), html=html, count=len(children), order=15)


def account_panels(request, et, record) -> list[Panel]:
    panels = [summary_panel(request, et, record), hierarchy_panel(request, record)]
    panels.append(graph_panel(request, "account", record))
    panels.append(affiliations_panel(request, "account", record))
    panels.append(installed_panel(request, "account", record))
    return [p for p in panels if p is not None]


# --- actions, menu, timeline ------------------------------------------------------------


def actions_for(request, et, record) -> list[Action]:
    if et.name == "person":
        return [
            Action(
                title=_("vCard"),
                url=request.route_url("contacts.person_vcard", id=record.id),
                style="outline-secondary",
                permission="contacts.person.export",
            ),
            Action(
                title=_("Phones and e-mails"),
                url=request.route_url("contacts.person_details", id=record.id),
                style="outline-secondary",
                permission="contacts.person.update",
            ),
            Action(
                title=_("Add relationship"),
                url=request.route_url("contacts.relationship_new", kind="person", id=record.id),
                style="outline-secondary",
                permission="contacts.relationship.create",
            ),
        ]
    if et.name == "account":
        return [
            Action(
                title=_("People as vCards"),
                url=request.route_url("contacts.vcard_export", _query={"account_id": record.id}),
                style="outline-secondary",
                permission="contacts.person.export",
            ),
            Action(
                title=_("Add relationship"),
                url=request.route_url("contacts.relationship_new", kind="account", id=record.id),
                style="outline-secondary",
                permission="contacts.relationship.create",
            ),
        ]
    return []


def menu_items(request) -> list[MenuItem]:
    return [
        MenuItem(
            title=_("Occasions"),
            url=request.route_url("contacts.occasions"),
            permission="contacts.person.read",
            icon="balloon",
            order=25,
        ),
        MenuItem(
            title=_("Import vCards"),
            url=request.route_url("contacts.vcard_import"),
            permission="contacts.person.import",
            icon="upload",
            order=26,
        ),
    ]


def greeting_timeline(request, record) -> list[TimelineItem]:
    rows = request.dbsession.execute(
        select(Greeting).where(Greeting.person_id == record.id).order_by(Greeting.sent_at.desc())
        .limit(50)
    ).scalars()
    out = []
    for g in rows:
        kind = dict(OCCASION_TITLES).get(g.kind, g.kind)
        out.append(
            TimelineItem(
                when=g.sent_at,
                title=_("Greeting sent: ${kind}", mapping={"kind": request.localizer.translate(
                    kind)}),
                detail=f"{g.channel} → {g.recipient}",
                kind="contacts.greeting",
            )
        )
    return out


OCCASION_TITLES = [
    ("birthday", _("Birthday")),
    ("anniversary", _("Anniversary")),
    ("name_day", _("Name day")),
]
