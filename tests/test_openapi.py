"""The OpenAPI 3.1 document generated from the registry, the docs page, and schemathesis
run against the live app: no 5xx, responses as documented."""

from __future__ import annotations

import re

import pytest
import schemathesis
from entities_support import (
    insert_things,
    roles_synced,  # noqa: F401 - fixture
    thing_rules,  # noqa: F401 - fixture
)
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


@pytest.mark.usefixtures("thing_rules")
def test_document_describes_registered_types(api):
    doc = api("thingsreader").get("/api/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = doc["paths"]
    for p in (
        "/api/v1/things",
        "/api/v1/things/{id}",
        "/api/v1/things/{id}/history",
        "/api/v1/things/{id}/restore",
        "/api/v1/things/_bulk",
        "/api/v1/_exchange-rates",
    ):
        assert p in paths, p
    thing = doc["components"]["schemas"]["Thing"]["properties"]
    assert thing["id"]["readOnly"] and thing["created_at"]["readOnly"]
    assert thing["name"]["type"] == "string" and thing["name"]["maxLength"] == 100
    assert thing["size"]["type"] == ["integer", "null"]
    create = doc["components"]["schemas"]["ThingCreate"]
    assert create["required"] == ["name"] and create["additionalProperties"] is False
    assert "id" not in create["properties"] and "version" not in create["properties"]
    assert "version" in doc["components"]["schemas"]["ThingUpdate"]["properties"]
    params = {p["name"]: p for p in paths["/api/v1/things"]["get"]["parameters"]}
    assert {
        "name__contains",
        "size__between",
        "colour__in",
        "owner_id__isnull",
        "sort",
        "cursor",
        "limit",
        "fields",
        "count",
        "q",
        "deleted",
    } <= set(params)
    assert "size__contains" not in params and "created_at" not in params
    assert "size" in params["sort"]["schema"]["pattern"]
    patch = paths["/api/v1/things/{id}"]["patch"]
    assert {"412", "409", "400"} <= set(patch["responses"])
    problem = patch["responses"]["400"]["content"]["application/problem+json"]
    assert problem["schema"]["$ref"] == "#/components/schemas/Problem"


@pytest.mark.usefixtures("thing_rules")
def test_docs_page_is_served_locally(client):
    c = client("thingsreader")
    page = c.get("/api/docs")
    assert 'id="swagger-ui"' in page.text and "<script>" not in page.text
    assert "cdn" not in page.text.lower()
    for src in (
        "/api/_swagger/swagger-ui-bundle.js",
        "/api/_swagger/swagger-ui.css",
        "/api/_static/api-docs.js",
    ):
        assert src in page.text
        assert c.get(src).status_int == 200
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    # Swagger UI 5 renders OpenAPI 3.1 (4.x refuses it)
    bundle = c.get("/api/_swagger/swagger-ui-bundle.js").text
    assert 'version:"5.' in bundle or '"5.' in bundle


def _refers_to_records(case, references) -> bool:
    """Whether a generated body names record ids (which rarely exist: a 400 is right)."""
    body = case.body if isinstance(case.body, dict) else {}
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    return any(body.get(n) is not None or data.get(n) is not None for n in references)


@pytest.mark.usefixtures("thing_rules")
def test_schemathesis_finds_no_server_error_or_nonconformance(
    live_server, api, registry, dbsession
):
    """Every documented operation, a handful of generated cases each (bounded: a few
    seconds), sent over HTTP as an administrator: no 5xx; status codes, content types and
    bodies as the document says."""
    token = api("admin").authorization[1]
    auth = {"Authorization": f"Bearer {token}"}
    insert_things(registry, dbsession, [{"name": f"s{i}", "size": i} for i in range(3)])
    references = {
        f.name
        for et in registry.kyklos_entities.values()
        for f in et.fields.values()
        if f.type == "reference"
    }
    loaded = schemathesis.openapi.from_url(f"{live_server}/api/openapi.json", headers=auth)
    failures, ran = [], 0
    for result in loaded.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            # A cursor is opaque (only one the server issued is valid) and generated ids
            # rarely exist: such schema-valid requests may rightly be refused with a 400.
            # Operations marked x-kyklos-semantic-checks check bodies against data
            # (workflow states, rule conditions, file contents): a 400 naming the
            # field is right there too.
            doubtful = (
                "cursor" in (case.query or {})
                or _refers_to_records(case, references)
                or case.operation.definition.raw.get("x-kyklos-semantic-checks", False)
            )
            case.call_and_validate(
                base_url=live_server,
                headers=auth,
                excluded_checks=[positive_data_acceptance] if doubtful else None,
            )

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {exc}")
        ran += 1
    assert ran >= 100, ran  # every documented operation, core and sample plugin
    assert not failures, "\n\n".join(failures)


# --- completeness: every /api/v1 route is described ------------------------------------


def _normalise(pattern: str) -> str:
    """``/api/v1/{slug:[a-z]+}/{id:\\d+}`` -> ``/api/v1/{slug}/{id}``."""
    return re.sub(r"\{(\w+)(:[^{}]*(\{[^{}]*\}[^{}]*)*)?\}", r"{\1}", pattern)


def api_operations(registry) -> set[tuple[str, str]]:
    """(path, method) of every /api/v1 route, methods from the route or its views."""
    introspector = registry.introspector
    out = set()
    for item in introspector.get_category("routes") or []:
        route = item["introspectable"]
        if not route["pattern"].startswith("/api/v1"):
            continue
        methods = set()
        for intr in [route, *introspector.related(route)]:
            if intr is route or intr.category_name == "views":
                m = intr["request_methods"]
                methods |= {m} if isinstance(m, str) else set(m or ())
        assert methods, f"{route['pattern']} accepts any method: name them"
        out |= {(_normalise(route["pattern"]), m.lower()) for m in methods}
    return out


def _described(doc, registry, path, method) -> bool:
    paths = doc["paths"]
    if method in paths.get(path, {}):
        return True
    if "{slug}" not in path:
        return False
    # a {slug} route counts as described through its per-type expansion, every type
    slugs = sorted(et.slug for et in registry.kyklos_entities.values())
    return all(method in paths.get(path.replace("{slug}", s), {}) for s in slugs)


@pytest.mark.parametrize(
    "kyklos_plugins",
    [["samplea"], ["contacts", "activities", "catalog", "sfa"]],
    ids=["core", "plugins"],
)
def test_every_api_route_is_described(api, registry):
    doc = api("admin").get("/api/openapi.json").json
    wanted = api_operations(registry)
    assert len(wanted) > 60
    missing = sorted(f"{m.upper()} {p}" for p, m in wanted if not _described(doc, registry, p, m))
    assert not missing, "undescribed API operations:\n" + "\n".join(missing)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert op.get("responses") and op.get("operationId"), (method, path)
    ids = [
        op["operationId"]
        for item in doc["paths"].values()
        for m, op in item.items()
        if m != "parameters"
    ]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_normalise_route_patterns():
    assert _normalise(r"/api/v1/{slug:[a-z][a-z0-9_-]*}/{id:[0-9]{1,18}}/x") == (
        "/api/v1/{slug}/{id}/x"
    )
    assert _normalise(r"/api/v1/_approvals/{id:\d{1,18}}/{action:approve|reject}") == (
        "/api/v1/_approvals/{id}/{action}"
    )


# --- config.add_openapi_paths -----------------------------------------------------------


def _fleet_paths(request):
    return {
        "/api/v1/fleet/report": {
            "get": {
                "operationId": "fleet_report",
                "tags": ["Fleet"],
                "responses": {"200": {"description": "ok"}},
            }
        }
    }


def _configure(plugin_includeme):
    from kyklos.app import make_configurator

    config = make_configurator(
        {"sqlalchemy.url": "sqlite://", "kyklos.secret": "x"}, check_migrations=False
    )
    config.include(plugin_includeme)
    config.commit()
    return config


def test_add_openapi_paths_contributes_paths_to_the_document():
    from pyramid.request import Request, apply_request_extensions

    from kyklos.entities.openapi import merge_paths

    def includeme(config):
        config.add_openapi_paths(_fleet_paths)

    config = _configure(includeme)
    reg = config.registry
    assert reg.kyklos_openapi_operations[("/api/v1/fleet/report", "get")] is _fleet_paths
    request = Request.blank("/")
    request.registry = reg
    apply_request_extensions(request)
    paths = merge_paths({}, request)
    assert paths["/api/v1/fleet/report"]["get"]["operationId"] == "fleet_report"
    # the core's own modules contribute through the same directive
    assert "post" in paths["/api/v1/_exchange-rates"] and "get" in paths["/api/v1/_jobs"]
    assert reg.introspector.get("kyklos openapi paths", f"{__name__}._fleet_paths")
    reg["dbengine"].dispose()


def test_describing_an_operation_twice_is_a_conflict():
    from pyramid.exceptions import ConfigurationConflictError

    def other(request):
        return _fleet_paths(request)

    def includeme(config):
        config.add_openapi_paths(_fleet_paths)
        config.add_openapi_paths(other)

    with pytest.raises(ConfigurationConflictError):
        _configure(includeme)


def test_a_plugin_cannot_redescribe_a_core_operation():
    from pyramid.exceptions import ConfigurationError

    def jobs(request):
        return {"/api/v1/_jobs": {"get": {"operationId": "mine", "responses": {}}}}

    def includeme(config):
        config.add_openapi_paths(jobs)

    # an earlier commit (the core's) described it: refused at start-up
    with pytest.raises(ConfigurationError, match="_jobs"):
        _configure(includeme)
