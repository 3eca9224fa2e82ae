"""Managing custom fields: the API ``/api/v1/_custom-fields`` and the admin pages
``/admin/custom-fields``. Both go through :func:`save_definition`.

Making a field filterable or unique fills its index mirror in a background job
(:data:`FILL_JOB`, progress on the jobs page); until the job is done the field is
*indexing* and list filters on it read the records' JSON instead of the incomplete
mirror (same results, without the index)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from sqlalchemy import delete, func, select, update

from kyklos.db import utcnow
from kyklos.entities import RecordError, values
from kyklos.entities.customfields import (
    MAX_CHOICES,
    MAX_FIELDS,
    NAME_RE,
    TYPES,
    UNFILTERABLE,
    CustomField,
    CustomValue,
    Definition,
    field_info,
    fill_mirror_batch,
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
#: the background job filling a field's index mirror (args: ``field_id``)
FILL_JOB = "kyklos.customfields.fill"
FILL_BATCH = 1000
_INDEXING = "_kyklos_cf_indexing"


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
        if d.filterable or d.unique:
            # A large table takes minutes: the mirror is filled by a job after this
            # commit, and the field is "indexing" (filters read the JSON) until then.
            delay = float(request.registry.settings.get("kyklos.customfields.fill_delay") or 0)
            request.enqueue_job(FILL_JOB, args={"field_id": d.id}, delay=delay or None)
            request.__dict__.pop(_INDEXING, None)
            _forget_indexing(request)
        else:
            rebuild_mirror(db, request.registry, et, d)  # no longer mirrored: drops its rows
    from kyklos.security.audit import log_event

    log_event(request, "customfield.save", entity=d.entity, field=d.name, id=d.id)
    invalidate(request.registry)
    refresh(request.registry, db, force=True)
    return d


def indexing(request) -> dict[int, str]:
    """``{field id: job id}`` of the fields whose index mirror a job is still filling.

    Kept per process as long as the definitions' stamp (count, latest ``updated_at``;
    see ``customfields.refresh``) is unchanged: enqueueing a fill saves the definition
    and the fill touches it when it ends, so every process re-reads the jobs within
    the definitions' check interval, as it re-reads the definitions themselves."""
    cache = request.__dict__
    if _INDEXING not in cache:
        from kyklos.entities.customfields import _state
        from kyklos.jobs.models import FINISHED, Job

        stamp = _state(request.registry).stamp
        known = getattr(request.registry, "kyklos_cf_indexing", None)
        if stamp is not None and known is not None and known[0] == stamp:
            cache[_INDEXING] = known[1]
        else:
            rows = request.dbsession.execute(
                select(Job.id, Job.args).where(Job.name == FILL_JOB, Job.state.not_in(FINISHED))
            ).all()
            busy = {int((args or {}).get("field_id") or 0): job_id for job_id, args in rows}
            cache[_INDEXING] = busy
            # Only "no fill running" is kept: a running fill is asked again on every
            # request, since its end is committed after its last touch of the stamp.
            request.registry.kyklos_cf_indexing = None if busy else (stamp, busy)
    return cache[_INDEXING]


def _forget_indexing(request) -> None:
    """Drop the process's "no fill running" now and again after this commit (another
    request may cache it in between, before the new job is visible)."""
    registry = request.registry
    registry.kyklos_cf_indexing = None

    def after(ok):
        registry.kyklos_cf_indexing = None

    tm = getattr(request, "tm", None)
    if tm is not None:
        tm.get().addAfterCommitHook(after)


