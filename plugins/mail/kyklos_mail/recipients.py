"""Whom one can write to from a record of any type, without the mail plugin knowing the
plugin that declares it. One writes from the types declared ``about=True`` (the core's
declaration that other records, activities and e-mails, can be about them: leads,
opportunities, quotes, cases, contracts...), to: the people and accounts its reference
fields name (an opportunity's contact and account, a case's requester), the record's own
e-mail fields (a lead's address), the people its related lists name (an opportunity's
participants), and what a plugin adds through ``kyklos_mail_recipients``. Everything is
read as the user may read it: a field their role may not read gives no address, a
person they may not see is not offered."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound

from kyklos_sdk import collect, get_entity_type, serialize, visible_select

#: the types with their own way of finding addresses (``compose.addresses_of``)
CONTACT_TYPES = ("person", "account")
#: the mail plugin's own types: one writes about customers' records, not about mail
OWN_TYPES = ("mailbox", "mailmessage", "mailrule", "mailtemplate")
#: children of a related list read for people (an opportunity's participants)
RELATED_LIMIT = 50
MAX_OFFERED = 50


def _people_refs(et) -> list[str]:
    return [
        f.name
        for f in et.fields.values()
        if f.type == "reference" and f.reference in CONTACT_TYPES and not f.custom
    ]


def _email_fields(et) -> list[str]:
    return [f.name for f in et.fields.values() if f.type == "email"]


def sources(request, et) -> dict | None:
    """What of ``et``'s declaration names people to write to, or ``None`` when nothing
    does (and no plugin implements ``kyklos_mail_recipients``)."""
    if et.name in OWN_TYPES or not et.about:
        # a consent, an address, a campaign's recipient list: nothing one writes about
        return None
    if et.name in CONTACT_TYPES:
        return {"contact": True}
    related = []
    for rel in et.related:
        child = request.registry.kyklos_entities.get(rel.entity)
        if child is None:
            continue
        refs = [n for n in _people_refs(child) if n != rel.field]
        if refs:
            related.append((child, rel.field, refs))
    out = {"emails": _email_fields(et), "refs": _people_refs(et), "related": related}
    hook = request.registry.kyklos_pm.hook.kyklos_mail_recipients
    if not out["emails"] and not out["refs"] and not related and not hook.get_hookimpls():
        return None
    return out


def mailable_types(request) -> list[str]:
    """Names of every installed type one can write from."""
    return [
        name
        for name, et in request.registry.kyklos_entities.items()
        if sources(request, et) is not None
    ]


def recipients(request, et, record) -> list[tuple[str, str]]:
    """``[(address, label)]`` to offer when writing from ``record``, the record's main
    contact first."""
    from .compose import addresses_of

    found = sources(request, et)
    if found is None:
        return []
    if found.get("contact"):
        return addresses_of(request, et.name, record)
    out: list[tuple[str, str]] = []

    def add(pairs):
        for addr, label in pairs:
            if addr and all(a.lower() != addr.lower() for a, _l in out):
                out.append((addr, label))

    readable = serialize(request, et, record, found["emails"] + found["refs"])
    # the people first (the contact of an opportunity, the requester of a case), then
    # the record's own addresses, then accounts (whose people follow theirs)
    ordered = sorted(found["refs"], key=lambda n: et.fields[n].reference != "person")
    people, accounts = [], []
    for name in ordered:
        rid = readable.get(name)
        if rid:
            (people if et.fields[name].reference == "person" else accounts).append(rid)
    for rid in people:
        add(_contact(request, "person", rid))
    for name in found["emails"]:
        value = readable.get(name)
        if isinstance(value, str) and "@" in value:
            add([(value, value)])
    for child, field, refs in found["related"]:
        if not request.has_permission(child.permission("read")):
            continue
        rows = (
            request.dbsession.execute(
                visible_select(request, child)
                .where(getattr(child.model, field) == record.id)
                .order_by(child.model.id)
                .limit(RELATED_LIMIT)
            )
            .scalars()
            .all()
        )
        for row in rows:
            values = serialize(request, child, row, refs)
            for name in refs:
                if values.get(name) and child.fields[name].reference == "person":
                    add(_contact(request, "person", values[name]))
    for rid in accounts:
        add(_contact(request, "account", rid))
    add(
        (str(addr), str(label or addr))
        for addr, label in collect(
            request.registry.kyklos_pm,
            "kyklos_mail_recipients",
            request=request,
            entity_type=et,
            record=record,
        )
    )
    return out[:MAX_OFFERED]


def _contact(request, entity: str, rid) -> list[tuple[str, str]]:
    from .compose import addresses_of

    try:
        et = get_entity_type(request, entity)
    except HTTPNotFound:
        return []
    if not request.has_permission(et.permission("read")):
        return []
    row = request.dbsession.execute(
        visible_select(request, et).where(et.model.id == int(rid))
    ).scalar()
    return addresses_of(request, entity, row) if row is not None else []


def language_of(request, et, record) -> str | None:
    """The language to write in: the record's own, else that of the first person its
    reference fields name (an opportunity's contact), else ``None``."""
    if record is None:
        return None
    if getattr(record, "language", None):
        return record.language
    found = sources(request, et) or {}
    for name in found.get("refs", ()):
        if et.fields[name].reference != "person":
            continue
        rid = serialize(request, et, record, [name]).get(name)
        if rid:
            person_et = get_entity_type(request, "person")
            row = request.dbsession.execute(
                visible_select(request, person_et).where(person_et.model.id == int(rid))
            ).scalar()
            if row is not None and getattr(row, "language", None):
                return row.language
    return None
