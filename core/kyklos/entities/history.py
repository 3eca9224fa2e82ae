"""Record history (CORE-08): one audit entry per create, update, delete, restore or merge,
written by the entity service in the same transaction as the change, whatever the path
(web UI, API, bulk action, import, job).

An entry stores who, when, from where, the record's version after the change and the
field diff ``{field: [old, new]}`` in JSON form. The record's timeline merges these
entries with what plugins contribute through the ``kyklos_timeline_items`` hook.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, JSONType, UTCDateTime, bulk_insert, utcnow
from kyklos.hooks import collect
from kyklos.i18n import _
from kyklos.security.models import User

ACTIONS = ("create", "update", "delete", "restore", "merge")
SOURCES = ("ui", "api", "import", "bulk", "job")


class AuditEntry(IdMixin, Base):
    __tablename__ = "kyklos_audit"
    __table_args__ = (Index("ix_kyklos_audit_record", "entity", "record_id", "at"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )
    #: the absent user a deputy acted for (delegation); ``user_id`` is the deputy
    on_behalf_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: the record's version after this change (locates changes made since a version)
    version: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="api")


_VERB = {"create": "create", "update": "update", "delete": "delete", "restore": "delete"}


def _actor(request, et, record, action: str) -> tuple[int | None, int | None]:
    """``(user id, id of the user they acted for)``: the second is set when only a
    delegation (an absent colleague's rights) allowed this change."""
    ident = getattr(request, "identity", None) if request is not None else None
    if ident is None:
        return None, None
    delegations = getattr(ident, "delegations", ())
    if not delegations:
        return ident.user.id, None
    from kyklos.security import rules

    verb = _VERB.get(action, "update")
    can_as = getattr(rules, "can_access_as", None)
    if can_as is None or can_as(request, et, record, verb, own_only=True):
        return ident.user.id, None
    for d in delegations:
        giver = getattr(getattr(d, "from_user", None), "id", None)
        if giver is not None and can_as(request, et, record, verb, subject_id=giver):
            return ident.user.id, giver
    return ident.user.id, None


def record_change(
    request, et, record, action: str, changes: dict | None = None, source: str = "api"
) -> AuditEntry:
    """Add the audit entry for a change to ``record`` (the caller flushes).

    ``changes`` is ``{field: [old, new]}`` with JSON-safe values.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    user_id, behalf_id = _actor(request, et, record, action)
    entry = AuditEntry(
        entity=et.name,
        record_id=record.id,
        action=action,
        user_id=user_id,
        on_behalf_of_id=behalf_id,
        at=utcnow(),
        version=getattr(record, "version", None),
        changes=changes or {},
        source=source if source in SOURCES else "api",
    )
    request.dbsession.add(entry)
    return entry


def record_changes(
    request, et, records: list, action: str, changes: list[dict], source: str = "api"
) -> None:
    """The audit entries of many records changed together (an import batch), written
    with one executemany; ``changes`` is parallel to ``records``, JSON-safe."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    at = utcnow()
    source = source if source in SOURCES else "api"
    rows = []
    for record, diff in zip(records, changes, strict=True):
        user_id, behalf_id = _actor(request, et, record, action)
        rows.append(
            {
                "entity": et.name,
                "record_id": record.id,
                "action": action,
                "user_id": user_id,
                "on_behalf_of_id": behalf_id,
                "at": at,
                "version": getattr(record, "version", None),
                "changes": diff or {},
                "source": source,
            }
        )
    if rows:
        bulk_insert(request.dbsession, AuditEntry.__table__, rows)


def entries(
    request, et, record_id: int, limit: int = 100, before_id: int | None = None
) -> list[tuple[AuditEntry, str | None]]:
    """Audit entries of one record, newest first, each with its author's display name
    (one query: no per-entry user look-up)."""
    stmt = (
        select(AuditEntry, User.name, User.email)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(AuditEntry.entity == et.name, AuditEntry.record_id == record_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return [(e, name or email) for e, name, email in request.dbsession.execute(stmt)]


def changes_since(request, et, record_id: int, version: int) -> dict:
    """``{field: [value at ``version``, current value]}`` from the entries written after
    ``version`` (for the answer to a stale write)."""
    stmt = (
        select(AuditEntry.changes)
        .where(
            AuditEntry.entity == et.name,
            AuditEntry.record_id == record_id,
            AuditEntry.version > version,
        )
        .order_by(AuditEntry.id)
    )
    out: dict = {}
    for changes in request.dbsession.execute(stmt).scalars():
        for name, pair in (changes or {}).items():
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                continue
            old = out[name][0] if name in out else pair[0]
            out[name] = [old, pair[1]]
    return {k: v for k, v in out.items() if v[0] != v[1]}


def entry_json(entry: AuditEntry, who: str | None, readable: set[str] | None = None) -> dict:
    changes = entry.changes or {}
    if readable is not None:
        changes = {k: v for k, v in changes.items() if k in readable}
    return {
        "id": entry.id,
        "action": entry.action,
        "at": entry.at.isoformat().replace("+00:00", "Z"),
        "user_id": entry.user_id,
        "user": who,
        "on_behalf_of_id": entry.on_behalf_of_id,
        "source": entry.source,
        "version": entry.version,
        "changes": changes,
    }


# Sentences of the timeline, like a CRM's stream: "Giorgos changed Owner from Maria to
# Andrei". ``${who}`` is the author (or "Someone" for a change without one).
_SENTENCES = {
    "create": _("${who} created the record"),
    "delete": _("${who} deleted the record"),
    "restore": _("${who} restored the record"),
    "merge": _("${who} merged a duplicate into the record"),
    "update": _("${who} made changes"),
}
_CHANGED = _("${who} changed ${field} from ${old} to ${new}")
_SET = _("${who} set ${field} to ${new}")
_CLEARED = _("${who} cleared ${field} (was ${old})")
_SOMEONE = _("Someone")


def _history_refs(request, et, entries_) -> dict:
    """``{field: {id: (title, url)}}`` of every reference value in ``entries_``: one
    query per referenced type for the whole timeline."""
    from kyklos.entities import display

    wanted: dict[str, set[int]] = {}
    for entry, _who in entries_:
        for name, pair in (entry.changes or {}).items():
            field = et.fields.get(name)
            if field is None or field.type != "reference" or not isinstance(pair, list):
                continue
            wanted.setdefault(field.reference, set()).update(
                v for v in pair if isinstance(v, int) and not isinstance(v, bool)
            )
    by_target = {t: display.titles_by_id(request, t, ids) for t, ids in wanted.items()}
    return {
        f.name: by_target.get(f.reference, {}) for f in et.fields.values() if f.type == "reference"
    }


def _show(request, field, value, refs):
    """A value of a history entry as markup (links, translated words, locale numbers)."""
    from markupsafe import Markup, escape

    from kyklos.entities import display

    if field is None:
        return escape(str(value)) if value not in (None, "", [], {}) else Markup("—")
    cell = display.format_value(request, field, value, refs.get(field.name))
    if not cell.text:
        return Markup("—")
    if field.type in ("text", "string", "richtext") and len(cell.text) > 120:
        return escape(cell.text[:119] + "…")
    if field.type == "richtext":
        return escape(cell.text)  # a change reads as words, not as formatting
    return cell.markup


#: server-owned fields a history line never shows: the entry's sentence already names who
#: and when, and a person has no use for a row number or a version counter
_UNSHOWN = frozenset(
    {"id", "version", "created_at", "updated_at", "created_by_id", "updated_by_id"}
)


def describe(request, et, entry, who, readable, refs) -> tuple:
    """``(title, detail)`` of one entry as markup: a sentence, and one line per changed
    field ("Stage: Offer sent → Negotiation") when several changed."""
    from markupsafe import Markup

    from kyklos.entities import display

    who = who or request.localizer.translate(_SOMEONE)
    changes = {k: v for k, v in (entry.changes or {}).items() if k in readable}
    rows = []
    for name, pair in changes.items():
        field = et.fields.get(name)
        if field is not None and not field.form and (field.virtual or not field.display):
            # what a person has no words for: a convenience copy of another field (one
            # phone of a list), the parts a number is made of (year, seq). A server-set
            # field with a display of its own (an event's extra occurrences) stays.
            continue
        if name in _UNSHOWN:
            continue
        label = request.localizer.translate(field.title) if field else name
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        if entry.action != "update" and display._empty(new):
            continue
        rows.append(
            (label, old, new, _show(request, field, old, refs), _show(request, field, new, refs))
        )
    if entry.action == "update" and len(rows) == 1:
        label, old, new, old_m, new_m = rows[0]
        if display._empty(old):
            title = display.sentence(request, _SET, who=who, field=label, new=new_m)
        elif display._empty(new):
            title = display.sentence(request, _CLEARED, who=who, field=label, old=old_m)
        else:
            title = display.sentence(request, _CHANGED, who=who, field=label, old=old_m, new=new_m)
        return title, Markup("")
    title = display.sentence(request, _SENTENCES.get(entry.action, _SENTENCES["update"]), who=who)
    lines = []
    for label, old, _new, old_m, new_m in rows:
        if entry.action == "update" and not display._empty(old):
            line = Markup("{}: {} → {}").format(label, old_m, new_m)
        else:
            line = Markup("{}: {}").format(label, new_m)
        lines.append(Markup('<span class="d-block">{}</span>').format(line))
    return title, Markup("").join(lines)


def timeline(request, et, record, limit: int = 100) -> list:
    """The record's timeline: its history plus what plugins add through the
    ``kyklos_timeline_items`` hook, newest first (:class:`kyklos.web.TimelineItem`).

    History entries read as sentences with the same rendering as the record's page:
    titles of referenced records (one query per referenced type), translated choices,
    values per locale."""
    from kyklos.security import rules
    from kyklos.web import TimelineItem

    readable, _writable = rules.field_access(request, et)
    shown = []
    for entry, who in entries(request, et, record.id, limit=limit):
        changes = {k: v for k, v in (entry.changes or {}).items() if k in readable}
        if entry.action == "update" and not changes:
            continue  # only unreadable fields changed: nothing this user may see
        shown.append((entry, who))
    refs = _history_refs(request, et, shown)
    items = []
    for entry, who in shown:
        title, detail = describe(request, et, entry, who, readable, refs)
        items.append(
            TimelineItem(
                when=entry.at,
                title=title,
                detail=detail,
                who=who or "",
                kind=f"history.{entry.action}",
            )
        )
    items += collect(
        request.registry.kyklos_pm,
        "kyklos_timeline_items",
        request=request,
        entity_type=et,
        record=record,
    )
    return sorted(items, key=lambda i: _sort_key(i.when), reverse=True)


def _sort_key(when):
    if isinstance(when, dt.datetime):
        return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    if isinstance(when, dt.date):
        return dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)
    return dt.datetime.min.replace(tzinfo=dt.UTC)