def fill_job(ctx, field_id: int):
    """Job handler: fill the index mirror of custom field ``field_id`` batch by batch,
    reporting progress. On the last failed attempt the field is left honestly
    unindexed (``filterable`` and ``unique`` off) and the job fails with the reason."""
    registry = ctx.registry
    engine = registry["dbengine"]
    # Everything on connections of its own, committed batch by batch: a read in the
    # job's session would pin an SQLite snapshot that could then no longer write.
    with engine.connect() as conn:
        d = conn.execute(select(CustomField).where(CustomField.id == int(field_id))).first()
        et = registry.kyklos_entities.get(d.entity) if d is not None else None
        if d is None or et is None or not (d.filterable or d.unique):
            return {"records": 0, "rows": 0}
        total = conn.execute(select(func.count()).select_from(et.model)).scalar_one()
    defn = Definition(d.id, d.entity, d.name, d.type, bool(d.unique),
                      bool(d.filterable) and d.type not in UNFILTERABLE)
    info = field_info(d)
    last, records, rows, seen = 0, 0, 0, {}
    try:
        while True:
            with engine.begin() as conn:
                last, n, written = fill_mirror_batch(conn, et, defn, info, last, seen, FILL_BATCH)
            if last is None:
                break
            records += n
            rows += written
            ctx.progress(100 * records / max(total, 1),
                         f"{d.name}: {records} / {max(total, records)}")
    except Exception as exc:
        if not ctx.last_attempt:
            raise
        with engine.begin() as conn:
            conn.execute(update(CustomField).where(CustomField.id == d.id)
                         .values(filterable=False, unique=False, updated_at=utcnow()))
            conn.execute(delete(CustomValue).where(CustomValue.field_id == d.id))
        invalidate(registry)
        registry.kyklos_cf_indexing = None
        if isinstance(exc, ValueError):
            raise ValueError(f"{d.name}: existing records share a value ({exc}); the field "
                             "is neither unique nor filterable now") from None
        raise
    # A new stamp: every process re-reads definitions and fill jobs (see indexing()).
    with engine.begin() as conn:
        conn.execute(update(CustomField).where(CustomField.id == d.id)
                     .values(updated_at=utcnow()))
    invalidate(registry)
    registry.kyklos_cf_indexing = None
    return {"records": records, "rows": rows}


def to_json(d: CustomField, indexing_job: str | None = None) -> dict:
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
        # while a job fills the index: its id (progress at /api/v1/_jobs/{id})
        "indexing": indexing_job is not None,
        "indexing_job": indexing_job,
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
    busy = indexing(request)
    return {"items": [to_json(d, busy.get(d.id)) for d in rows], "types": sorted(TYPES)}


def api_create(request):
    from kyklos.entities.api import read_json

    try:
        d = save_definition(request, read_json(request))
    except RecordError as exc:
        raise _problem(exc) from None
    request.response.status = 201
    return to_json(d, indexing(request).get(d.id))


def api_get(request):
    d = _get(request)
    return to_json(d, indexing(request).get(d.id))


def api_patch(request):
    from kyklos.entities.api import read_json

    d = _get(request)
    try:
        save_definition(request, read_json(request), d)
    except RecordError as exc:
        raise _problem(exc) from None
    return to_json(d, indexing(request).get(d.id))


