"""Import pages (upload -> mapping -> dry run / import -> progress and summary -> log)
and the import API."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.response import FileResponse
from sqlalchemy import select

from kyklos.entities import service
from kyklos.i18n import _
from kyklos.imports import mapping, pipeline
from kyklos.imports.models import ImportProfile, ImportRun
from kyklos.imports.readers import ENCODINGS as READABLE
from kyklos.imports.readers import EncodingUnsure, FileError, open_reader, plugin_formats
from kyklos.problem import Problem

T = "kyklos:web/templates/"
MAX_BYTES = 500 * 1024 * 1024
ENCODINGS = ("", *READABLE)
#: what each encoding is for, as a person knows it
ENCODING_TITLES = {
    "utf-8": _("Unicode (UTF-8)"),
    "utf-8-sig": _("Unicode (UTF-8)"),
    "utf-16": _("Unicode (UTF-16)"),
    "utf-16-le": _("Unicode (UTF-16)"),
    "utf-16-be": _("Unicode (UTF-16)"),
    "cp1252": _("Western European (Windows-1252)"),
    "cp1250": _("Central European (Windows-1250)"),
    "cp1253": _("Greek (Windows-1253)"),
    "cp1251": _("Cyrillic (Windows-1251)"),
    "iso8859_15": _("Western European (ISO 8859-15)"),
    "iso8859_2": _("Central European (ISO 8859-2)"),
    "iso8859_7": _("Greek (ISO 8859-7)"),
    "iso8859_5": _("Cyrillic (ISO 8859-5)"),
    "iso8859_16": _("South-East European (ISO 8859-16)"),
    "latin-1": _("Western European (ISO 8859-1)"),
}
DELIMITERS = {"": _("Detect"), ",": ",", ";": ";", "\t": _("Tab"), "|": "|"}
PREVIEW = 5


def _et(request, verb="import"):
    et = service.get_entity_type(request, request.matchdict["slug"])
    if not request.has_permission(et.permission(verb)):
        raise HTTPForbidden()
    return et


def _discard(path: Path | None) -> None:
    """A refused upload is not kept: its content is the user's data."""
    if path is not None:
        path.unlink(missing_ok=True)


def _save_upload(request, upload) -> tuple[Path, str]:
    if upload is None or not hasattr(upload, "file"):
        raise FileError("", _("Choose a file."))
    name = Path(upload.filename or "upload").name[:200]
    suffix = Path(name).suffix.lower()[:10]
    dest = pipeline.files_dir(request.registry) / f"upload-{uuid.uuid4().hex}{suffix}"
    limit = int(request.registry.settings.get("kyklos.import.max_bytes") or MAX_BYTES)
    with dest.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    if dest.stat().st_size > limit:
        dest.unlink()
        raise FileError(name, _("The file is larger than ${n} bytes.", mapping={"n": limit}))
    return dest, name


def _options_from(params) -> dict:
    return {
        "format": params.get("format", "")[:20],
        "encoding": params.get("encoding", "") if params.get("encoding") in ENCODINGS
        else "",
        "delimiter": params.get("delimiter", "") if params.get("delimiter") in DELIMITERS else "",
    }


def _writable(request, et) -> set[str]:
    return service.field_access(request, et)[1]


def _profiles(request, et) -> list[tuple[str, str]]:
    saved = request.dbsession.execute(
        select(ImportProfile.name).where(ImportProfile.entity == et.name)
        .order_by(ImportProfile.name)
    ).scalars()
    out = [(f"saved:{n}", n) for n in saved]
    out += [(f"shipped:{k}", p["title"]) for k, p in mapping.shipped_profiles().items()
            if p.get("entity") == et.name]
    return out


