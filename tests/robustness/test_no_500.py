"""Bad input gets a clear error and loses nothing: the classes of defect an outside
review found with a fuzzer (malformed bodies and URLs, wrong JSON shapes, constraint
violations), each probed on every operation of its class rather than one example."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def slugs(registry) -> list[str]:
    return sorted(et.slug for et in registry.kyklos_entities.values())


def problem(res, status):
    assert res.status_int == status, (res.status, res.text[:300])
    assert res.content_type == "application/problem+json", res.content_type
    return res.json


def test_multipart_without_boundary_is_a_client_error(api, registry):
    admin = api("admin")
    for slug in slugs(registry):
        res = admin.post(
            f"/api/v1/{slug}",
            b"--x\r\n",
            headers={"Content-Type": "multipart/form-data"},
            expect_errors=True,
        )
        assert res.status_int in (400, 415), (slug, res.status)


def test_non_ascii_cursor_and_invalid_utf8_in_urls(api, registry):
    admin = api("admin")
    for slug in slugs(registry):
        res = admin.get(f"/api/v1/{slug}?cursor=%CE%91%CE%92%CE%93", expect_errors=True)
        problem(res, 400)
        res = admin.get(f"/api/v1/{slug}?q=%FF%FE", expect_errors=True)
        assert res.status_int == 400, (slug, res.status)
        res = admin.get(f"/api/v1/{slug}/%FF", expect_errors=True)
        assert res.status_int in (400, 404), (slug, res.status)


def test_invalid_utf8_in_page_urls_anonymous(testapp):
    for path in ("/%FF", "/login?came_from=%FF", "/persons/?q=%C3%28", "/api/v1/persons?x=%FF"):
        res = testapp.get(path, expect_errors=True)
        assert res.status_int in (400, 401, 303, 404), (path, res.status)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/_automation/rules",
        "/api/v1/_custom-fields",
        "/api/v1/_duplicates/scan",
        "/api/v1/_segments/preview",
    ],
)
def test_objects_where_strings_are_expected(api, path):
    admin = api("admin")
    for body in ({"name": {"a": 1}, "entity": ["person"]}, {"entity": {"x": 1}}, ["x"], "x"):
        res = admin.post_json(path, body, expect_errors=True)
        assert res.status_int in (400, 404, 422), (path, body, res.status, res.text[:200])


def test_unique_violation_is_409_naming_the_field(api):
    admin = api("admin")
    for slug, body in (
        ("pipeline-stages", {"name": "Dup stage", "code": "dup", "probability": 10}),
        ("relationship-types", {"name": "Dup rel", "code": "duprel", "inverse_name": "x"}),
    ):
        first = admin.post_json(f"/api/v1/{slug}", body, expect_errors=True)
        assert first.status_int == 201, (slug, first.text[:300])
        again = admin.post_json(f"/api/v1/{slug}", body, expect_errors=True)
        body = problem(again, 409)
        assert body.get("errors"), body


def test_foreign_key_violation_says_what_uses_the_record(api, dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)
    admin = api("admin")
    types = admin.get("/api/v1/activity-types?code=task").json["items"]
    used = types[0]["id"]
    admin.post_json("/api/v1/activities", {"type_id": used, "subject": "uses the type"}, status=201)
    res = admin.delete(f"/api/v1/activity-types/{used}", expect_errors=True)
    assert "Activities" in problem(res, 409)["detail"]
    assert admin.get(f"/api/v1/activity-types/{used}").json["id"] == used  # nothing lost
    res = admin.post_json(
        "/api/v1/activity-types",
        {"title": "Bad", "code": "badset", "status_set_id": 999999},
        expect_errors=True,
    )
    assert [e["field"] for e in problem(res, 400)["errors"]] == ["status_set_id"]


def test_null_for_a_not_null_field_is_400(api):
    admin = api("admin")
    q = admin.post_json("/api/v1/quotes", {"title": "Q"}, expect_errors=True)
    assert q.status_int == 201, q.text[:300]
    res = admin.patch_json(
        f"/api/v1/quotes/{q.json['id']}",
        {"status": None},
        headers={"If-Match": q.headers.get("ETag", "*")},
        expect_errors=True,
    )
    body = problem(res, 400)
    assert any(e["field"] == "status" for e in body["errors"]), body


def test_csrf_failure_on_the_api_is_problem_json(client):
    app = client("admin")
    res = app.post_json("/api/v1/persons", {"last_name": "X"}, expect_errors=True)
    assert "CSRF" in problem(res, 400)["detail"]


# --- text the exports and readers can hold -------------------------------------------


def test_control_characters_are_refused_and_never_break_an_export(api, registry, dbsession):
    import io

    import openpyxl

    admin = api("admin")
    res = admin.post_json("/api/v1/accounts", {"name": "Bell\x07 Ltd"}, expect_errors=True)
    assert [e["field"] for e in problem(res, 400)["errors"]] == ["name"]
    ok = admin.post_json("/api/v1/accounts", {"name": "Tab\tand\nlines"}, expect_errors=True)
    assert ok.status_int == 201, ok.text[:300]
    # a value stored before input refused it (an old import, SQL) still exports
    model = registry.kyklos_entities["account"].model
    with dbsession() as db:
        db.add(model(name="Old\x1bEscape\x0bValue"))
    xlsx = admin.get("/api/v1/accounts/_export", {"format": "xlsx", "columns": "name"})
    names = [r[0] for r in openpyxl.load_workbook(io.BytesIO(xlsx.body)).active.values]
    assert "Old\ufffdEscape\ufffdValue" in names and "Tab\tand\nlines" in names


@pytest.mark.parametrize(
    "name",
    ["\u200b", "\u200b\u200d \ufeff", "Acme\u202eevil.exe", "\u2066Isolated\u2069"],
)
def test_invisible_or_reordering_names_are_refused(api, name):
    res = api("admin").post_json("/api/v1/accounts", {"name": name}, expect_errors=True)
    assert [e["field"] for e in problem(res, 400)["errors"]] == ["name"]
    res = api("admin").post_json(
        "/api/v1/persons", {"first_name": name, "last_name": "Ok"}, expect_errors=True
    )
    assert [e["field"] for e in problem(res, 400)["errors"]] == ["first_name"]


def test_names_in_right_to_left_and_joined_scripts_are_kept(api):
    admin = api("admin")
    for name in ('שלום בע"מ', "مؤسسة النور", "क्षत्रिय", "Zoë‍ Co"):
        res = admin.post_json("/api/v1/accounts", {"name": name}, expect_errors=True)
        assert res.status_int == 201, (name, res.text[:300])


def test_web_forms_with_invalid_utf8_are_refused(testapp, client):
    res = testapp.post(
        "/login",
        b"email=a%FF%FE@example.com&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert res.status_int == 400 and "UTF-8" in res.text
    app = client("admin")
    res = app.post(
        "/persons/new",
        b"last_name=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        expect_errors=True,
    )
    assert res.status_int == 400 and "UTF-8" in res.text


def test_a_non_ascii_signature_in_a_cursor_is_a_400(api, registry):
    admin = api("admin")
    for slug in slugs(registry):
        res = admin.get(f"/api/v1/{slug}", {"cursor": "eyJ9.\u00e9\u00e9"}, expect_errors=True)
        problem(res, 400)


def test_a_lenient_form_path_drops_undecodable_fields_instead_of_the_request():
    """``config.add_lenient_form_path``: a machine posting raw bytes in one field (an SMS
    gateway's UTF-16 text) keeps its other fields; elsewhere such a form is refused."""
    from pyramid.config import Configurator
    from pyramid.request import Request
    from pyramid.response import Response

    from kyklos.web.sanity import add_lenient_form_path, sanity_tween_factory

    config = Configurator()
    config.add_directive("add_lenient_form_path", add_lenient_form_path)
    config.add_lenient_form_path("/hook/")
    with pytest.raises(ValueError):
        config.add_lenient_form_path("hook")
    seen = {}

    def handler(request):
        seen["form"] = dict(request.POST)
        return Response("ok")

    tween = sanity_tween_factory(handler, config.registry)
    body = "from=306900000001&content=%FF%FE%B1%03&binary=03B1&text=Καλημέρα".encode()

    def post(path):
        req = Request.blank(
            path, method="POST", body=body, content_type="application/x-www-form-urlencoded"
        )
        req.registry = config.registry
        return tween(req)

    assert post("/hook/in").status_int == 200
    assert seen["form"] == {"from": "306900000001", "binary": "03B1", "text": "Καλημέρα"}
    seen.clear()
    assert post("/other/in").status_int == 400 and not seen
