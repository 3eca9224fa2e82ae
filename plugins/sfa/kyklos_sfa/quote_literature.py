"""Sales literature on a quote (SFA-16): the quote page offers the current documents of
its lines' products (and their categories) in the quote's language, valid today; the
chosen ones are attached to the quote as copies of their current files, so they stay
with the offer even when the library gets a new version."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render
from sqlalchemy import select

from kyklos_sdk import Panel, Problem, get_entity_type, get_record, hookimpl, read_json

from . import _
from .catalog_lines import quote_language
from .models import QuoteLine

ID = r"{id:\d{1,18}}"


def _offered(request, quote):
    from kyklos_catalog.literature import offered

    pids = request.dbsession.execute(
        select(QuoteLine.product_id).where(
            QuoteLine.quote_id == quote.id, QuoteLine.product_id.is_not(None)
        )
    ).scalars()
    return offered(request, list(dict.fromkeys(pids)), quote_language(request, quote))


def _attach(request, quote, raw_ids) -> list[str]:
    from kyklos_catalog.literature_views import attach_to_record

    offered_ids = {d.id for d, _f in _offered(request, quote)}
    try:
        ids = [int(i) for i in raw_ids]
    except (TypeError, ValueError):
        ids = []
    if not ids or not set(ids) <= offered_ids:
        msg = _("Choose documents offered for this quote.")
        raise Problem(400, _("Nothing attached"), errors={"literature_ids": msg})
    return attach_to_record(request, get_entity_type(request, "quote"), quote, ids)


def api_attach(request):
    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"], action="update")
    body = read_json(request)
    raw = body.get("literature_ids") if isinstance(body, dict) else None
    names = _attach(request, quote, raw if isinstance(raw, list) else [])
    request.response.status = 201
    return {"attached": names}


def api_offered(request):
    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"])
    return {
        "language": quote_language(request, quote),
        "items": [
            {
                "id": d.id,
                "title": d.title,
                "kind": d.kind,
                "language": d.language,
                "filename": f["filename"],
                "versions": f["versions"],
            }
            for d, f in _offered(request, quote)
        ],
    }


def ui_attach(request):
    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"], action="update")
    back = request.route_url("entity.detail", slug=et.slug, id=quote.id)
    tr = request.localizer.translate
    if request.POST.get("csrf_token") != request.session.get_csrf_token():
        request.session.flash(tr(_("The form expired; send it again.")), "danger")
        return HTTPSeeOther(back)
    try:
        names = _attach(request, quote, request.POST.getall("literature_ids"))
    except Problem as exc:
        request.session.flash(tr(next(iter(exc.errors.values()))), "danger")
        return HTTPSeeOther(back)
    request.session.flash(
        tr(_("Attached to the quote: ${names}", mapping={"names": ", ".join(names)})), "success"
    )
    return HTTPSeeOther(back + "#attachments")


class Hooks:
    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "quote" or not request.has_permission("catalog.literature.read"):
            return None
        docs = _offered(request, record)
        if not docs:
            return None
        from kyklos_catalog.literature import KINDS

        from kyklos_sdk import LANGUAGES

        tr = request.localizer.translate
        html = render(
            "kyklos_sfa:templates/panel_quote_literature.pt",
            {
                "quote": record,
                "docs": docs,
                "kinds": {k: tr(v) for k, v in KINDS},
                "languages": LANGUAGES,
                "can_attach": request.has_permission("sfa.quote.update"),
                "send_url": request.route_path(
                    "catalog.literature.send", _query={"entity": "quote", "id": record.id}
                ),
            },
            request=request,
        )
        return [Panel(_("Literature"), html=html, count=len(docs), order=7)]


def includeme(config):
    config.add_route(
        "sfa.api.quote.literature", f"/api/v1/quotes/{ID}/literature", request_method="POST"
    )
    config.add_view(
        api_attach,
        route_name="sfa.api.quote.literature",
        renderer="json",
        permission="sfa.quote.update",
    )
    config.add_route(
        "sfa.api.quote.literature.offered",
        f"/api/v1/quotes/{ID}/literature",
        request_method="GET",
    )
    config.add_view(
        api_offered,
        route_name="sfa.api.quote.literature.offered",
        renderer="json",
        permission="catalog.literature.read",
    )
    config.add_route("sfa.quote.literature", f"/sfa/quotes/{ID}/literature", request_method="POST")
    config.add_view(ui_attach, route_name="sfa.quote.literature", permission="sfa.quote.update")
    config.add_hooks(Hooks(), name="kyklos_sfa.quote_literature")
    config.add_openapi_paths(openapi_paths)


def openapi_paths(request) -> dict:
    from kyklos_sdk import openapi as o

    item = o.obj(
        {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "kind": {"type": "string"},
            "language": {"type": ["string", "null"]},
            "filename": {"type": "string"},
            "versions": {"type": "integer"},
        },
        strict=False,
    )
    return {
        "/api/v1/quotes/{id}/literature": {
            "get": o.operation(
                "Sales",
                "quote_literature_offered",
                {
                    "200": o.json_ok(
                        o.obj({"language": {"type": "string"}, "items": o.array(item)})
                    ),
                    **o.problems("401", "403", "404"),
                },
                "The sales literature offered for a quote: its products' current documents "
                "in the quote's language, valid today",
                parameters=[o.path_id()],
            ),
            "post": o.operation(
                "Sales",
                "quote_literature_attach",
                {
                    "201": o.json_ok(o.obj({"attached": o.array({"type": "string"})})),
                    **o.problems("400", "401", "403", "404", "415"),
                },
                "Attach offered documents to the quote (copies of their current files)",
                parameters=[o.path_id()],
                body=o.json_body(
                    o.obj(
                        {"literature_ids": o.array({"type": "integer", "minimum": 1})},
                        required=("literature_ids",),
                        strict=False,
                    )
                ),
            ),
        }
    }
