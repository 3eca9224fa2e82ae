"""Tags (CORE-03): global labels with a colour, attached to records of any type.

A tag is global (``VIP`` means the same on a person and on an account) and unique by its
case-folded name. Tagging a record needs ``update`` on it; seeing its tags needs ``read``.
Lists filter by tag with :func:`tag_filter_clause`.
"""

from __future__ import annotations

import hashlib
import unicodedata

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from sqlalchemy import ForeignKey, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, UTCDateTime, utcnow
from kyklos.entities.display import flash
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.problem import Problem

#: colours are CSS classes (``k-tag-<colour>``), never inline styles: the CSP forbids them
COLOURS = ("blue", "green", "red", "orange", "purple", "teal", "pink", "grey")
MAX_NAME = 64


class Tag(IdMixin, Base):
    __tablename__ = "kyklos_tag"

    name: Mapped[str] = mapped_column(String(MAX_NAME), nullable=False)
    #: the case-folded name: "VIP" and "vip" are one tag on both databases
    key: Mapped[str] = mapped_column(String(MAX_NAME * 3), nullable=False, unique=True)
    colour: Mapped[str] = mapped_column(String(16), nullable=False, default="blue")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    @property
    def css_class(self) -> str:
        return f"k-tag-{self.colour if self.colour in COLOURS else 'grey'}"


class TagLink(Base):
    __tablename__ = "kyklos_tag_link"
    __table_args__ = (Index("ix_kyklos_tag_link_record", "entity", "record_id"),)

    tag_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_tag.id", ondelete="CASCADE"), primary_key=True
    )
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True)


def clean_name(name) -> str:
    """A tag name as stored: NFC, single spaces, no control characters."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = "".join(c for c in text if unicodedata.category(c)[0] != "C")
    return " ".join(text.split())[:MAX_NAME]


def tag_key(name) -> str:
    return clean_name(name).casefold()


def default_colour(name: str) -> str:
    digest = hashlib.sha256(tag_key(name).encode()).digest()
    return COLOURS[digest[0] % len(COLOURS)]


def tag_filter_clause(et, names, match_all: bool = False):
    """SQL criterion on ``et.model``: records carrying any (or, with ``match_all``, every)
    of the tags ``names``. Unknown names match nothing. Used by list filters
    (``tag=`` in the UI, ``tags__in=`` in the API) and saved views."""
    keys = sorted({tag_key(n) for n in names if tag_key(n)})
    sub = (
        select(TagLink.record_id)
        .join(Tag, Tag.id == TagLink.tag_id)
        .where(TagLink.entity == et.name, Tag.key.in_(keys))
    )
    if match_all and len(keys) > 1:
        sub = sub.group_by(TagLink.record_id).having(func.count(TagLink.tag_id) == len(keys))
    return et.model.id.in_(sub)


def tags_for(dbsession, et, record_ids) -> dict[int, list[Tag]]:
    """The tags of many records in one query: ``{record_id: [Tag, ...]}`` by name."""
    ids = list(record_ids)
    out: dict[int, list[Tag]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = dbsession.execute(
        select(TagLink.record_id, Tag)
        .join(Tag, Tag.id == TagLink.tag_id)
        .where(TagLink.entity == et.name, TagLink.record_id.in_(ids))
        .order_by(Tag.key)
    ).all()
    for rid, tag in rows:
        out.setdefault(rid, []).append(tag)
    return out


def record_tag_ids(dbsession, entity: str, record_id) -> set[int]:
    """The ids of the tags one record of ``entity`` carries (one query)."""
    if record_id is None:
        return set()
    return set(
        dbsession.execute(
            select(TagLink.tag_id).where(
                TagLink.entity == entity, TagLink.record_id == int(record_id)
            )
        ).scalars()
    )


def all_tags(dbsession, et=None) -> list[Tag]:
    """Every tag, or those used on ``et``'s records (for filter choices)."""
    stmt = select(Tag).order_by(Tag.key)
    if et is not None:
        stmt = stmt.where(
            Tag.id.in_(select(TagLink.tag_id).where(TagLink.entity == et.name).distinct())
        )
    return list(dbsession.execute(stmt).scalars())


