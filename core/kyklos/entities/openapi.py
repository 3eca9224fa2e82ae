"""The OpenAPI 3.1 document, generated from the entity registry at request time (so
custom fields appear as soon as they exist), and the interactive docs page.

    GET /api/openapi.json   the document
    GET /api/docs           Swagger UI, served from the installed swagger-ui-py package
"""

from __future__ import annotations

import html
import json
import os
import re

from pyramid.response import Response

from kyklos import __version__
from kyklos.entities import EntityType, FieldInfo, money, query, values
from kyklos.i18n import translate

PROBLEM_STATUSES = {
    "400": "Invalid request: every bad field or parameter is named in `errors`",
    "401": "Not logged in (send `Authorization: Bearer <token>`)",
    "403": "Not allowed",
    "404": "Not found, or not visible to you",
    "409": "Conflict: the record changed since the version you sent, a value must be "
    "unique, a possible duplicate exists (`?duplicates=allow` creates it anyway), or "
    "other records still use this one",
    "412": "Precondition failed: If-Match names an older version",
    "413": "Body too large",
    "415": "Not JSON",
}


#: a calendar day as a pattern (a month 13 or 30 February is not schema-valid; 29
#: February, which a pattern cannot tell from a leap year, is taken but not promised)
DAY = (
    r"\d{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    r"|02-(0[1-9]|1[0-9]|2[0-8]))"
)
#: a day and month whose year is unknown (``--02-03``; 29 February allowed)
NO_YEAR_DAY = (
    r"--((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
    r"|02-(0[1-9]|[12][0-9]))"
)
#: the control characters stored text refuses (all C0 but tab and line breaks)
CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f"


def _t(request, value) -> str:
    return translate(request, value) if value else ""


