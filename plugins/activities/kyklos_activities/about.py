"""What an activity is about: one record of any entity type declared with
``about=True`` (accounts, people, leads, opportunities, quotes, and the types of plugins
still to come), kept as ``about_type`` (the type's name) and ``about_id``.

The mechanism is declared once per entity type in the core: no plugin pair needs its own
link. The record's account and person (when it has them) are copied to the activity's
``account_id`` / ``person_id``, so lists, filters and the people's timelines keep working.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from kyklos_sdk import visible_select

from . import _
from .models import Activity

#: the field of a record that holds its account / person, by preference
ACCOUNT_FIELDS = ("account_id", "converted_account_id")
PERSON_FIELDS = ("person_id", "contact_id", "converted_person_id")


def about_types(registry) -> dict:
    """Entity types activities can be about, by name."""
    return {n: et for n, et in registry.kyklos_entities.items() if et.about}


def _current(record, data, name):
    if name in data:
        return data[name]
    return getattr(record, name) if record is not None else None


def links_of(et, target) -> dict:
    """``{"account_id": ..., "person_id": ...}`` of the record ``target`` of type ``et``."""
    out = {}
    if et.name == "account":
        out["account_id"] = target.id
    elif et.name == "person":
        out["person_id"] = target.id
    for key, names in (("account_id", ACCOUNT_FIELDS), ("person_id", PERSON_FIELDS)):
        if key in out:
            continue
        for name in names:
            value = getattr(target, name, None)
            if isinstance(value, int) and not isinstance(value, bool):
                out[key] = value
                break
    return out


def check(request, record, data: dict, errors: dict) -> None:
    """Check ``about_type`` / ``about_id`` and fill the account and person from the record.

    An activity written without ``about`` (older clients, imports) is about its person,
    else its account."""
    touched = "about_type" in data or "about_id" in data
    kind = _current(record, data, "about_type")
    ref = _current(record, data, "about_id")
    if not touched:
        if record is None or record.about_type is None:
            # Older clients name only the person or account: the activity is about them.
            for name in ("person", "account"):
                value = _current(record, data, f"{name}_id")
                if value:
                    data["about_type"], data["about_id"] = name, value
                    break
        return
    if not kind and not ref:
        data["about_type"] = data["about_id"] = None
        return
    if not kind or not ref:
        errors["about_id" if kind else "about_type"] = _(
            "Give both the type and the record the activity is about."
        )
        return
    types = about_types(request.registry)
    et = types.get(kind)
    if et is None:
        errors["about_type"] = _(
            "Activities cannot be about this type; use one of: ${types}.",
            mapping={"types": ", ".join(sorted(types))},
        )
        return
    if record is not None and record.about_type == kind and record.about_id == ref:
        return  # unchanged: it may have become invisible since, and stays as it was
    if not isinstance(ref, int) or isinstance(ref, bool):
        errors["about_id"] = _("Not an integer.")
        return
    target = request.dbsession.execute(
        visible_select(request, et).where(et.model.id == ref)
    ).scalar()
    if target is None:
        errors["about_id"] = _("No such record, or you may not see it.")
        return
    for key, value in links_of(et, target).items():
        # What the client sent explicitly wins; otherwise the record's own links.
        if key not in data or data[key] is None:
            data[key] = value


def clause(et_name: str, ref_id: int):
    """Activities about the record, or (for people and accounts) in which it takes part
    or which name it as their person / account."""
    from .models import Participant

    about = and_(Activity.about_type == et_name, Activity.about_id == ref_id)
    if et_name in ("person", "account"):
        column = getattr(Activity, f"{et_name}_id")
        party = Activity.id.in_(
            select(Participant.activity_id).where(
                Participant.kind == et_name, getattr(Participant, f"{et_name}_id") == ref_id
            )
        )
        return or_(about, column == ref_id, party)
    return about


def title_of(request, kind: str | None, ref: int | None):
    """``(title, url)`` of the record an activity is about, or ``None``."""
    found = titles(request, [(kind, ref)])
    return found.get((kind, ref))


def titles(request, pairs) -> dict:
    """``{(type, id): (title, url)}`` of records activities are about, the visible ones
    only (one query per type)."""
    by_type: dict[str, set[int]] = {}
    for kind, ref in pairs:
        if kind and ref:
            by_type.setdefault(kind, set()).add(ref)
    out = {}
    for kind, ids in by_type.items():
        et = request.registry.kyklos_entities.get(kind)
        if et is None:  # a type of a plugin no longer enabled
            continue
        if not request.has_permission(et.permission("read")):
            continue
        rows = request.dbsession.execute(
            visible_select(request, et).where(et.model.id.in_(ids))
        ).scalars()
        for r in rows:
            title = getattr(r, "full_name", None) or et.record_title(r)
            out[(kind, r.id)] = (
                title,
                request.route_path("entity.detail", slug=et.slug, id=r.id),
            )
    return out
