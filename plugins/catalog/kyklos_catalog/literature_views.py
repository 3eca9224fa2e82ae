"""Sales literature on the web and the API: the library page with its filters, the
"Literature" panel of a product, the send-by-e-mail form of a record and its API, the
offered documents over the API, and the sends on the timeline."""

from __future__ import annotations

import datetime as dt
import io

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from sqlalchemy import or_, select

from kyklos_sdk import (
    LANGUAGES,
    Action,
    MenuItem,
    Panel,
    Problem,
    attachments_of,
    format_date,
    get_entity_type,
    get_record,
    hookimpl,
    read_attachment,
    read_json,
    record_titles,
    send_mail,
    store_attachment,
    translate_for,
    visible_select,
)

from . import PERMISSIONS, _
from .literature import (
    KINDS,
    SEND_FROM,
    Literature,
    LiteratureSend,
    current_files,
    offered,
    timeline,
)

READ = PERMISSIONS["literature"]["read"]
MAX_MESSAGE = 5000
PAGE = 100
VALIDITY = [("valid", _("Valid now")), ("expired", _("Expired")), ("all", _("All"))]


# --- recipients and sending --------------------------------------------------------------


def recipients(request, entity: str, record) -> list:
    """The people of a record with an e-mail address that the user may see: a person
    themself; an account's people; an opportunity's or quote's contact and its account's
    people."""
    from kyklos_contacts.models import Person

    person_et = get_entity_type(request, "person")
    if entity == "person":
        where = Person.id == record.id
    else:
        account = record.id if entity == "account" else getattr(record, "account_id", None)
        pid = getattr(record, "person_id", None)
        conds = []
        if account:
            conds.append(Person.account_id == account)
        if pid:
            conds.append(Person.id == pid)
        if not conds:
            return []
        where = or_(*conds)
    stmt = visible_select(request, person_et).where(
        where, Person.email.is_not(None), Person.email != ""
    )
    return list(request.dbsession.execute(stmt.order_by(Person.id).limit(200)).scalars())


def person_label(person) -> str:
    name = " ".join(p for p in (person.first_name, person.last_name) if p) or person.email
    return f"{name} <{person.email}>"


def _send_source(request, entity, record_id):
    """The record documents are sent from, if the user may see it (404 otherwise)."""
    if entity not in SEND_FROM:
        raise HTTPNotFound()
    et = get_entity_type(request, entity)
    return et, get_record(request, et, record_id)


def _ids(raw) -> list[int]:
    out = []
    for v in raw if isinstance(raw, list | tuple) else [raw]:
        if isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
        elif isinstance(v, str) and v.isdigit() and len(v) < 10:
            out.append(int(v))
        else:
            raise ValueError(v)
    return out


def send_literature(request, entity, record, person_id, literature_ids, message) -> LiteratureSend:
    """Check everything, then send the documents' current files to one of the record's
    people and log it; :class:`Problem` 400 naming each bad field (nothing is sent)."""
    errors = {}
    db = request.dbsession
    people = {p.id: p for p in recipients(request, entity, record)}
    try:
        pid = _ids(person_id)[0] if person_id not in (None, "") else None
    except (ValueError, IndexError):
        pid = None
    person = people.get(pid)
    if person is None:
        errors["person_id"] = _("Choose one of the record's people with an e-mail address.")
    try:
        ids = list(dict.fromkeys(_ids(literature_ids or [])))
    except ValueError:
        ids = []
        errors["literature_ids"] = _("Choose documents of the library.")
    lit_et = get_entity_type(request, "literature")
    docs = []
    if ids:
        docs = (
            db.execute(visible_select(request, lit_et).where(Literature.id.in_(ids)))
            .scalars()
            .all()
        )
    files = current_files(db, [d.id for d in docs])
    if not ids and "literature_ids" not in errors:
        errors["literature_ids"] = _("Choose at least one document.")
    elif len(docs) != len(ids) or any(d.id not in files for d in docs):
        errors["literature_ids"] = _("Choose documents of the library that have a file.")
    message = (message or "").strip() if isinstance(message, str | type(None)) else None
    if message is None:
        errors["message"] = _("Write the message as text.")
    elif len(message) > MAX_MESSAGE:
        errors["message"] = _("Keep the message under ${n} characters.", mapping={"n": MAX_MESSAGE})
    if errors:
        raise Problem(400, _("The documents were not sent"), errors=errors)
    order = {i: n for n, i in enumerate(ids)}
    docs = sorted(docs, key=lambda d: order[d.id])
    attachments = []
    for doc in docs:
        att = attachments_of(db, lit_et, doc.id)[0]
        attachments.append((att.filename, att.content_type, read_attachment(request, att)))
    names = [a[0] for a in attachments]
    lang = person.language
    subject = translate_for(
        request, _("Documents: ${names}"), lang, mapping={"names": ", ".join(d.title for d in docs)}
    )
    listing = "\n".join(f"- {n}" for n in names)
    intro = translate_for(request, _("Attached:"), lang)
    text = f"{message}\n\n{intro}\n{listing}\n" if message else f"{intro}\n{listing}\n"
    user = request.identity.user if request.identity else None
    send_mail(
        request,
        person.email,
        subject,
        text,
        reply_to=getattr(user, "email", None),
        attachments=attachments,
    )
    log = LiteratureSend(
        entity=entity,
        record_id=record.id,
        person_id=person.id,
        email=person.email,
        documents="\n".join(names),
        message=message or None,
        user_id=user.id if user else None,
    )
    db.add(log)
    db.flush()
    return log