def _nullable(schema: dict) -> dict:
    if "type" in schema and "enum" not in schema:
        t = schema["type"]
        return {**schema, "type": [*t, "null"] if isinstance(t, list) else [t, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _decimal_pattern(column) -> str:
    precision, scale = values._numeric_shape(column)
    if precision is None:
        return r"^-?[0-9]{1,30}(\.[0-9]{1,20})?$"
    whole = max(precision - (scale or 0), 1)
    frac = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    return rf"^-?[0-9]{{1,{whole}}}{frac}$"


def field_schema(request, et: EntityType, f: FieldInfo, for_input: bool = False) -> dict:
    """JSON Schema of one field's value (without null)."""
    column = values.column_of(et, f)
    t = f.type
    if t in ("string", "text", "richtext", "email", "phone", "url"):
        s: dict = {"type": "string", "maxLength": f.max_length or values.TEXT_LIMIT}
        if for_input:
            # control characters but tab and line breaks are refused (PostgreSQL cannot
            # store NUL, XML no other C0), names take no direction overrides; a required
            # text needs something besides spaces.
            bad = CONTROLS
            if values.is_name(f):
                bad += r"\u202a-\u202e\u2066-\u2069"
            s["pattern"] = rf"^[^{bad}]*\S[^{bad}]*$" if f.required else rf"^[^{bad}]*$"
        if f.display == "currency":
            s = {"type": "string", "enum": sorted(money.currencies())}
        if t == "email":
            s["description"] = "e-mail address"
        if t == "url":
            s["description"] = "http(s) URL"
        if t == "richtext":
            s["contentMediaType"] = "text/html"
            s["description"] = (
                "HTML, sanitised on write: p, br, h1-h4, strong, b, em, i, u, s, ul, ol, "
                "li, a (http, https and mailto links), blockquote, pre, code"
                + ("; with tables, div, span, img (http(s) images), hr" if f.html_source else "")
                + "; any other tag, attribute, style or script is removed"
            )
    elif t == "choice":
        s = {"type": "string", "enum": [str(v) for v, _x in f.choices or ()]}
    elif t == "multichoice":
        s = {
            "type": "array",
            "items": {"type": "string", "enum": [str(v) for v, _x in f.choices or ()]},
            "uniqueItems": True,
        }
    elif t in ("integer", "reference"):
        limit = values._int_limit(column)
        s = {"type": "integer"}
        if for_input:
            s.update({"minimum": -limit, "maximum": limit})
        if t == "reference":
            s["description"] = f"id of a {f.reference}"
            if for_input:
                s["minimum"] = 1
    elif t == "decimal":
        s = {"type": "string", "pattern": _decimal_pattern(column)}
    elif t == "money":
        s = {
            "type": "object",
            "properties": {
                "amount": {"type": "string", "pattern": _decimal_pattern(column)},
                "currency": {"type": "string", "enum": sorted(money.currencies())},
            },
            "required": ["amount", "currency"],
            "additionalProperties": False,
        }
    elif t == "boolean":
        s = {"type": "boolean"}
    elif t == "date" and f.year_optional:
        # no "format": "date" - the reduced form is ISO 8601:2000, not RFC 3339
        s = {
            "type": "string",
            "pattern": f"^({DAY}|{NO_YEAR_DAY})$",
            "description": "YYYY-MM-DD, or --MM-DD when the year is unknown "
            "(ISO 8601:2000 reduced precision, as vCard's BDAY:--0203)",
        }
    elif t == "date":
        s = {"type": "string", "format": "date", "pattern": f"^{DAY}$"}
    elif t == "datetime":
        s = {
            "type": "string",
            "format": "date-time",
            "pattern": rf"^{DAY}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.\d{{1,6}})?"
            r"(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$",
        }
    elif t == "json" and f.display in ("title_translations", "text_translations"):
        # a text per language (kyklos.entities.translations): a title is one line, a
        # description keeps its line breaks
        from kyklos.entities.translations import KINDS
        from kyklos.i18n import LANGUAGES

        bad = CONTROLS + (r"\n\r" if f.display == "title_translations" else "")
        text = {"type": "string", "maxLength": KINDS[f.display], "pattern": rf"^[^{bad}]*$"}
        s = {
            "type": "object",
            "properties": dict.fromkeys(LANGUAGES, text),
            "additionalProperties": False,
        }
    elif t == "json":
        s = {"type": ["object", "array"]}
    else:
        s = {}
    title = _t(request, f.title)
    if title:
        s["title"] = title
    if f.description:
        s["description"] = _t(request, f.description)
    return s


def _record_schema(request, et) -> dict:
    props = {
        "id": {"type": "integer", "readOnly": True},
        "version": {"type": "integer", "readOnly": True},
    }
    for f in et.fields.values():
        if f.name in props:
            continue
        s = field_schema(request, et, f)
        column = values.column_of(et, f)
        if column is None or column.nullable:
            s = _nullable(s)
        if f.readonly:
            s["readOnly"] = True
        props[f.name] = s
    return {"type": "object", "properties": props, "required": ["id", "version"]}


def _input_schema(request, et, patch: bool) -> dict:
    props = {}
    required = []
    for f in et.writable_fields():
        s = field_schema(request, et, f, for_input=True)
        column = values.column_of(et, f)
        # null clears a value only where the column may be empty (NOT NULL: a 400)
        takes_null = not f.required and (column is None or column.nullable)
        props[f.name] = _nullable(s) if takes_null else s
        if f.required and not patch and f.default is None:
            required.append(f.name)
    if patch:
        props["version"] = {
            "type": "integer",
            "minimum": 0,
            "maximum": 2**63 - 1,
            "description": "the version you read: a newer one on the server answers 409",
        }
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def _list_int_pattern():
    return r"^-?[0-9]{1,9}(,-?[0-9]{1,9}){0,99}$"


def _filter_param(request, et, path: query.FilterPath, op: str) -> dict:
    f = path.field
    name = path.path if op == "eq" else f"{path.path}__{op}"
    column = values.column_of(path.target or et, f)
    if op == "isnull":
        schema = {"type": "boolean"}
    elif f.type in ("integer", "reference"):
        if op == "in":
            schema = {"type": "string", "pattern": _list_int_pattern()}
        elif op == "between":
            schema = {"type": "string", "pattern": r"^-?[0-9]{1,9},-?[0-9]{1,9}$"}
        else:
            schema = {"type": "integer", "minimum": -(2**31) + 1, "maximum": 2**31 - 1}
    elif f.type in ("decimal", "money"):
        one = _decimal_pattern(column).strip("^$")
        if op == "in":
            schema = {"type": "string", "pattern": f"^{one}(,{one}){{0,99}}$"}
        elif op == "between":
            schema = {"type": "string", "pattern": f"^{one},{one}$"}
        else:
            schema = {"type": "string", "pattern": f"^{one}$"}
    elif f.type == "boolean":
        schema = {"type": "boolean"}
    elif f.type in ("date", "datetime"):
        day = DAY
        if op == "between":
            schema = {"type": "string", "pattern": f"^{day},{day}$"}
        elif op == "in":
            schema = {"type": "string", "pattern": f"^{day}(,{day}){{0,99}}$"}
        else:
            schema = {"type": "string", "format": "date", "pattern": f"^{day}$"}
    elif f.type in ("choice", "multichoice") and f.choices is not None:
        codes = [str(v) for v, _x in f.choices]
        if op == "in":
            alt = "|".join(re.escape(c) for c in codes)
            schema = {"type": "string", "pattern": f"^({alt})(,({alt})){{0,99}}$"}
        else:
            schema = {"type": "string", "enum": codes}
    else:
        schema = {"type": "string", "maxLength": 1000, "pattern": r"^[^\u0000,]+$"}
        if op == "in":
            schema["pattern"] = r"^[^\u0000,]+(,[^\u0000,]+){0,99}$"
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": f"{_t(request, f.title)}: {op}",
    }


def _list_params(request, et) -> list[dict]:
    keys = query.sort_keys(et)
    alt = "|".join(keys)
    readable = [n for n in et.fields if n not in ("id", "version")]
    params = [
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string", "pattern": f"^-?({alt})(,-?({alt})){{0,3}}$"},
            "description": "sort keys, comma-separated; '-' for descending. Allowed: "
            + ", ".join(keys),
        },
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string", "maxLength": query.MAX_CURSOR},
            "description": "next_cursor of the previous page (opaque)",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": query.MAX_LIMIT},
        },
        {
            "name": "fields",
            "in": "query",
            "schema": {
                "type": "string",
                "pattern": f"^({'|'.join(readable)})(,({'|'.join(readable)}))*$",
            },
            "description": "projection; id and version are always included",
        },
        {
            "name": "count",
            "in": "query",
            "schema": {"type": "string", "enum": ["capped", "exact", "none"]},
        },
    ]
    if et.searchable:
        params.append(
            {
                "name": "q",
                "in": "query",
                "schema": {"type": "string", "maxLength": 200, "pattern": r"^[^\u0000]*$"},
                "description": "free text over: " + ", ".join(et.searchable),
            }
        )
    if et.soft_delete:
        params.append(
            {
                "name": "deleted",
                "in": "query",
                "schema": {"type": "string", "enum": ["exclude", "include", "only"]},
            }
        )
    for path in query.filter_paths(request.registry, et).values():
        for op in query.ops_for(path.field):
            params.append(_filter_param(request, et, path, op))
    return params


