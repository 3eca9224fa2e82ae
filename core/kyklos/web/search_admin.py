"""Administration of the search index: how many records of each type are indexed, and
a button that rebuilds the index and the duplicate keys as a background job whose
progress the page shows (``jobs.js`` polls the job's row, as on ``/jobs``)."""

from __future__ import annotations

from types import SimpleNamespace

from pyramid.httpexceptions import HTTPFound
from sqlalchemy import func, select

from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.web import MenuItem

PERMISSION = "kyklos.admin"


def _counts(request) -> list[SimpleNamespace]:
    from kyklos.entities.search import SearchDoc

    db = request.dbsession
    indexed = dict(
        db.execute(select(SearchDoc.entity, func.count()).group_by(SearchDoc.entity)).all()
    )
    rows = []
    for et in request.registry.kyklos_entities.values():
        if not et.searchable:
            continue
        stmt = select(func.count()).select_from(et.model)
        if hasattr(et.model, "deleted_at"):
            stmt = stmt.where(et.model.deleted_at.is_(None))
        total = db.execute(stmt).scalar() or 0
        rows.append(SimpleNamespace(type=et, records=total, indexed=indexed.get(et.name, 0)))
    return sorted(rows, key=lambda r: str(request.localizer.translate(r.type.plural)))


def search_admin(request):
    from kyklos.db import utcnow
    from kyklos.entities.upkeep import JOB
    from kyklos.jobs import enqueue
    from kyklos.jobs.models import Job
    from kyklos.jobs.runner import live_progress
    from kyklos.jobs.views import width_class

    if request.method == "POST":
        entity = request.POST.get("entity") or None
        if entity not in request.registry.kyklos_entities:
            entity = None
        enqueue(
            request,
            JOB,
            args={"entity": entity} if entity else {},
            key=f"search.rebuild.{entity or 'all'}.{utcnow():%Y%m%d%H%M%S}",
        )
        request.session.flash(
            _("The search index is being rebuilt; progress shows below."), "success"
        )
        return HTTPFound(request.route_url("admin.search"))
    jobs = (
        request.dbsession.execute(
            select(Job).where(Job.name == JOB).order_by(Job.created_at.desc()).limit(5)
        )
        .scalars()
        .all()
    )
    live = {j.id: live_progress(request.registry, j.id) for j in jobs if j.state == "running"}
    return {
        "title": _("Search index"),
        "rows": _counts(request),
        "jobs": jobs,
        "live": {k: v for k, v in live.items() if v},
        "width_class": width_class,
        "bar": {
            "running": "progress-bar-striped progress-bar-animated",
            "done": "bg-success",
            "failed": "bg-danger",
            "retrying": "bg-warning",
            "queued": "bg-secondary",
            "cancelled": "bg-secondary",
        },
    }


class SearchAdminHooks:
    @hookimpl
    def kyklos_admin_items(self, request):
        return [
            MenuItem(
                _("Search index"),
                request.route_url("admin.search"),
                PERMISSION,
                "search",
                order=800,
            )
        ]


def includeme(config):
    config.add_hooks(SearchAdminHooks(), name="kyklos.web.search_admin")
    config.add_route("admin.search", "/admin/search")
    config.add_view(
        search_admin,
        route_name="admin.search",
        renderer="kyklos:web/templates/admin_search.pt",
        permission=PERMISSION,
    )