def initial_mapping(request, et, headers, profile: str | None) -> dict:
    writable = _writable(request, et)
    if profile and profile.startswith("saved:"):
        prof = request.dbsession.execute(
            select(ImportProfile).where(ImportProfile.entity == et.name,
                                        ImportProfile.name == profile[6:])
        ).scalar_one_or_none()
        if prof is not None:
            return {h: f for h, f in prof.mapping.items() if h in headers and f in writable}
    if profile and profile.startswith("shipped:"):
        found = mapping.profile_mapping(profile[8:], headers, et, writable)
        if found is not None:
            return found
    return mapping.suggest(request, et, headers, writable)


#: what a saved profile keeps besides its mapping, and reapplies
PROFILE_OPTIONS = ("key", "on_duplicate", "create_references")


def profile_options(request, et, profile: str | None) -> dict:
    """The key and duplicate policy a saved profile keeps (``{}`` for a shipped one or
    none), for the options the caller did not give."""
    if not profile or not profile.startswith("saved:"):
        return {}
    prof = request.dbsession.execute(
        select(ImportProfile).where(ImportProfile.entity == et.name,
                                    ImportProfile.name == profile[6:])
    ).scalar_one_or_none()
    if prof is None:
        return {}
    return {k: v for k, v in (prof.options or {}).items()
            if k in PROFILE_OPTIONS and v is not None}


def upload_view(request):
    et = _et(request)
    errors = {}
    if request.method == "POST":
        path = None
        try:
            path, name = _save_upload(request, request.POST.get("file"))
            options = _options_from(request.POST)
            info = pipeline.inspect_file(request.registry, path, name, options)
        except FileError as exc:
            _discard(path)
            errors["file"] = str(exc) if exc.file else request.localizer.translate(exc.message)
        else:
            headers = info["headers"]
            profile = request.POST.get("profile")
            options["mapping"] = initial_mapping(request, et, headers, profile)
            options.update(profile_options(request, et, profile))
            _remember_encoding(options, info)
            if "key" not in options:
                # Rows already in Kyklos are found by the type's duplicate rules (people:
                # e-mail), preselected in the wizard.
                key = pipeline.default_key(request.registry, et, options["mapping"])
                if key:
                    options["key"] = key
            options["headers"] = headers
            run = ImportRun(entity=et.name, file_name=name, sha256=pipeline.sha256_of(path),
                            path=str(path), options=options, state="uploaded",
                            user_id=service.user_id(request))
            request.dbsession.add(run)
            request.dbsession.flush()
            return HTTPFound(request.route_url("import.run", id=run.id))
        request.response.status = 400
    formats = ["csv", "xlsx", *sorted(plugin_formats(request.registry))]
    return {"title": _("Import"), "et": et, "errors": errors, "formats": formats,
            "encodings": ENCODINGS, "delimiters": DELIMITERS, "detect": _("Detect"),
            "profiles": _profiles(request, et)}


def _remember_encoding(options: dict, info: dict) -> None:
    """Keep the encoding read, so every later read of the file is the same; an uncertain
    one waits for the person's choice (the run page offers the readings)."""
    if info["encoding"] and info["encoding"] != "xlsx":
        options["encoding"] = info["encoding"]
    if info["encoding_certain"]:
        options.pop("encoding_unsure", None)
    else:
        options["encoding_unsure"] = [[e, w] for e, w in info["encoding_candidates"]]


def _run(request) -> ImportRun:
    run = request.dbsession.get(ImportRun, int(request.matchdict["id"]))
    if run is None:
        raise HTTPNotFound()
    if run.user_id != service.user_id(request) and not request.has_permission("kyklos.admin"):
        raise HTTPNotFound()
    return run


def _preview(request, run) -> list[list[str]]:
    rows = []
    try:
        for n, row in open_reader(request.registry, Path(run.path), run.file_name,
                                  pipeline.reader_options(run.options)):
            if n == 1:
                continue
            rows.append(row)
            if len(rows) >= PREVIEW:
                break
    except FileError:
        pass
    return rows