def _problems(*codes) -> dict:
    return {
        c: {
            "description": PROBLEM_STATUSES[c],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for c in codes
    }


def _ok(schema_ref: str, description: str, etag: bool = False) -> dict:
    out = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": schema_ref}}},
    }
    if etag:
        out["headers"] = {"ETag": {"schema": {"type": "string"}, "description": "the version"}}
    return out


def _json_body(ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}


ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": r'^(\*|"[0-9]{1,9}")$'},
    "description": 'the ETag you read, e.g. "3": an older one answers 412',
}


# --- shapes shared by the paths functions next to the views (config.add_openapi_paths) ---

#: a database id (the API refuses ids past a signed 32-bit integer with a 404)
INT_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
DATE = {"type": "string", "format": "date", "pattern": f"^{DAY}$"}
DATETIME = {"type": "string", "format": "date-time"}
#: text without NUL characters (PostgreSQL cannot store them)
TEXT = r"^[^\u0000]*$"
#: text with something besides spaces
NONBLANK = r"^[^\u0000]*\S[^\u0000]*$"


def problems(*codes) -> dict:
    """problem+json responses for the given status codes (strings)."""
    return _problems(*codes)


def text(max_length: int, required: bool = False, **extra) -> dict:
    """A string schema the views' text checks accept."""
    out = {"type": "string", "maxLength": max_length, "pattern": NONBLANK if required else TEXT}
    if required:
        out["minLength"] = 1
    out.update(extra)
    return out


