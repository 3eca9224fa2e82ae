"""Managing custom fields: the API ``/api/v1/_custom-fields`` and the admin pages
``/admin/custom-fields``. Both go through :func:`save_definition`."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from sqlalchemy import func, select

from kyklos.entities import RecordError, values
from kyklos.entities.customfields import (
    MAX_CHOICES,
    MAX_FIELDS,
    NAME_RE,
    TYPES,
    UNFILTERABLE,
    CustomField,
    field_info,
    invalidate,
    rebuild_mirror,
    refresh,
)
from kyklos.hookspecs import hookimpl
from kyklos.i18n import LANGUAGES, _
from kyklos.problem import Problem
from kyklos.web import MenuItem

PERM = "kyklos.customfields.manage"
T = "kyklos:web/templates/"
UNIQUE_TYPES = frozenset({"string", "email", "phone", "url", "integer", "decimal", "date"})
BOOLS = ("required", "unique", "filterable", "active")


def _labels(value, key: str, errors: dict, required: bool, limit: int) -> dict:
    if isinstance(value, str):
        value = {"en": value}
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors[key] = _("Give the text per language, e.g. {\"en\": \"...\"}.")
        return {}
    out = {}
    for lang, text in value.items():
        if lang not in LANGUAGES or not isinstance(text, str):
            errors[key] = _("Unknown language or not a text: ${lang}", mapping={"lang": lang[:10]})
            return {}
        try:
            values.check_text(text.strip(), limit)
        except values.Invalid as exc:
            errors[key] = exc.msg
            return {}
        if text.strip():
            out[lang] = text.strip()
    if required and not out:
        errors[key] = _("Required.")
    return out


def _choices(value, errors: dict) -> list:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CHOICES:
        errors["choices"] = _("Give 1 to ${n} choices.", mapping={"n": MAX_CHOICES})
        return []
    out, seen = [], set()
    for item in value:
        if isinstance(item, str):
            item = {"value": item, "label": {"en": item}}
        code = item.get("value") if isinstance(item, dict) else None
        if (
            not isinstance(code, str)
            or not code.strip()
            or len(code) > 100
            or any(c in code for c in "\"\\,\x00")
            or code in seen
        ):
            errors["choices"] = _("Each choice needs a distinct value without quotes or commas.")
            return []
        seen.add(code)
        label = _labels(item.get("label") or {"en": code}, "choices", errors, True, 200)
        out.append({"value": code, "label": label})
    return out


def clean_definition(request, data: dict, existing: CustomField | None) -> dict:
    """Check a definition sent by a client; raises :class:`RecordError` naming fields."""
    errors: dict = {}
    if not isinstance(data, dict):
        raise RecordError({"": _("Send an object.")})
    allowed = {"entity", "name", "type", "label", "help", "required", "default", "unique",
               "choices", "reference", "position", "filterable", "active"}
    for key in data:
        if key not in allowed:
            errors[str(key)[:50]] = _("Unknown field.")
    entities = request.registry.kyklos_entities
    out: dict = {}
    if existing is None:
        entity = data.get("entity")
        if entity not in entities:
            errors["entity"] = _("Unknown entity type.")
        out["entity"] = entity
        name = data.get("name")
        if isinstance(name, str) and name and not name.startswith("cf_"):
            name = "cf_" + name
        if not isinstance(name, str) or not NAME_RE.match(name):
            errors["name"] = _("Use cf_ followed by lower-case letters, digits and _.")
        out["name"] = name
        ftype = data.get("type")
        if ftype not in TYPES:
            errors["type"] = _("Unknown type.")
        out["type"] = ftype
    else:
        for key in ("entity", "name", "type"):
            if key in data and data[key] != getattr(existing, key):
                errors[key] = _("This cannot be changed; add a new field instead.")
        ftype = existing.type
    merged = {
        "label": existing.label if existing else None,
        "help": existing.help if existing else {},
        "required": existing.required if existing else False,
        "unique": existing.unique if existing else False,
        "filterable": existing.filterable if existing else False,
        "active": existing.active if existing else True,
        "position": existing.position if existing else 100,
        "choices": existing.choices if existing else None,
        "reference": existing.reference if existing else None,
        "default": existing.default if existing else None,
    }
    merged.update({k: v for k, v in data.items() if k in merged})
    out["label"] = _labels(merged["label"], "label", errors, True, 200)
    out["help"] = _labels(merged["help"], "help", errors, False, 1000)
    for key in BOOLS:
        if not isinstance(merged[key], bool):
            errors[key] = _("Not true or false.")
        out[key] = bool(merged[key])
    pos = merged["position"]
    if isinstance(pos, bool) or not isinstance(pos, int) or not 0 <= pos <= 100_000:
        errors["position"] = _("Give a number from 0 to 100000.")
    out["position"] = pos
    if ftype in ("choice", "multichoice"):
        out["choices"] = _choices(merged["choices"], errors)
    else:
        out["choices"] = None
    if ftype == "reference":
        ref = merged["reference"]
        if ref != "user" and ref not in entities:
            errors["reference"] = _("Unknown entity type.")
        out["reference"] = ref
    else:
        out["reference"] = None
    if out["unique"] and ftype not in UNIQUE_TYPES:
        errors["unique"] = _("Values of this type cannot be unique.")
    if out["filterable"] and ftype in UNFILTERABLE:
        errors["filterable"] = _("Long text cannot be filtered; use search.")
    out["default"] = None
    if merged["default"] is not None and ftype in TYPES and "choices" not in errors:
        probe = CustomField(**{k: v for k, v in out.items() if k != "default"})
        probe.type = ftype
        probe.name = out.get("name") or existing.name
        info = field_info(probe)
        try:
            out["default"] = values.to_json(info, values.parse_value(info, merged["default"]))
        except values.Invalid as exc:
            errors["default"] = exc.msg
    if errors:
        raise RecordError(errors)
    return out


def save_definition(request, data: dict, existing: CustomField | None = None) -> CustomField:
    """Create or change a definition, rebuild its index mirror when that changed, and
    make every part of the app see the new field list."""
    db = request.dbsession
    clean = clean_definition(request, data, existing)
    if existing is None:
        n = db.execute(
            select(func.count()).where(CustomField.entity == clean["entity"])
        ).scalar_one()
        if n >= MAX_FIELDS:
            raise RecordError({"": _("At most ${n} custom fields per type.",
                                     mapping={"n": MAX_FIELDS})})
        taken = clean["name"] in request.registry.kyklos_entities[clean["entity"]].fields
        dup = db.execute(
            select(CustomField.id).where(
                CustomField.entity == clean["entity"], CustomField.name == clean["name"]
            )
        ).first()
        if taken or dup:
            raise RecordError({"name": _("This name is already used.")}, status=409)
        d = CustomField(**clean)
        db.add(d)
        old_mirror = (False, False)
    else:
        d = existing
        old_mirror = (d.filterable, d.unique)
        for key, value in clean.items():
            setattr(d, key, value)
    db.flush()
    et = request.registry.kyklos_entities[d.entity]
    if (d.filterable, d.unique) != old_mirror:
        try:
            rebuild_mirror(db, request.registry, et, d)
        except ValueError:
            raise RecordError(
                {"unique": _("Existing records share a value; make them distinct first.")},
                status=409,
            ) from None
    from kyklos.security.audit import log_event

    log_event(request, "customfield.save", entity=d.entity, field=d.name, id=d.id)
    invalidate(request.registry)
    refresh(request.registry, db, force=True)
    return d


def to_json(d: CustomField) -> dict:
    return {
        "id": d.id,
        "entity": d.entity,
        "name": d.name,
        "type": d.type,
        "label": d.label,
        "help": d.help,
        "required": d.required,
        "default": d.default,
        "unique": d.unique,
        "choices": d.choices,
        "reference": d.reference,
        "position": d.position,
        "filterable": d.filterable,
        "active": d.active,
        "updated_at": values.to_json(None, d.updated_at),
    }


# --- API ----------------------------------------------------------------------------------


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status, exc.title, errors=exc.errors)


def _get(request) -> CustomField:
    d = request.dbsession.get(CustomField, int(request.matchdict["id"]))
    if d is None:
        raise Problem(404, _("Not found"))
    return d


def api_list(request):
    stmt = select(CustomField).order_by(CustomField.entity, CustomField.position, CustomField.id)
    entity = request.GET.get("entity")
    if entity is not None:
        if entity not in request.registry.kyklos_entities:
            raise Problem(400, _("Invalid list parameters"), errors={"entity": _("Unknown.")})
        stmt = stmt.where(CustomField.entity == entity)
    rows = request.dbsession.execute(stmt).scalars()
    return {"items": [to_json(d) for d in rows], "types": sorted(TYPES)}


def api_create(request):
    from kyklos.entities.api import read_json

    try:
        d = save_definition(request, read_json(request))
    except RecordError as exc:
        raise _problem(exc) from None
    request.response.status = 201
    return to_json(d)


def api_get(request):
    return to_json(_get(request))


def api_patch(request):
    from kyklos.entities.api import read_json

    d = _get(request)
    try:
        save_definition(request, read_json(request), d)
    except RecordError as exc:
        raise _problem(exc) from None
    return to_json(d)


def api_delete(request):
    """Deactivate: values stay in the records (restorable); the field disappears."""
    d = _get(request)
    try:
        save_definition(request, {"active": False}, d)
    except RecordError as exc:
        raise _problem(exc) from None
    return to_json(d)


# --- admin pages --------------------------------------------------------------------------


def _entity(request):
    et = request.registry.kyklos_entities.get(request.matchdict["entity"])
    if et is None:
        raise HTTPNotFound()
    return et


def _form_data(request, ftype: str | None) -> dict:
    post = request.POST
    data: dict = {
        "label": {lang: post.get(f"label_{lang}", "") for lang in LANGUAGES},
        "help": {lang: post.get(f"help_{lang}", "") for lang in LANGUAGES},
    }
    for key in BOOLS:
        data[key] = post.get(key) == "on"
    pos = post.get("position", "").strip()
    data["position"] = int(pos) if pos.isdigit() and len(pos) < 7 else -1
    if ftype in ("choice", "multichoice"):
        items = []
        for line in post.get("choices", "").splitlines():
            code, _sep, label = line.partition("|")
            if code.strip():
                items.append({"value": code.strip(), "label": {"en": (label or code).strip()}})
        data["choices"] = items
    if ftype == "reference":
        data["reference"] = post.get("reference", "")
    default = post.get("default", "")
    if default.strip() and ftype in TYPES:
        from kyklos.entities.display import parse_form_value

        probe = field_info(CustomField(name="cf_x", type=ftype, label={}, choices=[]))
        try:
            data["default"] = parse_form_value(probe, default)
        except ValueError:
            data["default"] = default
    else:
        data["default"] = None
    return data


def _translate_errors(request, errors: dict) -> dict:
    return {k: request.localizer.translate(v) for k, v in errors.items()}


def admin_index(request):
    counts = dict(
        request.dbsession.execute(
            select(CustomField.entity, func.count()).group_by(CustomField.entity)
        ).all()
    )
    types = sorted(request.registry.kyklos_entities.values(), key=lambda et: str(et.plural))
    return {"title": _("Custom fields"), "types": types, "counts": counts}


def _admin_fields(request, et):
    return request.dbsession.execute(
        select(CustomField)
        .where(CustomField.entity == et.name)
        .order_by(CustomField.position, CustomField.id)
    ).scalars().all()


def admin_entity(request):
    et = _entity(request)
    errors: dict = {}
    form: dict = {}
    if request.method == "POST":
        form = dict(request.POST)
        ftype = request.POST.get("type")
        data = _form_data(request, ftype)
        data.update(entity=et.name, name=request.POST.get("name", "").strip(), type=ftype)
        try:
            d = save_definition(request, data)
        except RecordError as exc:
            errors = _translate_errors(request, exc.errors)
            request.response.status = 400
        else:
            return HTTPFound(request.route_url("admin.customfield", entity=et.name, id=d.id))
    return {
        "title": _("Custom fields"),
        "et": et,
        "fields": _admin_fields(request, et),
        "types": TYPES,
        "languages": LANGUAGES,
        "entities": request.registry.kyklos_entities,
        "errors": errors,
        "form": form,
        "d": None,
    }


def admin_field(request):
    et = _entity(request)
    d = request.dbsession.get(CustomField, int(request.matchdict["id"]))
    if d is None or d.entity != et.name:
        raise HTTPNotFound()
    errors: dict = {}
    if request.method == "POST":
        data = _form_data(request, d.type)
        try:
            save_definition(request, data, d)
        except RecordError as exc:
            errors = _translate_errors(request, exc.errors)
            request.response.status = 400
            request.dbsession.expire(d)
        else:
            return HTTPFound(request.route_url("admin.customfields.entity", entity=et.name))
    return {
        "title": _("Custom fields"),
        "et": et,
        "d": d,
        "types": TYPES,
        "languages": LANGUAGES,
        "entities": request.registry.kyklos_entities,
        "errors": errors,
        "choices_text": "\n".join(
            f"{c['value']}|{(c.get('label') or {}).get('en', c['value'])}" for c in d.choices or ()
        ),
    }


def admin_move(request):
    """Move a field one place up or down (swaps positions with its neighbour)."""
    et = _entity(request)
    fields = list(_admin_fields(request, et))
    ids = [f.id for f in fields]
    fid = int(request.matchdict["id"])
    if fid not in ids:
        raise HTTPNotFound()
    i = ids.index(fid)
    j = i - 1 if request.POST.get("dir") == "up" else i + 1
    if 0 <= j < len(fields):
        fields[i], fields[j] = fields[j], fields[i]
        for pos, f in enumerate(fields):
            if f.position != (pos + 1) * 10:
                save_definition(request, {"position": (pos + 1) * 10}, f)
    return HTTPFound(request.route_url("admin.customfields.entity", entity=et.name))


class Hooks:
    @hookimpl
    def kyklos_admin_items(self, request):
        return [
            MenuItem(
                _("Custom fields"),
                request.route_url("admin.customfields"),
                PERM,
                "input-cursor-text",
                order=70,
            )
        ]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos.entities.customfields")
    api = [
        ("api.customfields", "/api/v1/_custom-fields", "GET", api_list),
        ("api.customfields", "/api/v1/_custom-fields", "POST", api_create),
        ("api.customfield", "/api/v1/_custom-fields/{id:[0-9]{1,9}}", "GET", api_get),
        ("api.customfield", "/api/v1/_custom-fields/{id:[0-9]{1,9}}", "PATCH", api_patch),
        ("api.customfield", "/api/v1/_custom-fields/{id:[0-9]{1,9}}", "DELETE", api_delete),
    ]
    seen = set()
    for name, pattern, method, view in api:
        if name not in seen:
            config.add_route(name, pattern)
            seen.add(name)
        config.add_view(view, route_name=name, request_method=method, renderer="json",
                        permission=PERM)
    pages = [
        ("admin.customfields", "/admin/custom-fields", admin_index,
         "customfields_index.pt", ("GET",)),
        ("admin.customfields.entity", "/admin/custom-fields/{entity}", admin_entity,
         "customfields_entity.pt", ("GET", "POST")),
        ("admin.customfield", "/admin/custom-fields/{entity}/{id:[0-9]{1,9}}", admin_field,
         "customfields_field.pt", ("GET", "POST")),
        ("admin.customfield.move", "/admin/custom-fields/{entity}/{id:[0-9]{1,9}}/move",
         admin_move, None, ("POST",)),
    ]
    for name, pattern, view, renderer, methods in pages:
        config.add_route(name, pattern, request_method=methods)
        config.add_view(view, route_name=name, renderer=T + renderer if renderer else None,
                        permission=PERM)