def run_view(request):
    run = _run(request)
    et = service.get_entity_type(request, run.entity)
    from kyklos.jobs.runner import live_progress
    from kyklos.jobs.views import width_class

    live = live_progress(request.registry, run.job_id) if run.job_id else None
    writable = _writable(request, et)
    tr = request.localizer.translate
    encoding = run.options.get("encoding") or ""
    unsure = run.options.get("encoding_unsure") or []
    choices = [e for e, _w in unsure] + [e for e in READABLE if e not in dict(unsure)]
    if encoding and encoding not in choices:
        choices.insert(0, encoding)
    return {
        "file_encoding": encoding,
        "encoding_title": tr(ENCODING_TITLES.get(encoding, encoding)) if encoding else "",
        "encoding_unsure": unsure,
        "encoding_choices": [(e, tr(ENCODING_TITLES.get(e, e))) for e in choices],
        "is_csv": (run.options.get("format") or Path(run.file_name).suffix.lower()
                   .lstrip(".")) in ("csv", "txt", "tsv"),
        "title": _("Import"),
        "run": run,
        "et": et,
        "headers": run.options.get("headers") or [],
        "fields": [(n, f) for n, f in et.fields.items() if n in writable],
        "preview": _preview(request, run) if run.state == "uploaded" else [],
        "problems": pipeline.read_log(request.registry, run.id, 50, only_problems=True)
        if run.state == "done" else [],
        "errors": request.__dict__.get("_import_errors", {}),
        "live": live,
        "pct": int((live or {}).get("progress") or 0),
        "width_class": width_class,
    }


def encoding_view(request):
    """The person's choice of the file's encoding: headers, mapping and preview are
    read again with it."""
    run = _run(request)
    et = service.get_entity_type(request, run.entity)
    if not request.has_permission(et.permission("import")):
        raise HTTPForbidden()
    if run.state != "uploaded":
        return HTTPFound(request.route_url("import.run", id=run.id))
    chosen = request.POST.get("encoding", "")
    if chosen not in READABLE:
        request._import_errors = {"encoding": request.localizer.translate(
            _("Choose an encoding from the list."))}
        request.response.status = 400
        return run_view(request)
    options = {**run.options, "encoding": chosen}
    try:
        info = pipeline.inspect_file(request.registry, Path(run.path), run.file_name, options)
    except FileError as exc:
        request._import_errors = {"encoding": str(exc)}
        request.response.status = 400
        return run_view(request)
    options.pop("encoding_unsure", None)
    if info["headers"] != options.get("headers"):
        options["headers"] = info["headers"]
        options["mapping"] = initial_mapping(request, et, info["headers"], None)
    run.options = options
    return HTTPFound(request.route_url("import.run", id=run.id))


def _options_for_start(request, run, et) -> tuple[dict, dict]:
    post = request.POST
    headers = run.options.get("headers") or []
    m = {}
    for i, h in enumerate(headers):
        target = post.get(f"map.{i}", "")
        if target:
            m[h] = target
    options = {k: v for k, v in run.options.items() if k in ("format", "encoding",
                                                               "delimiter", "headers")}
    options.update(mapping=m, key=post.get("key") or None,
                   on_duplicate=post.get("on_duplicate") or "skip",
                   create_references=post.get("create_references") == "1")
    options = pipeline.with_default_key(request.registry, et, options)
    errors = pipeline.check_options(request, et, headers, options)
    if run.options.get("encoding_unsure"):
        errors["encoding"] = _("Choose the file's encoding: the letters differ between "
                               "the readings shown.")
    return options, errors