def nullable(schema: dict) -> dict:
    return _nullable(schema)


def obj(properties: dict, required=(), strict: bool = True, **extra) -> dict:
    """An object schema; ``strict`` (the default) when the view refuses unknown keys."""
    out: dict = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if strict:
        out["additionalProperties"] = False
    out.update(extra)
    return out


def array(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def json_ok(schema: dict, description: str = "ok", headers: dict | None = None) -> dict:
    """A JSON response object."""
    out = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def no_content(description: str = "done") -> dict:
    return {"description": description}


def json_body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def param(name: str, schema: dict, where: str = "query", required: bool = False, description=""):
    out = {"name": name, "in": where, "required": required or where == "path", "schema": schema}
    if description:
        out["description"] = description
    return out


def path_id(name: str = "id") -> dict:
    return param(name, INT_ID, "path")


def page_of(item: dict, cursor: bool = True, **more) -> dict:
    """``{"items": [...], "next_cursor": ...}`` (the cursor is opaque)."""
    props = {"items": array(item), **more}
    required = ["items"]
    if cursor:
        props["next_cursor"] = {"type": ["string", "null"]}
        required.append("next_cursor")
    return obj(props, required, strict=False)


LIMIT = param("limit", {"type": "integer", "minimum": 1, "maximum": 200})
CURSOR = param("cursor", {"type": "string", "maxLength": 200}, description="next_cursor (opaque)")


def slugs(request, predicate=None) -> list[str]:
    """Entity-type slugs, optionally of the types ``predicate(et)`` accepts."""
    ets = request.registry.kyklos_entities.values()
    return sorted(et.slug for et in ets if predicate is None or predicate(et)) or ["-"]


def slug_param(request, predicate=None) -> dict:
    return param("slug", {"type": "string", "enum": slugs(request, predicate)}, "path")


def operation(
    tag: str,
    operation_id: str,
    responses: dict,
    summary: str = "",
    parameters=(),
    body: dict | None = None,
    **extra,
) -> dict:
    out: dict = {"operationId": operation_id, "tags": [tag]}
    if summary:
        out["summary"] = summary
    if parameters:
        out["parameters"] = list(parameters)
    if body is not None:
        out["requestBody"] = body
    out["responses"] = responses
    out.update(extra)
    return out


def merge_paths(paths: dict, request) -> dict:
    """Add the paths every ``config.add_openapi_paths`` factory contributes."""
    for factory in request.registry.kyklos_openapi_factories:
        for path, item in factory(request).items():
            target = paths.setdefault(path, {})
            for key, value in item.items():
                target.setdefault(key, value)
    return paths


def entity_operations(registry) -> set[tuple[str, str]]:
    """(path, method) pairs generated for the registered entity types."""
    out = set()
    for et in registry.kyklos_entities.values():
        base = f"/api/v1/{et.slug}"
        out |= {(base, "get"), (base, "post"), (f"{base}/_bulk", "post")}
        out |= {(f"{base}/{{id}}", m) for m in ("get", "patch", "delete")}
        out.add((f"{base}/{{id}}/history", "get"))
        out.add((f"{base}/{{id}}/restore", "post"))
    return out


def _paths_for(request, et: EntityType, schemas: dict) -> dict:
    name = et.name
    cap = "".join(p.capitalize() for p in name.replace("-", "_").split("_"))
    ref = f"#/components/schemas/{cap}"
    schemas[cap] = _record_schema(request, et)
    schemas[f"{cap}Create"] = _input_schema(request, et, patch=False)
    schemas[f"{cap}Update"] = _input_schema(request, et, patch=True)
    schemas[f"{cap}List"] = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": ref}},
            "next_cursor": {"type": ["string", "null"]},
            "count": {"type": ["integer", "null"]},
            "count_capped": {"type": "boolean"},
        },
        "required": ["items", "next_cursor", "count", "count_capped"],
    }
    ids = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "minItems": 1,
        "maxItems": 1000,
    }
    schemas[f"{cap}Bulk"] = {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "action": {"const": "update"},
                    "ids": ids,
                    "data": {"$ref": f"#/components/schemas/{cap}Update"},
                },
                "required": ["action", "ids", "data"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"action": {"const": "delete"}, "ids": ids},
                "required": ["action", "ids"],
                "additionalProperties": False,
            },
        ]
    }
    tag = _t(request, et.plural)
    base = f"/api/v1/{et.slug}"
    # plugins check records against data and each other (kyklos_record_validate: "an
    # account or a person", a number's country plan, a unique code): a schema-valid
    # write may still be refused with a 400 naming the field
    semantic = SEMANTIC
    paths = {
        base: {
            "get": {
                "operationId": f"list_{name}",
                "tags": [tag],
                "summary": f"List {tag}",
                "parameters": _list_params(request, et),
                "responses": {"200": _ok(f"{ref}List", "a page"), **_problems("400", "401", "403")},
            },
            "post": {
                "operationId": f"create_{name}",
                "tags": [tag],
                **semantic,
                "requestBody": _json_body(f"{ref}Create"),
                "responses": {
                    "201": _ok(ref, "created", etag=True),
                    **_problems("400", "401", "403", "404", "409", "413", "415"),
                },
            },
        },
        f"{base}/_bulk": {
            "post": {
                "operationId": f"bulk_{name}",
                "tags": [tag],
                **semantic,
                "summary": "Update or delete many records: all or nothing",
                "requestBody": _json_body(f"#/components/schemas/{cap}Bulk"),
                "responses": {
                    "200": {
                        "description": "done",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "action": {"type": "string"},
                                        "count": {"type": "integer"},
                                    },
                                    "required": ["action", "count"],
                                }
                            }
                        },
                    },
                    **_problems("400", "401", "403", "404", "409", "413", "415"),
                },
            }
        },
        f"{base}/{{id}}": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": f"get_{name}",
                "tags": [tag],
                "responses": {
                    "200": _ok(ref, "the record", etag=True),
                    **_problems("401", "403", "404"),
                },
            },
            "patch": {
                "operationId": f"update_{name}",
                "tags": [tag],
                **semantic,
                "parameters": [IF_MATCH],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"{ref}Update"}},
                        "application/merge-patch+json": {"schema": {"$ref": f"{ref}Update"}},
                    },
                },
                "responses": {
                    "200": _ok(ref, "the updated record", etag=True),
                    **_problems("400", "401", "403", "404", "409", "412", "413", "415"),
                },
            },
            "delete": {
                "operationId": f"delete_{name}",
                "tags": [tag],
                "parameters": [IF_MATCH],
                "responses": {
                    "204": {"description": "deleted" + (" (restorable)" if et.soft_delete else "")},
                    **_problems("400", "401", "403", "404", "409", "412"),
                },
            },
        },
        f"{base}/{{id}}/history": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": f"history_{name}",
                "tags": [tag],
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "schema": {"type": "string", "pattern": "^[0-9]{1,9}$"},
                    },
                ],
                "responses": {
                    "200": _ok("#/components/schemas/History", "audit entries, newest first"),
                    **_problems("400", "401", "403", "404"),
                },
            },
        },
    }
    # the route serves every type; one without soft delete has nothing to restore
    paths[f"{base}/{{id}}/restore"] = {
        "parameters": [ID_PARAM],
        "post": {
            "operationId": f"restore_{name}",
            "tags": [tag],
            "summary": "Restore a deleted record"
            if et.soft_delete
            else "Not restorable: records of this type are deleted for good",
            "responses": {
                "200": _ok(ref, "the restored record", etag=True),
                **_problems("400", "401", "403", "404", "409"),
            },
        },
    }
    return paths


