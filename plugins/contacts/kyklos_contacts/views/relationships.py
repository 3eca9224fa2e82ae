"""Adding a relationship from a person's or account's page, and the API view of a
party's relationships as seen from its side (inverse labels, D12)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import or_

from kyklos_sdk import RecordError, create_record, get_record, visible_select

from .. import _
from ..domain.translit import fold
from ..models import Account, Person
from ..relations import ensure_default_types, label, links_of
from .common import entity, flash

SEARCH_LIMIT = 20


def type_options(request, gender: str | None = None) -> list[tuple[str, str]]:
    """``(value, text)``: each type once per direction ("father of", "child of"), in
    the words of a party of ``gender`` ("daughter of" for a woman)."""
    types = ensure_default_types(request.dbsession)
    t = request.localizer.translate
    out = []
    for rt in sorted(types.values(), key=lambda x: t(label(x.name))):
        if not rt.active:
            continue
        out.append((f"{rt.id}:fwd", t(label(rt.label_for(True, gender)))))
        if not rt.symmetric:
            out.append((f"{rt.id}:rev", t(label(rt.label_for(False, gender)))))
    return sorted(out, key=lambda o: o[1])


def search_parties(request, kind: str, q: str, exclude: tuple[str, int]):
    q = q.strip()[:100]
    if not q:
        return []
    et = entity(request, kind)
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    key = fold(q)
    stmt = visible_select(request, et)
    if kind == "person":
        words = key.split()
        conds = [Person.email.ilike(pattern, escape="\\")]
        if words:
            conds += [Person.last_name_key.startswith(words[-1]),
                      Person.first_name_key.startswith(words[0])]
        stmt = stmt.where(or_(*conds)).order_by(Person.last_name_key, Person.id)
    else:
        stmt = stmt.where(
            or_(Account.name_key.contains(key), Account.vat_number.ilike(pattern, escape="\\"))
        ).order_by(Account.name_key, Account.id)
    rows = request.dbsession.execute(stmt.limit(SEARCH_LIMIT)).scalars().all()
    return [r for r in rows if (kind, r.id) != exclude]


def new_view(request):
    kind = request.matchdict["kind"]
    et = entity(request, kind)
    record = get_record(request, et, request.matchdict["id"])
    rel_et = entity(request, "relationship", "create")
    errors = {}
    params = request.POST if request.method == "POST" else request.GET
    other_kind = params.get("other_kind") if params.get("other_kind") in (
        "person", "account") else "person"
    if request.method == "POST":
        type_value = request.POST.get("type", "")
        target = request.POST.get("target", "")
        try:
            type_id, direction = type_value.split(":")
            type_id = int(type_id)
            if direction not in ("fwd", "rev"):
                raise ValueError(direction)
            t_kind, t_id = target.split(":")
            t_id = int(t_id)
            if t_kind not in ("person", "account"):
                raise ValueError(t_kind)
        except ValueError:
            errors[""] = request.localizer.translate(_("Choose a type and a party."))
        else:
            me = {f"from_{kind}_id": record.id}
            other = {f"to_{t_kind}_id": t_id}
            if direction == "rev":
                me = {f"to_{kind}_id": record.id}
                other = {f"from_{t_kind}_id": t_id}
            try:
                create_record(request, rel_et, {"type_id": type_id, **me, **other},
                              source="ui")
            except RecordError as exc:
                errors = {k: request.localizer.translate(v) for k, v in exc.errors.items()}
            else:
                flash(request, _("Relationship added."))
                slug = "persons" if kind == "person" else "accounts"
                return HTTPSeeOther(request.route_url("entity.detail", slug=slug, id=record.id))
        request.response.status = 400
    q = params.get("q", "")
    return {
        "title": _("Add a relationship"),
        "kind": kind,
        "record": record,
        "record_title": et.record_title(record),
        "options": type_options(request, getattr(record, "gender", None)),
        "other_kind": other_kind,
        "q": q,
        "candidates": search_parties(request, other_kind, q, (kind, record.id)),
        "errors": errors,
        "chosen_type": params.get("type", ""),
    }


def api_relationships(request):
    kind = "person" if request.matchdict["slug"] == "persons" else "account"
    et = entity(request, kind)
    record = get_record(request, et, request.matchdict["id"])
    entity(request, "relationship")
    visible = {k: request.has_permission(f"contacts.{k}.read") for k in ("person", "account")}
    t = request.localizer.translate
    items = []
    for link in links_of(request.dbsession, kind, record.id, visible=lambda k: visible[k]):
        r = link.relationship
        items.append(
            {
                "id": r.id,
                "type_id": r.type_id,
                "type": r.type.code,
                "label": t(link.label),
                "direction": "outgoing" if link.outgoing else "incoming",
                "other": {"entity": link.other_kind, "id": link.other_id,
                          "title": link.other_title},
                "start_date": r.start_date.isoformat() if r.start_date else None,
                "end_date": r.end_date.isoformat() if r.end_date else None,
            }
        )
    return {"items": items}


def includeme(config):
    config.add_view(
        new_view,
        route_name="contacts.relationship_new",
        renderer="kyklos_contacts:templates/relationship_new.pt",
        permission="contacts.relationship.create",
    )
    config.add_view(
        api_relationships,
        route_name="contacts.api.relationships",
        renderer="json",
        permission="contacts.relationship.read",
    )