def start_view(request):
    """Start a dry run or the import itself, as a background job."""
    run = _run(request)
    et = service.get_entity_type(request, run.entity)
    if not request.has_permission(et.permission("import")):
        raise HTTPForbidden()
    dry = request.POST.get("action") == "dry"
    if run.state == "uploaded":
        options, errors = _options_for_start(request, run, et)
        if errors:
            request._import_errors = {k: request.localizer.translate(v)
                                      for k, v in errors.items()}
            run.options = {**run.options, **options}
            request.response.status = 400
            return run_view(request)
        name = request.POST.get("profile_name", "").strip()[:100]
        if name:
            _save_profile(request, et, name, options)
    else:
        options = dict(run.options)
    target = run
    if run.state != "uploaded":
        target = pipeline.start_run(request, et, Path(run.path), run.file_name, options, dry)
    else:
        run.options, run.dry_run, run.state = options, dry, "queued"
    _enqueue(request, target)
    return HTTPFound(request.route_url("import.run", id=target.id))


def _save_profile(request, et, name, options):
    db = request.dbsession
    prof = db.execute(select(ImportProfile).where(ImportProfile.entity == et.name,
                                                  ImportProfile.name == name)).scalar_one_or_none()
    if prof is None:
        prof = ImportProfile(entity=et.name, name=name, created_by_id=service.user_id(request))
        db.add(prof)
    prof.mapping = options["mapping"]
    prof.options = {k: options.get(k) for k in (*PROFILE_OPTIONS, "delimiter", "encoding")}


def _enqueue(request, run):
    from kyklos.jobs import enqueue

    request.dbsession.flush()
    run.job_id = enqueue(request, "kyklos.import", args={"run_id": run.id})


def log_view(request):
    run = _run(request)
    path = pipeline.log_path(request.registry, run.id)
    if not path.exists():
        raise HTTPNotFound()
    resp = FileResponse(str(path), request=request, content_type="text/csv")
    resp.content_disposition = f'attachment; filename="import-{run.id}-log.csv"'
    return resp


# --- API ------------------------------------------------------------------------------------


def api_import(request):
    """``POST /api/v1/{slug}/_import`` (multipart): ``file`` and optional ``options``
    (JSON: mapping, key, on_duplicate, create_references, dry_run, format, encoding,
    delimiter, profile)."""
    et = _et(request)
    try:
        opts = json.loads(request.POST.get("options") or "{}")
    except ValueError:
        raise Problem(400, _("Invalid JSON"), errors={"options": _("Not JSON.")}) from None
    if not isinstance(opts, dict):
        raise Problem(400, _("Invalid JSON"), errors={"options": _("Send an object.")})
    path = None
    try:
        path, name = _save_upload(request, request.POST.get("file"))
        options = {k: str(opts.get(k) or "")[:20] for k in ("format", "encoding", "delimiter")}
        if options["encoding"] and options["encoding"] not in READABLE:
            raise FileError(name, _("Unknown encoding: use one of ${e}.",
                                    mapping={"e": ", ".join(READABLE)}))
        info = pipeline.inspect_file(request.registry, path, name, options, strict=True)
    except EncodingUnsure as exc:
        _discard(path)
        raise Problem(400, _("Uncertain encoding"), str(exc), errors={
            "encoding": _("The file reads differently in ${e}: give the encoding.",
                          mapping={"e": ", ".join(e for e, _w in exc.candidates)})},
            candidates=[{"encoding": e, "sample": w} for e, w in exc.candidates]) from None
    except FileError as exc:
        _discard(path)
        detail = str(exc) if exc.file else request.localizer.translate(exc.message)
        raise Problem(400, _("Unreadable file"), detail) from None
    headers = info["headers"]
    options["encoding"] = info["encoding"] if info["encoding"] != "xlsx" else ""
    options["headers"] = headers
    options["mapping"] = opts.get("mapping") or initial_mapping(
        request, et, headers, opts.get("profile"))
    saved = profile_options(request, et, opts.get("profile"))
    options["key"] = opts.get("key") or saved.get("key") or None
    options["on_duplicate"] = opts.get("on_duplicate") or saved.get("on_duplicate") or "skip"
    options["create_references"] = opts.get("create_references",
                                            saved.get("create_references", True))
    errors = pipeline.check_options(request, et, headers, options)
    if errors:
        _discard(path)
        raise Problem(400, _("Invalid import options"), errors=errors)
    try:
        run = pipeline.start_run(request, et, path, name, options, bool(opts.get("dry_run")))
    except HTTPForbidden:
        _discard(path)
        raise
    _enqueue(request, run)
    request.response.status = 202
    request.response.headers["Location"] = request.route_url("api.import", id=run.id)
    return pipeline.run_json(run)