def _common_schemas() -> dict:
    return {
        "Problem": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
                        "required": ["field", "detail"],
                    },
                },
            },
            "required": ["type", "title", "status"],
        },
        "History": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "action": {
                                "type": "string",
                                "enum": ["create", "update", "delete", "restore", "merge"],
                            },
                            "at": {"type": "string", "format": "date-time"},
                            "user_id": {"type": ["integer", "null"]},
                            "user": {"type": ["string", "null"]},
                            "on_behalf_of_id": {"type": ["integer", "null"]},
                            "source": {"type": "string"},
                            "version": {"type": ["integer", "null"]},
                            "changes": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "array",
                                    "minItems": 2,
                                    "maxItems": 2,
                                },
                            },
                        },
                        "required": ["id", "action", "at", "changes", "source"],
                    },
                },
                "next_cursor": {"type": ["string", "null"]},
            },
            "required": ["items", "next_cursor"],
        },
    }


# --- shapes shared by the paths functions next to the views ---------------------------

#: a schema-valid request may still be refused with a 400 (checked against data): the
#: API fuzzer then skips its "valid data is accepted" check for the operation
SEMANTIC = {"x-kyklos-semantic-checks": True}
ANY: dict = {}
OBJECT = {"type": "object"}
BINARY = {"type": "string", "format": "binary"}