def api_send(request):
    body = read_json(request)
    if not isinstance(body, dict):
        raise Problem(400, _("Send a JSON object."))
    entity = body.get("entity")
    rid = body.get("record_id")
    if entity not in SEND_FROM or not isinstance(rid, int) or isinstance(rid, bool):
        errors = {}
        if entity not in SEND_FROM:
            errors["entity"] = _("One of: account, person, opportunity, quote.")
        if not isinstance(rid, int) or isinstance(rid, bool):
            errors["record_id"] = _("Give the record's number.")
        raise Problem(400, _("The documents were not sent"), errors=errors)
    _et, record = _send_source(request, entity, rid)
    log = send_literature(
        request,
        entity,
        record,
        body.get("person_id"),
        body.get("literature_ids"),
        body.get("message"),
    )
    request.response.status = 201
    return {
        "id": log.id,
        "email": log.email,
        "person_id": log.person_id,
        "documents": log.documents.splitlines(),
        "sent_at": log.sent_at.isoformat(),
    }


def api_offered(request):
    """``GET /api/v1/catalog/literature/offered?product_id=1&product_id=2&language=el``"""
    errors = {}
    try:
        pids = _ids(request.GET.getall("product_id"))
    except ValueError:
        errors["product_id"] = _("Give product numbers.")
        pids = []
    lang = request.GET.get("language") or None
    if lang is not None and lang not in LANGUAGES:
        errors["language"] = _("One of: ${list}.", mapping={"list": ", ".join(LANGUAGES)})
    expired = request.GET.get("include_expired") in ("1", "true")
    if errors:
        raise Problem(400, _("Bad parameters"), errors=errors)
    out = []
    for doc, f in offered(request, pids, lang, include_expired=expired):
        out.append(_doc_json(request, doc, f))
    return {"items": out}


def _doc_json(request, doc, f) -> dict:
    return {
        "id": doc.id,
        "title": doc.title,
        "kind": doc.kind,
        "language": doc.language,
        "product_id": doc.product_id,
        "category_id": doc.category_id,
        "valid_from": doc.valid_from.isoformat() if doc.valid_from else None,
        "valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
        "expired": doc.expired,
        "file": {
            "id": f["id"],
            "filename": f["filename"],
            "size": f["size"],
            "versions": f["versions"],
            "url": request.route_url("api.attachment", aid=f["id"]),
        },
    }


# --- pages -------------------------------------------------------------------------------


def _csrf_ok(request) -> bool:
    return request.POST.get("csrf_token") == request.session.get_csrf_token()