def api_run(request):
    run = _run(request)
    out = pipeline.run_json(run)
    out["problems"] = pipeline.read_log(request.registry, run.id, 100, only_problems=True)
    return out


def imports_paths(request) -> dict:
    from kyklos.entities import openapi as o  # it imports the registry's modules

    run = o.obj({"id": {"type": "integer"}, "state": {"type": "string"}}, ["id"], strict=False)
    run_id = [o.path_id()]
    return {
        "/api/v1/{slug}/_import": {
            "post": o.operation(
                "Import",
                "import_records",
                {
                    "202": o.json_ok(run, "queued", {"Location": {"schema": {"type": "string"}}}),
                    **o.problems("400", "401", "403", "404", "413"),
                },
                summary="Import a CSV/XLSX file (multipart 'file'; 'options' a JSON object: "
                "mapping, key, on_duplicate, create_references (default true: reference "
                "columns may name records, and missing ones are created; false rejects "
                "their rows), dry_run, format, encoding, delimiter, profile)",
                parameters=[o.slug_param(request)],
                body=o.multipart(file=o.BINARY, options={"type": "string"}),
                **o.SEMANTIC,
            )
        },
        "/api/v1/_imports/{id}": {
            "get": o.operation(
                "Import",
                "get_import",
                {
                    "200": o.json_ok(
                        {**run, "properties": {**run["properties"], "problems": o.array(o.ANY)}}
                    ),
                    **o.problems("401", "403", "404"),
                },
                summary="An import run with its first 100 problems",
                parameters=run_id,
            )
        },
        "/api/v1/_imports/{id}/log": {
            "get": o.operation(
                "Import",
                "get_import_log",
                {
                    "200": o.file_response("text/csv", "the row log"),
                    **o.problems("401", "403", "404"),
                },
                parameters=run_id,
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(imports_paths)
    config.add_route("entity.import", "/{slug}/_import", kyklos_slug=True)
    config.add_view(upload_view, route_name="entity.import", renderer=T + "import_upload.pt",
                    request_method=("GET", "POST"), permission="authenticated")
    config.add_route("import.run", "/imports/{id:[0-9]{1,9}}")
    config.add_view(run_view, route_name="import.run", renderer=T + "import_run.pt",
                    request_method="GET", permission="authenticated")
    config.add_route("import.start", "/imports/{id:[0-9]{1,9}}/start")
    config.add_view(start_view, route_name="import.start", renderer=T + "import_run.pt",
                    request_method="POST", permission="authenticated")
    config.add_route("import.encoding", "/imports/{id:[0-9]{1,9}}/encoding")
    config.add_view(encoding_view, route_name="import.encoding", renderer=T + "import_run.pt",
                    request_method="POST", permission="authenticated")
    config.add_route("import.log", "/imports/{id:[0-9]{1,9}}/log")
    config.add_view(log_view, route_name="import.log", request_method="GET",
                    permission="authenticated")
    config.add_route("api.import", "/api/v1/_imports/{id:[0-9]{1,9}}", request_method="GET")
    config.add_view(api_run, route_name="api.import", renderer="json",
                    permission="authenticated")
    config.add_route("api.import.log", "/api/v1/_imports/{id:[0-9]{1,9}}/log",
                     request_method="GET")
    config.add_view(log_view, route_name="api.import.log", permission="authenticated")
    config.add_route("api.entity.import", "/api/v1/{slug:[a-z][a-z0-9_-]*}/_import",
                     request_method="POST")
    config.add_view(api_import, route_name="api.entity.import", renderer="json",
                    permission="authenticated")
