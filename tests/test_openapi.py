"""The OpenAPI 3.1 document generated from the registry, the docs page, and schemathesis
run against the live app: no 5xx, responses as documented."""

from __future__ import annotations

import pytest
import schemathesis
from entities_support import (
    insert_things,
    roles_synced,  # noqa: F401 - fixture
    thing_rules,  # noqa: F401 - fixture
)
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


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
            doubtful = "cursor" in (case.query or {}) or _refers_to_records(case, references)
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
    assert ran >= 12
    assert not failures, "\n\n".join(failures)
