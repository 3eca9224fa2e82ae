"""Showing field values in pages: locale formatting and batched reference titles.

Pages never look up a referenced record per row: :func:`reference_titles` loads the
titles of every referenced id of a page in one query per target type, through the
target's visibility filter (a reference to a record the user cannot see shows its id
only, never its title).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from kyklos.entities import values
from kyklos.i18n import _
from kyklos.security.models import User


@dataclass
class Cell:
    """A displayable value: ``text`` (escaped by the template) and an optional link."""

    text: str
    url: str | None = None
    css: str = ""


def reference_titles(request, et, records, names) -> dict[str, dict[int, tuple[str, str | None]]]:
    """``{field name: {id: (title, url or None)}}`` for the reference fields ``names`` of
    ``records``; one query per referenced type."""
    from kyklos.entities import service

    wanted: dict[str, set[int]] = {}
    fields = [et.fields[n] for n in names if n in et.fields and et.fields[n].type == "reference"]
    for f in fields:
        ids = {values.read_value(et, f, r) for r in records}
        wanted.setdefault(f.reference, set()).update(i for i in ids if isinstance(i, int))
    by_target: dict[str, dict[int, tuple[str, str | None]]] = {}
    db = request.dbsession
    for target, ids in wanted.items():
        if not ids:
            by_target[target] = {}
            continue
        if target == "user":
            rows = db.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
            by_target[target] = {uid: (name or email, None) for uid, name, email in rows}
            continue
        tet = request.registry.kyklos_entities.get(target)
        if tet is None or not request.has_permission(tet.permission("read")):
            by_target[target] = {}
            continue
        stmt = service.visible_select(request, tet).where(tet.model.id.in_(ids))
        by_target[target] = {
            r.id: (
                tet.record_title(r),
                request.route_url("entity.detail", slug=tet.slug, id=r.id),
            )
            for r in db.execute(stmt).scalars()
        }
    return {f.name: by_target.get(f.reference, {}) for f in fields}


def cell(request, et, field, record, refs=None) -> Cell:
    """The value of ``field`` on ``record`` for a page."""
    value = values.read_value(et, field, record)
    return format_value(request, field, value, (refs or {}).get(field.name))


def format_value(request, field, value, refs=None) -> Cell:
    if value is None or value == "" or value == []:
        return Cell("")
    t = field.type
    if t == "reference":
        title, url = (refs or {}).get(value, (f"#{value}", None))
        return Cell(title, url)
    if t == "boolean":
        return Cell(request.localizer.translate(_("Yes") if value else _("No")))
    if t == "date":
        return Cell(request.format_date(value), css="text-nowrap")
    if t == "datetime":
        return Cell(request.format_datetime(value, "short"), css="text-nowrap")
    if t in ("integer", "decimal"):
        return Cell(request.format_number(value), css="text-end")
    if t == "money":
        return Cell(request.format_money(value.amount, value.currency), css="text-end text-nowrap")
    if t in ("choice", "multichoice"):
        titles = {str(v): title for v, title in field.choices or ()}
        items = value if isinstance(value, list | tuple | set | frozenset) else [value]
        return Cell(
            ", ".join(request.localizer.translate(titles.get(str(v), str(v))) for v in items)
        )
    if t == "email":
        return Cell(str(value), f"mailto:{value}")
    if t == "url":
        text = str(value)
        return Cell(text, text if text.lower().startswith(("http://", "https://")) else None)
    if t == "json":
        text = json.dumps(value, ensure_ascii=False)
        return Cell(text if len(text) <= 200 else text[:199] + "…")
    return Cell(str(value))


def parse_form_value(field, text: str):
    """A string typed into a plain input, as the JSON value the service expects, or
    ``None`` when empty. Raises ``ValueError`` on a non-number for numeric fields."""
    text = text.strip()
    if text == "":
        return None
    t = field.type
    if t in ("integer", "reference"):
        return int(text)
    if t == "boolean":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if t == "money":
        amount, _sep, currency = text.partition(" ")
        return {"amount": amount, "currency": currency.strip().upper()}
    if t == "multichoice":
        return [v.strip() for v in text.split(",") if v.strip()]
    return text


def flash(request, msg, queue: str = "info") -> None:
    """A message for the next page, translated now: the session stores plain text (a
    translation string's mapping would not survive being stored)."""
    request.session.flash(request.localizer.translate(msg), queue)