def send_page(request):
    params = request.POST if request.method == "POST" else request.GET
    entity = params.get("entity") or ""
    try:
        rid = int(params.get("id") or "")
    except ValueError:
        raise HTTPNotFound() from None
    et, record = _send_source(request, entity, rid)
    back = request.route_url("entity.detail", slug=et.slug, id=record.id)
    errors = {}
    chosen = {int(v) for v in params.getall("literature_ids") if v.isdigit() and len(v) < 10}
    if request.method == "POST":
        if not _csrf_ok(request):
            errors[""] = _("The form expired; send it again.")
        else:
            try:
                log = send_literature(
                    request,
                    entity,
                    record,
                    params.get("person_id"),
                    sorted(chosen),
                    params.get("message"),
                )
            except Problem as exc:
                errors = exc.errors or {"": exc.title}
            else:
                request.session.flash(
                    request.localizer.translate(
                        _("The documents were sent to ${email}.", mapping={"email": log.email})
                    ),
                    "success",
                )
                return HTTPSeeOther(back)
        request.response.status = 400
    people = recipients(request, entity, record)
    show_expired = params.get("expired") == "1"
    docs = offered(request, everything=True, include_expired=show_expired)
    # the recipient's language first: a Greek reader gets the Greek brochure
    lang = people[0].language if len(people) == 1 else None
    docs.sort(key=lambda df: df[0].language not in (lang, None) if lang else False)
    kinds = {k: request.localizer.translate(v) for k, v in KINDS}
    return {
        "title": _("Send documents"),
        "record_title": record_titles(request, et, [record]).get(record.id, ""),
        "back": back,
        "entity": entity,
        "record": record,
        "people": [(p.id, person_label(p)) for p in people],
        "person_id": params.get("person_id") or "",
        "docs": docs,
        "kinds": kinds,
        "languages": LANGUAGES,
        "chosen": chosen,
        "message": params.get("message") or "",
        "errors": errors,
        "show_expired": show_expired,
        "fmt_date": lambda d: format_date(request, d),
        "expired_url": request.route_url(
            "catalog.literature.send", _query={"entity": entity, "id": record.id, "expired": "1"}
        ),
    }


def _filter_id(raw):
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


def library_page(request):
    db = request.dbsession
    et = get_entity_type(request, "literature")
    g = request.GET
    kind = g.get("kind") if g.get("kind") in dict(KINDS) else ""
    lang = g.get("language") if g.get("language") in LANGUAGES else ""
    validity = g.get("valid") if g.get("valid") in dict(VALIDITY) else "valid"
    product_id = _filter_id(g.get("product_id"))
    category_id = _filter_id(g.get("category_id"))
    today = dt.date.today()
    stmt = visible_select(request, et)
    if kind:
        stmt = stmt.where(Literature.kind == kind)
    if lang:
        stmt = stmt.where(Literature.language == lang)
    if product_id:
        stmt = stmt.where(Literature.product_id == product_id)
    if category_id:
        stmt = stmt.where(Literature.category_id == category_id)
    valid_now = or_(Literature.valid_from.is_(None), Literature.valid_from <= today) & or_(
        Literature.valid_until.is_(None), Literature.valid_until >= today
    )
    if validity == "valid":
        stmt = stmt.where(valid_now)
    elif validity == "expired":
        stmt = stmt.where(Literature.valid_until < today)
    docs = db.execute(stmt.order_by(Literature.title, Literature.id).limit(PAGE)).scalars().all()
    files = current_files(db, [d.id for d in docs])
    from .models import Category, Product

    pids = {d.product_id for d in docs if d.product_id} | ({product_id} if product_id else set())
    cids = {d.category_id for d in docs if d.category_id} | (
        {category_id} if category_id else set()
    )
    products = db.execute(select(Product).where(Product.id.in_(pids))).scalars().all()
    categories = db.execute(select(Category).where(Category.id.in_(cids))).scalars().all()
    ptitles = record_titles(request, "product", products)
    ctitles = record_titles(request, "productcategory", categories)
    tr = request.localizer.translate
    return {
        "title": _("Sales literature"),
        "docs": docs,
        "files": files,
        "kinds": [(k, tr(v)) for k, v in KINDS],
        "kind_words": {k: tr(v) for k, v in KINDS},
        "languages": LANGUAGES,
        "validity": [(k, tr(v)) for k, v in VALIDITY],
        "f": {
            "kind": kind,
            "language": lang,
            "valid": validity,
            "product_id": product_id,
            "category_id": category_id,
        },
        "ptitles": ptitles,
        "ctitles": ctitles,
        "fmt_date": lambda d: format_date(request, d),
        "size": _size,
        "new_url": request.route_url("entity.new", slug="sales-literature")
        if request.has_permission(PERMISSIONS["literature"]["create"])
        else None,
    }


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def attach_to_record(request, et, record, doc_ids) -> list[str]:
    """Copy the current files of documents the user may see onto ``record`` (a quote)
    as its attachments; the names attached."""
    db = request.dbsession
    lit_et = get_entity_type(request, "literature")
    docs = db.execute(visible_select(request, lit_et).where(Literature.id.in_(doc_ids))).scalars()
    names = []
    for doc in docs:
        versions = attachments_of(db, lit_et, doc.id)
        if not versions:
            continue
        att = versions[0]
        data = read_attachment(request, att)
        store_attachment(request, et, record, io.BytesIO(data), att.filename)
        names.append(att.filename)
    return names