def visible_tags(request, et=None) -> list[Tag]:
    """The tags on at least one record of ``et`` (or of any type) the user may read: a
    tag's name tells about the records it is on, so it is never suggested or offered as
    a filter from records the user cannot see."""
    from sqlalchemy import and_, or_

    from kyklos.entities import service

    db = request.dbsession
    if et is not None:
        types = [et]
    else:
        used = set(db.execute(select(TagLink.entity).distinct()).scalars())
        reg = request.registry.kyklos_entities
        types = [reg[n] for n in sorted(used) if n in reg]
    clauses = [
        and_(
            TagLink.entity == t.name,
            TagLink.record_id.in_(service.visible_select(request, t).with_only_columns(t.model.id)),
        )
        for t in types
        if request.has_permission(t.permission("read"))
    ]
    if not clauses:
        return []
    linked = select(TagLink.tag_id).where(or_(*clauses))
    return list(db.execute(select(Tag).where(Tag.id.in_(linked)).order_by(Tag.key)).scalars())


def get_or_create_tag(dbsession, name, colour=None) -> Tag:
    name = clean_name(name)
    if not name:
        raise Problem(400, _("Invalid tag"), errors={"name": _("A tag needs a name.")})
    tag = dbsession.execute(select(Tag).where(Tag.key == tag_key(name))).scalar_one_or_none()
    if tag is None:
        if colour is not None and colour not in COLOURS:
            raise Problem(
                400,
                _("Invalid tag"),
                errors={"colour": _("Choose one of: ${c}", mapping={"c": ", ".join(COLOURS)})},
            )
        tag = Tag(name=name, key=tag_key(name), colour=colour or default_colour(name))
        dbsession.add(tag)
        dbsession.flush()
    return tag


def add_tag(request, et, record, name, colour=None) -> Tag:
    """Tag ``record`` (the caller has checked ``update`` access). Idempotent."""
    db = request.dbsession
    tag = get_or_create_tag(db, name, colour)
    exists = db.get(TagLink, (tag.id, et.name, record.id))
    if exists is None:
        db.add(TagLink(tag_id=tag.id, entity=et.name, record_id=record.id))
        db.flush()
    return tag


def remove_tag(request, et, record, name) -> bool:
    db = request.dbsession
    tag = db.execute(select(Tag).where(Tag.key == tag_key(name))).scalar_one_or_none()
    if tag is None:
        return False
    res = db.execute(
        delete(TagLink).where(
            TagLink.tag_id == tag.id, TagLink.entity == et.name, TagLink.record_id == record.id
        )
    )
    return bool(res.rowcount)


def forget_record(dbsession, et, record_id) -> None:
    """Drop a purged record's tag links."""
    dbsession.execute(
        delete(TagLink).where(TagLink.entity == et.name, TagLink.record_id == record_id)
    )


class TagHooks:
    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record, soft):
        # A soft-deleted record keeps its tags for a restore.
        if not soft:
            forget_record(request.dbsession, entity_type, record.id)


def tag_json(tag: Tag) -> dict:
    return {"id": tag.id, "name": tag.name, "colour": tag.colour}


# --- views ----------------------------------------------------------------------------


def _record(request, action="read"):
    """The record named by the route, 404 unless visible; 403 unless ``action`` allowed."""
    from kyklos.entities import service
    from kyklos.security import rules

    et = service.get_entity_type(request, request.matchdict["slug"])
    try:
        rid = int(request.matchdict["id"])
    except ValueError:
        raise HTTPNotFound() from None
    record = service.get_record(request, et, rid)
    if action != "read" and not rules.can_access(request, et, record, action):
        raise HTTPForbidden()
    return et, record


def api_list(request):
    et, record = _record(request)
    return {"items": [tag_json(t) for t in tags_for(request.dbsession, et, [record.id])[record.id]]}