def file_response(media: str, description: str) -> dict:
    return {"description": description, "content": {media: {"schema": BINARY}}}


def multipart(**fields) -> dict:
    """A multipart/form-data body with a required ``file`` part."""
    return {
        "required": True,
        "content": {"multipart/form-data": {"schema": obj(fields, ["file"], strict=False)}},
    }


def operations_table(table, tag) -> dict:
    """Paths from rows of ``(method, path, operationId, success status, summary, query
    parameters, body)``: the error responses follow from what the row has."""
    paths: dict = {}
    for method, path, op_id, status, summary, query_params, body in table:
        params = [path_id()] if "{id}" in path else []
        codes = ["401", "403"]
        if params:
            codes.append("404")
        if body is not None or query_params:
            codes += ["400", "409"]
        if body is not None:
            codes += ["413", "415"]
        ok = no_content() if status == "204" else json_ok(ANY)
        extra = SEMANTIC if body is not None else {}
        paths.setdefault(path, {})[method] = operation(
            tag,
            op_id,
            {status: ok, **problems(*sorted(set(codes)))},
            summary=summary,
            parameters=[*params, *query_params],
            body=body,
            **extra,
        )
    return paths


def document(request) -> dict:
    """The OpenAPI 3.1 document of this deployment's API."""
    schemas = _common_schemas()
    paths: dict = {}
    for et in sorted(request.registry.kyklos_entities.values(), key=lambda e: e.slug):
        paths.update(_paths_for(request, et, schemas))
    merge_paths(paths, request)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{request.layout.site_name} API",
            "version": __version__,
            "description": "Records of every enabled plugin's entity types. Lists use keyset "
            "pagination (next_cursor); errors are RFC 9457 problem+json.",
        },
        "servers": [{"url": request.application_url}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }


def openapi_view(request):
    body = json.dumps(document(request), ensure_ascii=False, separators=(",", ":"))
    return Response(body=body.encode("utf-8"), content_type="application/json", charset="utf-8")


DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}" data-csrf-token="{csrf}"></div>
<script src="{bundle}"></script>
<script src="{preset}"></script>
<script src="{init}"></script>
</body>
</html>
"""


def docs_view(request):
    def static(name):
        return html.escape(request.static_url(f"{_swagger_dir()}/{name}"))

    page = DOCS_PAGE.format(
        title=html.escape(f"{request.layout.site_name} API"),
        css=static("swagger-ui.css"),
        bundle=static("swagger-ui-bundle.js"),
        preset=static("swagger-ui-standalone-preset.js"),
        init=html.escape(request.static_url("kyklos:entities/static/api-docs.js")),
        spec=html.escape(request.route_url("api.openapi")),
        csrf=html.escape(request.session.get_csrf_token()),
    )
    resp = Response(page, content_type="text/html", charset="utf-8")
    # Swagger UI sets element styles from its scripts; scripts stay 'self'-only.
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'"
    )
    return resp


def _swagger_dir() -> str:
    import swagger_ui

    return os.path.join(os.path.dirname(swagger_ui.__file__), "static")


def includeme(config):
    config.add_route("api.openapi", "/api/openapi.json", request_method="GET")
    config.add_view(openapi_view, route_name="api.openapi", permission="authenticated")
    config.add_route("api.docs", "/api/docs", request_method="GET")
    config.add_view(docs_view, route_name="api.docs", permission="authenticated")
    config.add_static_view("api/_swagger", _swagger_dir(), cache_max_age=86400)
    config.add_static_view("api/_static", "kyklos:entities/static/", cache_max_age=3600)