# --- record pages ------------------------------------------------------------------------


class Hooks:
    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "product" or not request.has_permission(READ):
            return None
        docs = offered(request, [record.id], include_expired=True)
        if not docs:
            return None
        tr = request.localizer.translate
        kinds = {k: tr(v) for k, v in KINDS}
        items = []
        for doc, f in docs:
            bits = [kinds.get(doc.kind, doc.kind)]
            if doc.language:
                bits.append(LANGUAGES.get(doc.language, doc.language))
            if doc.expired:
                bits.append(
                    tr(_("expired ${day}", mapping={"day": format_date(request, doc.valid_until)}))
                )
            if f["versions"] > 1:
                bits.append(tr(_("version ${n}", mapping={"n": f["versions"]})))
            items.append(
                (
                    f"{doc.title} — {f['filename']}",
                    request.route_path("attachment.download", aid=f["id"]),
                    " · ".join(bits),
                )
            )
        return [Panel(_("Literature"), items=items, count=len(items), order=6)]

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name not in SEND_FROM:
            return None
        return [
            Action(
                _("Send documents"),
                request.route_path(
                    "catalog.literature.send", _query={"entity": entity_type.name, "id": record.id}
                ),
                style="outline-secondary",
                permission=READ,
            )
        ]

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name not in SEND_FROM:
            return None
        return timeline(request, entity_type.name, record.id) or None

    @hookimpl
    def kyklos_menu_items(self, request):
        return [
            MenuItem(
                _("Sales literature"),
                request.route_path("catalog.literature.library"),
                permission=READ,
                icon="file-earmark-richtext",
                order=38,
            )
        ]

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name != "literature":
            return
        start = data["valid_from"] if "valid_from" in data else getattr(record, "valid_from", None)
        end = data["valid_until"] if "valid_until" in data else getattr(record, "valid_until", None)
        if start and end and end < start:
            errors["valid_until"] = _("The end of validity cannot be before its start.")


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("catalog.literature.library", "/catalog/literature")
    config.add_view(
        library_page,
        route_name="catalog.literature.library",
        permission=READ,
        renderer="kyklos_catalog:templates/literature.pt",
    )
    config.add_route("catalog.literature.send", "/catalog/literature/send")
    config.add_view(
        send_page,
        route_name="catalog.literature.send",
        permission=READ,
        renderer="kyklos_catalog:templates/literature_send.pt",
    )
    config.add_route(
        "catalog.api.literature.send", "/api/v1/catalog/literature/send", request_method="POST"
    )
    config.add_view(
        api_send, route_name="catalog.api.literature.send", permission=READ, renderer="json"
    )
    config.add_route(
        "catalog.api.literature.offered",
        "/api/v1/catalog/literature/offered",
        request_method="GET",
    )
    config.add_view(
        api_offered, route_name="catalog.api.literature.offered", permission=READ, renderer="json"
    )
    config.add_hooks(Hooks(), name="kyklos_catalog.literature")


def openapi_paths(request) -> dict:
    from kyklos_sdk import openapi as o

    ids = o.array({"type": "integer", "minimum": 1})
    return {
        "/api/v1/catalog/literature/offered": {
            "get": o.operation(
                "Catalog",
                "catalog_literature_offered",
                {
                    "200": o.json_ok(o.obj({"items": o.array({"type": "object"})})),
                    **o.problems("400", "401", "403"),
                },
                "The documents of products in a language, valid today, with their current file",
                parameters=[
                    o.param("product_id", {"type": "integer"}, description="repeatable"),
                    o.param("language", {"type": "string", "enum": list(LANGUAGES)}),
                    o.param("include_expired", {"type": "boolean"}),
                ],
            )
        },
        "/api/v1/catalog/literature/send": {
            "post": o.operation(
                "Catalog",
                "catalog_literature_send",
                {
                    "201": o.json_ok(o.obj({}, strict=False)),
                    **o.problems("400", "401", "403", "404", "415"),
                },
                "Send documents by e-mail from a record to one of its people (logged)",
                body=o.json_body(
                    o.obj(
                        {
                            "entity": {"type": "string", "enum": list(SEND_FROM)},
                            "record_id": {"type": "integer"},
                            "person_id": {"type": "integer"},
                            "literature_ids": ids,
                            "message": o.text(MAX_MESSAGE),
                        },
                        required=("entity", "record_id", "person_id", "literature_ids"),
                    )
                ),
            )
        },
    }
