"""Segments: named lists of records of one entity type, for campaigns, calls and mass
activities.

A *dynamic* segment is a condition tree evaluated whenever it is used; a *static* one
is a snapshot of members (taken from the conditions when saved) that users then add to
or remove from by hand. A definition is::

    {"and": [
        {"field": "account.city", "op": "eq", "value": "Θεσσαλονίκη"},
        {"or": [{"field": "job_title", "op": "eq", "value": "IT director"},
                {"field": "cf_level", "op": "gte", "value": 3}]}]}

Fields, related paths and operators are those of list filters (custom fields included),
plus ``<reference>.<field>`` for every reference field to another entity type. Members
are always seen through the user's record rules: a shared segment never shows anyone
records they could not open.
"""

from __future__ import annotations

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    and_,
    delete,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, utcnow
from kyklos.entities import RecordError, query, service
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _

KINDS = ("static", "dynamic")
MAX_DEPTH = 10
MAX_CONDITIONS = 200
MAX_STATIC = 100_000


class Segment(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyklos_segment"

    entity: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="dynamic")
    definition: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


class SegmentMember(Base):
    __tablename__ = "kyklos_segment_member"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_segment.id", ondelete="CASCADE"), primary_key=True
    )
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    added_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# --- paths and compiling ------------------------------------------------------------------


def paths_for(request, et) -> dict[str, query.FilterPath]:
    """Every path a condition may name: the list's filters, plus ``<ref>.<field>`` for
    each readable reference field to another type (``account_id`` -> ``account.city``)."""
    readable, _w = service.field_access(request, et)
    out = query.filter_paths(
        request.registry, et, readable, lambda t: service.field_access(request, t)[0]
    )
    for name, f in et.fields.items():
        if f.type != "reference" or name not in readable or f.custom:
            continue
        target = request.registry.kyklos_entities.get(f.reference)
        if target is None:
            continue
        prefix = name[:-3] if name.endswith("_id") else name
        t_readable = service.field_access(request, target)[0]
        for tname in target.filterable:
            if tname in t_readable:
                out.setdefault(
                    f"{prefix}.{tname}",
                    query.FilterPath(f"{prefix}.{tname}", target.fields[tname], target, name),
                )
    return out


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    if value is None:
        return ""
    return str(value)


def compile_definition(request, et, definition, paths=None):
    """The SQL condition of a definition. Raises :class:`RecordError` naming every bad
    condition by its position (``and.1.or.0.value``)."""
    paths = paths if paths is not None else paths_for(request, et)
    errors: dict = {}
    count = [0]

    def walk(node, where: str, depth: int):
        if depth > MAX_DEPTH:
            errors[where or "definition"] = _(
                "Nested more than ${n} levels.", mapping={"n": MAX_DEPTH}
            )
            return None
        if not isinstance(node, dict):
            errors[where or "definition"] = _("Send an object.")
            return None
        groups = [k for k in ("and", "or") if k in node]
        if groups:
            if len(node) != 1 or not isinstance(node[groups[0]], list):
                errors[where or "definition"] = _('A group is {"and": [...]} or {"or": [...]}.')
                return None
            key = groups[0]
            parts = [
                walk(c, f"{where}.{key}.{i}".lstrip("."), depth + 1)
                for i, c in enumerate(node[key])
            ]
            parts = [p for p in parts if p is not None]
            if not node[key]:
                return true() if key == "and" else false()
            return and_(true(), *parts) if key == "and" else or_(false(), *parts)
        count[0] += 1
        if count[0] > MAX_CONDITIONS:
            errors["definition"] = _("At most ${n} conditions.", mapping={"n": MAX_CONDITIONS})
            return None
        extra = set(node) - {"field", "op", "value"}
        field, op = node.get("field"), node.get("op", "eq")
        path = paths.get(field) if isinstance(field, str) else None
        if extra or path is None:
            errors[f"{where}.field".lstrip(".")] = _(
                "Unknown field: ${field}", mapping={"field": str(field)[:50]}
            )
            return None
        if op not in query.ops_for(path.field):
            errors[f"{where}.op".lstrip(".")] = _(
                "Operator ${op} is not allowed here; use one of: ${ops}",
                mapping={"op": str(op)[:20], "ops": ", ".join(query.ops_for(path.field))},
            )
            return None
        try:
            value = query._parse_filter_value(path.field, op, _text(node.get("value")))
        except query._Bad as exc:
            errors[f"{where}.value".lstrip(".")] = exc.args[0]
            return None
        return query.path_condition(request, et, path, op, value)

    cond = walk(definition if definition else {"and": []}, "", 0)
    if errors:
        raise RecordError(errors)
    return cond


