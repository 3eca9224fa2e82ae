"""Saved list views: a user's named set of filters, columns and sort for one type,
optionally shared with everyone who can read that type.

A view stores list *parameters*, never SQL: applying one sends them through the same
allow-listed parser as a typed URL, so a view naming a field that no longer exists (or
one the user may not read) shows an error on the list page instead of leaking or failing.
"""

from __future__ import annotations

import re

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from sqlalchemy import Boolean, ForeignKey, Index, String, or_, select
from sqlalchemy.orm import Mapped, mapped_column
from webob.multidict import MultiDict

from kyklos.db import Base, IdMixin, JSONType, UTCDateTime, utcnow
from kyklos.entities.display import flash
from kyklos.i18n import _

#: list parameters a view may hold besides ``<field>__<op>`` filters
PLAIN_KEYS = ("cols", "sort", "q", "tag", "limit")
MAX_PARAMS = 60
FILTER_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,80}__[a-z]{1,12}")


class SavedView(IdMixin, Base):
    __tablename__ = "kyklos_saved_view"
    __table_args__ = (Index("ix_kyklos_saved_view_entity", "entity", "user_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), nullable=False
    )
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: the list's query parameters as ``[[key, value], ...]`` (order kept)
    params: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    shared: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def clean_params(multidict) -> list[list[str]]:
    """The list parameters worth keeping: filters, columns, sort, search, tags. No
    cursor (a view starts at the first page) and nothing else."""
    out = []
    for key, value in multidict.items():
        if not isinstance(value, str) or len(value) > 500:
            continue
        if key in PLAIN_KEYS or FILTER_KEY.fullmatch(key):
            out.append([key, value])
    return out[:MAX_PARAMS]


def views_for(request, et) -> list[SavedView]:
    """The user's own views of ``et`` and those others shared, by name."""
    ident = request.identity
    if ident is None:
        return []
    stmt = (
        select(SavedView)
        .where(
            SavedView.entity == et.name,
            or_(SavedView.user_id == ident.user.id, SavedView.shared.is_(True)),
        )
        .order_by(SavedView.name, SavedView.id)
    )
    return list(request.dbsession.execute(stmt).scalars())


def view_url(request, et, view: SavedView) -> str:
    query = [(k, v) for k, v in view.params] + [("view", str(view.id))]
    return request.route_url("entity.list", slug=et.slug, _query=query)


def save_view(request):
    from kyklos.entities import service

    et = service.get_entity_type(request, request.matchdict["slug"])
    if not request.has_permission(et.permission("read")):
        raise HTTPForbidden()
    name = " ".join(request.POST.get("name", "").split())[:100]
    back = request.route_url("entity.list", slug=et.slug)
    if not name:
        flash(request, _("Give the view a name."), "danger")
        return HTTPSeeOther(back)
    # The form carries the list's current parameters as hidden inputs named p.<key>.
    current = MultiDict(
        (k[2:], v) for k, v in request.POST.items() if k.startswith("p.") and isinstance(v, str)
    )
    params = clean_params(current)
    uid = request.identity.user.id
    view = request.dbsession.execute(
        select(SavedView).where(
            SavedView.user_id == uid, SavedView.entity == et.name, SavedView.name == name
        )
    ).scalar_one_or_none()
    if view is None:
        view = SavedView(user_id=uid, entity=et.name, name=name)
        request.dbsession.add(view)
    view.params = params
    view.shared = request.POST.get("shared") in ("1", "on", "true")
    request.dbsession.flush()
    flash(request, _("View “${name}” saved.", mapping={"name": name}), "success")
    return HTTPSeeOther(view_url(request, et, view))


def delete_view(request):
    from kyklos.entities import service

    et = service.get_entity_type(request, request.matchdict["slug"])
    vid = request.matchdict["vid"]
    view = request.dbsession.get(SavedView, int(vid)) if len(vid) < 10 else None
    ident = request.identity
    if view is None or view.entity != et.name:
        raise HTTPNotFound()
    if view.user_id != ident.user.id and not ident.is_admin:
        raise HTTPForbidden()
    request.dbsession.delete(view)
    flash(request, _("View “${name}” deleted.", mapping={"name": view.name}), "success")
    return HTTPSeeOther(request.route_url("entity.list", slug=et.slug))


def includeme(config):
    config.add_route("entity.views.save", "/{slug}/_views", request_method="POST", kyklos_slug=True)
    config.add_view(save_view, route_name="entity.views.save")
    config.add_route(
        "entity.views.delete",
        r"/{slug}/_views/{vid:\d+}/delete",
        request_method="POST",
        kyklos_slug=True,
    )
    config.add_view(delete_view, route_name="entity.views.delete")