def api_delete(request):
    """Deactivate: values stay in the records (restorable); the field disappears."""
    d = _get(request)
    try:
        save_definition(request, {"active": False}, d)
    except RecordError as exc:
        raise _problem(exc) from None
    return to_json(d, indexing(request).get(d.id))


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
        "indexing": indexing(request),
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


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    entities = sorted(request.registry.kyklos_entities) or ["-"]
    field = o.obj(
        {
            "id": {"type": "integer"},
            "entity": {"type": "string"},
            "name": {"type": "string"},
            "type": {"type": "string"},
            "label": {},
            "help": {},
            "required": {"type": "boolean"},
            "default": {},
            "unique": {"type": "boolean"},
            "choices": {},
            "reference": {"type": ["string", "null"]},
            "position": {"type": ["integer", "null"]},
            "filterable": {"type": "boolean"},
            "active": {"type": "boolean"},
            "updated_at": {"type": ["string", "null"]},
            "indexing": {"type": "boolean"},
            "indexing_job": {"type": ["string", "null"]},
        },
        ["id", "entity", "name", "type", "active"],
        strict=False,
    )
    # labels are {language: text}; choices, defaults and references are checked
    # against the field's type: a schema-valid body may still be refused (400)
    definition = o.obj(
        {
            "entity": {"type": "string", "enum": entities},
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
            "type": {"type": "string", "enum": sorted(TYPES)},
            "label": {"type": "object", "additionalProperties": {"type": "string"}},
            "help": {"type": "object", "additionalProperties": {"type": "string"}},
            "required": {"type": "boolean"},
            "default": {},
            "unique": {"type": "boolean"},
            "choices": {"type": "array"},
            "reference": {"type": ["string", "null"]},
            "position": {"type": "integer"},
            "filterable": {"type": "boolean"},
            "active": {"type": "boolean"},
        },
        strict=False,
    )
    tag = "Custom fields"
    semantic = {"x-kyklos-semantic-checks": True}
    one = [o.path_id()]
    return {
        "/api/v1/_custom-fields": {
            "get": o.operation(
                tag,
                "list_custom_fields",
                {
                    "200": o.json_ok(
                        o.page_of(field, cursor=False, types=o.array({"type": "string"}))
                    ),
                    **o.problems("400", "401", "403"),
                },
                parameters=[o.param("entity", {"type": "string", "enum": entities})],
            ),
            "post": o.operation(
                tag,
                "create_custom_field",
                {
                    "201": o.json_ok(field, "created"),
                    **o.problems("400", "401", "403", "409", "413", "415"),
                },
                body=o.json_body({**definition, "required": ["entity", "name", "type", "label"]}),
                **semantic,
            ),
        },
        "/api/v1/_custom-fields/{id}": {
            "get": o.operation(
                tag,
                "get_custom_field",
                {"200": o.json_ok(field), **o.problems("401", "403", "404")},
                parameters=one,
            ),
            "patch": o.operation(
                tag,
                "update_custom_field",
                {
                    "200": o.json_ok(field),
                    **o.problems("400", "401", "403", "404", "409", "413", "415"),
                },
                parameters=one,
                body=o.json_body(definition),
                **semantic,
            ),
            "delete": o.operation(
                tag,
                "deactivate_custom_field",
                {
                    "200": o.json_ok(field, "deactivated: values stay, restorable"),
                    **o.problems("401", "403", "404", "409"),
                },
                parameters=one,
            ),
        },
    }


def _add_fill_job(config) -> None:
    """What ``config.add_job`` does: the entities are included before the jobs
    package defines the directive, and actions run after every include."""
    from kyklos.jobs.runner import JobSpec

    spec = JobSpec(FILL_JOB, fill_job, 2, 5.0, None, _("Fill the index of a custom field"),
                   None)

    def register():
        config.registry.kyklos_jobs[FILL_JOB] = spec

    config.action(("kyklos.job", FILL_JOB), register)


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    _add_fill_job(config)
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
        config.add_view(
            view, route_name=name, request_method=method, renderer="json", permission=PERM
        )
    pages = [
        (
            "admin.customfields",
            "/admin/custom-fields",
            admin_index,
            "customfields_index.pt",
            ("GET",),
        ),
        (
            "admin.customfields.entity",
            "/admin/custom-fields/{entity}",
            admin_entity,
            "customfields_entity.pt",
            ("GET", "POST"),
        ),
        (
            "admin.customfield",
            "/admin/custom-fields/{entity}/{id:[0-9]{1,9}}",
            admin_field,
            "customfields_field.pt",
            ("GET", "POST"),
        ),
        (
            "admin.customfield.move",
            "/admin/custom-fields/{entity}/{id:[0-9]{1,9}}/move",
            admin_move,
            None,
            ("POST",),
        ),
    ]
    for name, pattern, view, renderer, methods in pages:
        config.add_route(name, pattern, request_method=methods)
        config.add_view(
            view, route_name=name, renderer=T + renderer if renderer else None, permission=PERM
        )