def definition_select(request, et, definition):
    """``select(id)`` of the visible records matching ``definition``."""
    cond = compile_definition(request, et, definition)
    return service.visible_select(request, et).with_only_columns(et.model.id).where(cond)


def get_segment(request, segment_id) -> Segment:
    """The segment if its type is readable by the user; 404 otherwise."""
    from pyramid.httpexceptions import HTTPNotFound

    try:
        seg = request.dbsession.get(Segment, int(segment_id))
    except (TypeError, ValueError):
        seg = None
    if seg is None or seg.entity not in request.registry.kyklos_entities:
        raise HTTPNotFound()
    et = request.registry.kyklos_entities[seg.entity]
    if not request.has_permission(et.permission("read")):
        raise HTTPNotFound()
    return seg


def visible_segments(request, entity=None) -> list[Segment]:
    """The segments of the types the user may read, by name (``entity`` narrows to one
    type): what a "pick a segment" drop-down offers."""
    names = [
        n
        for n, et in request.registry.kyklos_entities.items()
        if request.has_permission(et.permission("read"))
    ]
    stmt = select(Segment).where(Segment.entity.in_(names)).order_by(Segment.name, Segment.id)
    if entity:
        stmt = stmt.where(Segment.entity == entity)
    return request.dbsession.execute(stmt).scalars().all()


def segment_select(request, segment_id):
    """``select(id)`` of a segment's members the user may see (for campaigns, calls,
    mass activities: ``select(Person).where(Person.id.in_(segment_select(...)))``)."""
    seg = get_segment(request, segment_id)
    et = request.registry.kyklos_entities[seg.entity]
    if seg.kind == "dynamic":
        return definition_select(request, et, seg.definition)
    members = select(SegmentMember.record_id).where(SegmentMember.segment_id == seg.id)
    return (
        service.visible_select(request, et)
        .with_only_columns(et.model.id)
        .where(et.model.id.in_(members))
    )


def segments_containing(request, entity: str, record_id: int, segment_ids) -> set[int]:
    """The ids among ``segment_ids`` of the segments of ``entity`` that hold the record
    ``record_id`` now (a dynamic one by its conditions, a static one by its members).

    Unlike :func:`segment_select`, the user's record rules are not applied: this answers
    a business rule about one record the caller already may read ("is this account in
    the segment a price list names?"), whose answer must not change with who asks. One
    query for the static segments and one per dynamic one; a segment whose conditions no
    longer compile (a field removed) holds nobody."""
    et = request.registry.kyklos_entities.get(entity)
    ids = {int(i) for i in segment_ids if i is not None}
    if et is None or not ids or record_id is None:
        return set()
    db = request.dbsession
    segs = db.execute(
        select(Segment.id, Segment.kind, Segment.definition).where(
            Segment.id.in_(sorted(ids)), Segment.entity == entity
        )
    ).all()
    found: set[int] = set()
    static = [s.id for s in segs if s.kind == "static"]
    if static:
        found |= set(
            db.execute(
                select(SegmentMember.segment_id).where(
                    SegmentMember.segment_id.in_(static), SegmentMember.record_id == record_id
                )
            ).scalars()
        )
    for seg in segs:
        if seg.kind == "static":
            continue
        try:
            cond = compile_definition(request, et, seg.definition)
        except RecordError:
            continue
        hit = db.execute(select(et.model.id).where(et.model.id == record_id, cond).limit(1)).first()
        if hit is not None:
            found.add(seg.id)
    return found


def may_edit(request, seg: Segment) -> bool:
    return seg.created_by_id == service.user_id(request) or bool(
        request.has_permission("kyklos.admin")
    )