def api_add(request):
    et, record = _record(request, "update")
    from kyklos.entities.api import read_json  # api imports this module

    # read_json: media type, size and syntax checked like every other API body.
    body = read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise Problem(400, _("Invalid tag"), errors={"name": _("A tag needs a name.")})
    colour = body.get("colour")
    if colour is not None and not isinstance(colour, str):
        raise Problem(400, _("Invalid tag"), errors={"colour": _("Must be a string.")})
    tag = add_tag(request, et, record, body["name"], colour)
    request.response.status = 201
    return tag_json(tag)


def api_remove(request):
    et, record = _record(request, "update")
    if not remove_tag(request, et, record, request.matchdict["tag"]):
        raise Problem(404, _("Not found"), _("The record does not carry this tag."))
    request.response.status = 204
    return request.response


def ui_add(request):
    et, record = _record(request, "update")
    names = [n for n in request.POST.get("tags", "").split(",") if clean_name(n)]
    for name in names[:20]:
        add_tag(request, et, record, name)
    if names:
        flash(request, _("Tags added."), "success")
    return HTTPSeeOther(request.route_url("entity.detail", slug=et.slug, id=record.id))


def ui_remove(request):
    et, record = _record(request, "update")
    if remove_tag(request, et, record, request.POST.get("tag", "")):
        flash(request, _("Tag removed."), "success")
    return HTTPSeeOther(request.route_url("entity.detail", slug=et.slug, id=record.id))


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    tag = o.obj(
        {"id": {"type": "integer"}, "name": {"type": "string"}, "colour": {"type": "string"}},
        ["id", "name", "colour"],
    )
    record = [o.slug_param(request), o.path_id()]
    return {
        "/api/v1/{slug}/{id}/tags": {
            "get": o.operation(
                "Tags",
                "list_record_tags",
                {"200": o.json_ok(o.page_of(tag, cursor=False)), **o.problems("401", "403", "404")},
                parameters=record,
            ),
            "post": o.operation(
                "Tags",
                "add_record_tag",
                {
                    "201": o.json_ok(tag, "the tag (created if new)"),
                    **o.problems("400", "401", "403", "404"),
                },
                summary="Tag the record (idempotent); a new tag gets the colour given",
                parameters=record,
                body=o.json_body(
                    o.obj(
                        {
                            # a name keeps letters/digits once control characters go
                            "name": {"type": "string", "maxLength": 200, "pattern": "[A-Za-z0-9]"},
                            "colour": {"type": "string", "enum": list(COLOURS)},
                        },
                        ["name"],
                        strict=False,
                    )
                ),
            ),
        },
        "/api/v1/{slug}/{id}/tags/{tag}": {
            "delete": o.operation(
                "Tags",
                "remove_record_tag",
                {"204": o.no_content("removed"), **o.problems("401", "403", "404")},
                parameters=[*record, o.param("tag", {"type": "string", "maxLength": 200}, "path")],
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_hooks(TagHooks(), name="kyklos.tags")
    config.add_route("api.entity.tags", r"/api/v1/{slug}/{id:\d+}/tags", kyklos_slug=True)
    config.add_view(api_list, route_name="api.entity.tags", request_method="GET", renderer="json")
    config.add_view(api_add, route_name="api.entity.tags", request_method="POST", renderer="json")
    config.add_route("api.entity.tag", r"/api/v1/{slug}/{id:\d+}/tags/{tag}", kyklos_slug=True)
    config.add_view(api_remove, route_name="api.entity.tag", request_method="DELETE")
    config.add_route(
        "entity.tags.add", r"/{slug}/{id:\d+}/tags", request_method="POST", kyklos_slug=True
    )
    config.add_view(ui_add, route_name="entity.tags.add")
    config.add_route(
        "entity.tags.remove",
        r"/{slug}/{id:\d+}/tags/remove",
        request_method="POST",
        kyklos_slug=True,
    )
    config.add_view(ui_remove, route_name="entity.tags.remove")