def snapshot(request, seg: Segment) -> int:
    """Replace a static segment's members by the records its definition matches now."""
    et = request.registry.kyklos_entities[seg.entity]
    ids = (
        request.dbsession.execute(
            definition_select(request, et, seg.definition).limit(MAX_STATIC + 1)
        )
        .scalars()
        .all()
    )
    if len(ids) > MAX_STATIC:
        raise RecordError(
            {
                "definition": _(
                    "More than ${n} records: narrow the conditions.", mapping={"n": MAX_STATIC}
                )
            }
        )
    db = request.dbsession
    db.execute(delete(SegmentMember).where(SegmentMember.segment_id == seg.id))
    if ids:
        now = utcnow()
        db.execute(
            SegmentMember.__table__.insert(),
            [{"segment_id": seg.id, "record_id": i, "added_at": now} for i in ids],
        )
    return len(ids)


def change_members(request, seg: Segment, add=(), remove=()) -> None:
    """Add or remove members of a static segment by id; only records the user can see
    may be added (an invisible id is "not found")."""
    if seg.kind != "static":
        raise RecordError({"": _("Only static segments have members to change.")})
    et = request.registry.kyklos_entities[seg.entity]
    for key, ids in (("add", add), ("remove", remove)):
        if (
            not isinstance(ids, list | tuple)
            or len(ids) > 1000
            or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)
        ):
            raise RecordError({key: _("Send up to 1000 record ids.")})
    db = request.dbsession
    if add:
        visible = set(
            db.execute(
                service.visible_select(request, et)
                .with_only_columns(et.model.id)
                .where(et.model.id.in_(list(add)))
            ).scalars()
        )
        missing = [i for i in add if i not in visible]
        if missing:
            raise RecordError(
                {"add": _("Not found: ${ids}", mapping={"ids": ", ".join(map(str, missing[:20]))})},
                status=404,
            )
        have = set(
            db.execute(
                select(SegmentMember.record_id).where(
                    SegmentMember.segment_id == seg.id, SegmentMember.record_id.in_(list(add))
                )
            ).scalars()
        )
        for i in dict.fromkeys(add):
            if i not in have:
                db.add(SegmentMember(segment_id=seg.id, record_id=i))
    if remove:
        db.execute(
            delete(SegmentMember).where(
                SegmentMember.segment_id == seg.id, SegmentMember.record_id.in_(list(remove))
            )
        )
    db.flush()


def save_segment(request, data: dict, seg: Segment | None = None) -> Segment:
    """Create or change a segment from ``{entity, name, kind, definition, description}``."""
    errors: dict = {}
    if not isinstance(data, dict):
        raise RecordError({"": _("Send an object.")})
    unknown = set(data) - {"entity", "name", "kind", "definition", "description"}
    for k in unknown:
        errors[str(k)[:50]] = _("Unknown field.")
    entity = data.get("entity", seg.entity if seg else None)
    et = request.registry.kyklos_entities.get(entity) if isinstance(entity, str) else None
    if et is None or not request.has_permission(et.permission("read")):
        raise RecordError({"entity": _("Unknown entity type.")})
    if seg is not None and entity != seg.entity:
        errors["entity"] = _("This cannot be changed.")
    name = data.get("name", seg.name if seg else "")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors["name"] = _("Give a name of up to 200 characters.")
    kind = data.get("kind", seg.kind if seg else "dynamic")
    if kind not in KINDS:
        errors["kind"] = _("Use static or dynamic.")
    desc = data.get("description", seg.description if seg else "")
    if not isinstance(desc, str) or len(desc) > 2000:
        errors["description"] = _("At most ${n} characters.", mapping={"n": 2000})
    definition = data.get("definition", seg.definition if seg else {"and": []})
    try:
        compile_definition(request, et, definition)
    except RecordError as exc:
        errors.update(
            {
                f"definition.{k}" if not k.startswith("definition") else k: v
                for k, v in exc.errors.items()
            }
        )
    if errors:
        raise RecordError(errors)
    if seg is None:
        seg = Segment(entity=entity, created_by_id=service.user_id(request))
        request.dbsession.add(seg)
    seg.name, seg.kind, seg.description, seg.definition = name.strip(), kind, desc, definition
    request.dbsession.flush()
    if kind == "static" and ("definition" in data or "kind" in data):
        snapshot(request, seg)
    return seg


class Hooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        from kyklos.web import MenuItem

        return [
            MenuItem(
                _("Segments"), request.route_url("segments"), "authenticated", "funnel", order=900
            )
        ]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos.segments")
    config.include(".views")
