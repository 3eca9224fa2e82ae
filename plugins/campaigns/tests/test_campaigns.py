"""Campaigns through the HTTP API and pages: target lists with consent, suppression and
de-duplication counted; templates sanitised and merged with fallbacks; sending through
the outbox to a real SMTP server (aiosmtpd) once per person; signed tracking links;
one-click unsubscribe that updates consent; responses; results."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "campaign-tests-secret"}


def _fields(response) -> set:
    return {e["field"] for e in response.json["errors"]}


def _people(make_record, dbsession):
    """Six people in Crete: two opted in, one opted in sharing an address with another,
    one opted out, one never asked, one without an e-mail, one suppressed."""
    from kyklos_contacts.api import set_consent

    spec = [
        ("Maria", "Papadaki", "maria@example.gr", "opt_in", "el"),
        ("", "Nikolaou", "nikos@example.gr", "opt_in", "en"),
        ("Eleni", "Nikolaou", "NIKOS@example.gr", "opt_in", "el"),  # same address
        ("Kostas", "Ioannou", "kostas@example.gr", "opt_out", "el"),
        ("Anna", "Georgiou", "anna@example.gr", None, "el"),  # never asked
        ("Petros", "Dimas", None, "opt_in", "el"),  # no e-mail
        ("Sofia", "Vlachou", "sofia@example.gr", "opt_in", "el"),  # suppressed
    ]
    ids = []
    for first, last, email, consent, lang in spec:
        pid = make_record(
            "person", first_name=first, last_name=last, email=email, city="Heraklion", language=lang
        )
        ids.append(pid)
        if consent:
            with dbsession() as db:
                set_consent(db, pid, "email", consent, source="test")
    return ids


def _segment(app, name="Heraklion people"):
    body = {
        "entity": "person",
        "name": name,
        "kind": "dynamic",
        "definition": {"and": [{"field": "city", "op": "eq", "value": "Heraklion"}]},
    }
    return app.post_json("/api/v1/_segments", body, status=201).json["id"]


def _setup(boss, make_record, dbsession, kind="static"):
    ids = _people(make_record, dbsession)
    boss.post_json("/api/v1/suppressions", {"address": " Sofia@Example.gr "}, status=201)
    seg = _segment(boss)
    tl = boss.post_json(
        "/api/v1/target-lists",
        {"name": "Crete", "segment_id": seg, "kind": kind, "channel": "email"},
        status=201,
    ).json
    return ids, seg, tl


HTML = (
    '<style>p { color: #123456 }</style><h1>Hello {{ first_name | default("customer") }}</h1>'
    '<p style="color: #123456">News for {{ full_name }}.</p>'
    '<a href="https://example.com/offer">Offer</a>'
    '<script>alert(1)</script><img src="x" onerror="alert(2)">'
)


def _template(
    boss,
    name="Spring",
    language="en",
    html=HTML,
    subject="News, {{ first_name | default('friend') }}",
):
    return boss.post_json(
        "/api/v1/campaign-templates",
        {"name": name, "language": language, "subject": subject, "body_html": html},
        status=201,
    ).json


def test_list_counts_exclusions_and_freezes_members(boss, make_record, dbsession):
    ids, seg, tl = _setup(boss, make_record, dbsession)
    built = boss.post(f"/api/v1/target-lists/{tl['id']}/build").json
    assert built["members"] == 2  # Maria, and the first of the two sharing an address
    assert built["excluded_consent"] == 2  # opted out, never asked
    assert built["excluded_duplicate"] == 1
    assert built["excluded_suppressed"] == 1
    assert built["excluded_no_address"] == 1
    assert built["excluded"] == (
        "excluded: 2 no consent, 1 duplicate, 1 suppressed, 1 without an address"
    )
    members = boss.get(f"/api/v1/target-list-members?list_id={tl['id']}").json["items"]
    assert sorted(m["person_id"] for m in members) == [ids[0], ids[1]]
    # frozen: a new person in the segment is not a member until the list is built again
    make_record(
        "person", first_name="New", last_name="Comer", email="new@example.gr", city="Heraklion"
    )
    assert boss.get(f"/api/v1/target-lists/{tl['id']}/preview").json["members"] == 2
    got = boss.get(f"/api/v1/target-lists/{tl['id']}").json
    assert (got["member_count"], got["excluded_consent"]) == (2, 2)


def test_global_search_finds_the_person_not_their_list_memberships(boss, make_record, dbsession):
    ids, seg, tl = _setup(boss, make_record, dbsession)
    boss.post(f"/api/v1/target-lists/{tl['id']}/build")
    # a member row holds the person's name and address too, yet global search lists the
    # person alone: memberships are parts of a list, found from the list itself
    groups = boss.get("/api/v1/_search", {"q": "Papadaki"}).json["groups"]
    assert [g["type"] for g in groups] == ["person"]
    groups = boss.get("/api/v1/_search", {"q": "sofia@example.gr"}).json["groups"]
    assert "suppression" not in [g["type"] for g in groups]
    # the list's own search still finds the members
    listed = boss.get("/api/v1/target-list-members", {"q": "Papadaki"}).json["items"]
    assert [m["person_id"] for m in listed] == [ids[0]]


def test_dynamic_list_is_evaluated_each_time(boss, make_record, dbsession):
    from kyklos_contacts.api import set_consent

    _ids, _seg, tl = _setup(boss, make_record, dbsession, kind="dynamic")
    assert boss.get(f"/api/v1/target-lists/{tl['id']}/preview").json["members"] == 2
    pid = make_record(
        "person", first_name="New", last_name="Comer", email="new@example.gr", city="Heraklion"
    )
    with dbsession() as db:
        set_consent(db, pid, "email", "opt_in")
    assert boss.get(f"/api/v1/target-lists/{tl['id']}/preview").json["members"] == 3


def test_list_validation_is_problem_json(boss, api, make_record):
    bad = boss.post_json("/api/v1/target-lists", {"name": "X", "segment_id": 999999}, status=400)
    assert bad.content_type == "application/problem+json"
    assert "segment_id" in _fields(bad)
    # a segment of another type than people or accounts is refused by name
    seg = boss.post_json(
        "/api/v1/_segments",
        {"entity": "consent", "name": "consents", "kind": "dynamic", "definition": {"and": []}},
    )
    if seg.status_int == 201:
        bad = boss.post_json(
            "/api/v1/target-lists", {"name": "X", "segment_id": seg.json["id"]}, status=400
        )
        assert "segment_id" in _fields(bad)


def test_list_follows_the_users_record_rules(api, make_record, dbsession, make_user):
    """A rep who sees only their own people targets only those."""
    from kyklos_contacts.api import set_consent

    rep = api("sales", "campaignmanager")
    other = make_user(roles=("sales",))
    mine = make_record(
        "person", last_name="Mine", email="mine@example.gr", city="Chania", owner_id=rep.user_id
    )
    theirs = make_record(
        "person", last_name="Theirs", email="theirs@example.gr", city="Chania", owner_id=other
    )
    with dbsession() as db:
        for pid in (mine, theirs):
            set_consent(db, pid, "email", "opt_in")
    body = {
        "entity": "person",
        "name": "Chania",
        "kind": "dynamic",
        "definition": {"and": [{"field": "city", "op": "eq", "value": "Chania"}]},
    }
    seg = rep.post_json("/api/v1/_segments", body, status=201).json["id"]
    tl = rep.post_json("/api/v1/target-lists", {"name": "C", "segment_id": seg}, status=201).json
    # the campaign manager role reads all people: the list has both
    assert rep.post(f"/api/v1/target-lists/{tl['id']}/build").json["members"] == 2
    sales_only = api("sales")
    sales_only.post(f"/api/v1/target-lists/{tl['id']}/build", status=403)


def test_template_is_sanitised_and_checked(boss, make_record):
    t = _template(boss)
    assert "<script" not in t["body_html"] and "onerror" not in t["body_html"]
    bad = boss.post_json(
        "/api/v1/campaign-templates",
        {
            "name": "Bad",
            "language": "en",
            "subject": "Hi {{ first_name ",
            "body_html": "<p>{% for %}</p>",
        },
        status=400,
    )
    assert bad.content_type == "application/problem+json"
    assert {"subject", "body_html"} <= _fields(bad)


def test_template_preview_merges_with_fallbacks(boss, make_record):
    t = _template(boss)
    nameless = make_record("person", first_name="", last_name="Nikolaou", email="n@example.gr")
    named = make_record("person", first_name="Maria", last_name="Papadaki")
    out = boss.post_json(
        f"/api/v1/campaign-templates/{t['id']}/preview", {"person_id": nameless}
    ).json
    assert out["subject"] == "News, friend"
    assert "Hello customer" in out["html"]
    # the body is rich text with an HTML source view: the layout's inline styles stay,
    # scripts, event handlers and <style> blocks are gone when it is saved
    assert 'style="color: #123456' in out["html"].replace("color:#123456", "color: #123456")
    assert "<script" not in out["html"]
    assert "onerror" not in out["html"] and "<style" not in t["body_html"]
    assert "Hello customer" in out["text"] and "https://example.com/offer" in out["text"]
    out = boss.post_json(f"/api/v1/campaign-templates/{t['id']}/preview", {"person_id": named}).json
    assert out["subject"] == "News, Maria" and "Hello Maria" in out["html"]
    bad = boss.post_json(
        f"/api/v1/campaign-templates/{t['id']}/preview", {"person_id": "x"}, status=400
    )
    assert "person_id" in _fields(bad)
    # a template that reaches into Python is stopped by the sandbox, not a 500
    evil = _template(boss, name="Evil", html="<p>{{ ''.__class__.__mro__ }}</p>", subject="x")
    r = boss.post_json(
        f"/api/v1/campaign-templates/{evil['id']}/preview", {"person_id": named}, status=400
    )
    assert r.status_int == 400 and "body_html" in _fields(r) and "<class" not in r.text


def test_send_reaches_each_person_once_with_unsubscribe_headers(
    new_campaign, boss, make_record, dbsession, smtp_server
):
    ids, _seg, tl = _setup(boss, make_record, dbsession)
    boss.post(f"/api/v1/target-lists/{tl['id']}/build")
    en = _template(boss)
    _template(boss, language="el", html="<p>Γεια σας {{ first_name }}</p>", subject="Νέα")
    c = new_campaign(tl, en)
    sent = boss.post(f"/api/v1/campaigns/{c['id']}/send").json
    assert sent["status"] == "scheduled"
    msgs = smtp_server.wait(2)
    assert sorted(m["To"] for m in msgs) == ["maria@example.gr", "nikos@example.gr"]
    by_to = {m["To"]: m for m in msgs}
    # each person in their language: Maria reads Greek
    assert by_to["maria@example.gr"]["Subject"] == "Νέα"
    assert by_to["nikos@example.gr"]["Subject"] == "News, friend"
    for m in msgs:
        assert re.fullmatch(r"<campaign-\d+\.\d+@example\.com>", m["Message-ID"])
        assert m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert m["List-Unsubscribe"].startswith("<http")
    assert len({m["Message-ID"] for m in msgs}) == 2
    got = boss.get(f"/api/v1/campaigns/{c['id']}").json
    assert got["status"] == "sent"
    assert got["excluded_consent"] == 2
    rows = boss.get(f"/api/v1/campaign-recipients?campaign_id={c['id']}").json["items"]
    assert {r["state"] for r in rows} == {"sent"}
    # the recipient list's search finds a recipient by name (they were indexed)
    found = boss.get(
        "/api/v1/campaign-recipients", {"campaign_id": c["id"], "q": "Papadaki"}
    ).json["items"]
    assert [r["name"] for r in found] == ["Maria Papadaki"]
    # sending again is refused, and sends nothing
    again = boss.post(f"/api/v1/campaigns/{c['id']}/send", status=400)
    assert "status" in _fields(again)
    assert len(smtp_server.wait(3, timeout=0.5)) == 2


def test_reps_may_not_send(new_campaign, api, boss, make_record, dbsession):
    _ids, _seg, tl = _setup(boss, make_record, dbsession)
    c = new_campaign(tl, _template(boss))
    rep = api("sales")
    assert rep.get(f"/api/v1/campaigns/{c['id']}").json["name"] == "Spring 2026"
    rep.post(f"/api/v1/campaigns/{c['id']}/send", status=403)
    rep.post_json("/api/v1/campaigns", {"name": "Mine"}, status=403)


def test_send_validation(boss):
    c = boss.post_json("/api/v1/campaigns", {"name": "Empty"}, status=201).json
    bad = boss.post(f"/api/v1/campaigns/{c['id']}/send", status=400)
    assert bad.content_type == "application/problem+json"
    assert {"list_id", "template_id"} <= _fields(bad)
    bad = boss.post_json("/api/v1/campaigns", {"name": "X", "channel": "pigeon"}, status=400)
    assert "channel" in _fields(bad)


def _links(msg):
    html = msg.get_body(("html",)).get_content()
    return re.findall(r'(?:href|src)="(http[^"]+/t/[ocu]/[^"]+)"', html)


def test_tracking_unsubscribe_and_results(
    new_campaign, boss, make_record, dbsession, smtp_server, testapp
):
    from kyklos_contacts.api import consent_status

    ids, _seg, tl = _setup(boss, make_record, dbsession)
    boss.post(f"/api/v1/target-lists/{tl['id']}/build")
    html = HTML + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    c = new_campaign(tl, _template(boss, html=html), cost={"amount": "100.00", "currency": "EUR"})
    boss.post(f"/api/v1/campaigns/{c['id']}/send")
    msgs = {m["To"]: m for m in smtp_server.wait(2)}
    maria = msgs["maria@example.gr"]
    links = _links(maria)
    click = next(u for u in links if "/t/c/" in u)
    pixel = next(u for u in links if "/t/o/" in u)
    path = lambda u: u.split("localhost", 1)[-1]  # noqa: E731
    r = testapp.get(path(pixel))
    assert r.content_type == "image/gif"
    r = testapp.get(path(click), status=302)
    assert r.location == "https://example.com/offer"
    # a forged or altered target is no redirect
    testapp.get("/t/c/" + "x" * 20, status=404)
    testapp.get(path(click)[:-3] + "abc", status=404)
    # one-click unsubscribe (RFC 8058), as a mail client posts it: no session, no token
    unsub = maria["List-Unsubscribe"].strip("<>")
    testapp.post(path(unsub), {"List-Unsubscribe": "One-Click"}, status=200)
    with dbsession() as db:
        assert consent_status(db, ids[0], "email").status == "opt_out"
    # the page for people says it is done
    page = testapp.get(path(unsub))
    assert "no more such messages" in page.text
    # a rep records a response by hand
    rows = boss.get(f"/api/v1/campaign-recipients?campaign_id={c['id']}").json["items"]
    nikos = next(r for r in rows if r["address"] == "nikos@example.gr")
    boss.patch_json(
        f"/api/v1/campaign-recipients/{nikos['id']}", {"response": "interested"}, status=200
    )
    bad = boss.patch_json(
        f"/api/v1/campaign-recipients/{nikos['id']}", {"response": "maybe"}, status=400
    )
    assert "response" in _fields(bad)
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert (res["sent"], res["opened"], res["clicked"], res["unsubscribed"]) == (2, 1, 1, 1)
    assert res["responded"] == 1 and res["responses"]["interested"] == 1
    assert res["cost"] == {"amount": "100.00", "currency": "EUR"}
    assert res["revenue"] is None  # no sfa: no revenue, no ROI
    # the page shows the same numbers, with the chart
    page = boss.get(f"/campaigns/{c['id']}/results")
    assert "cmp-results-chart" in page.text and "Unsubscribed" in page.text


def test_pages_create_list_and_preview(client, boss, make_record, dbsession):
    app = client("campaignmanager")
    _people(make_record, dbsession)
    seg = _segment(boss)
    form = app.get("/target-lists/new")
    assert "Heraklion people (People)" in form.text
    html = app.get("/campaign-templates/new").text
    assert "HTML body" in html
    t = app.post_json(
        "/api/v1/campaign-templates",
        {"name": "P", "language": "en", "subject": "Hi", "body_html": HTML},
        headers={"X-CSRF-Token": re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]},
    ).json
    with dbsession() as db:
        from kyklos_contacts.models import Person

        pid = db.execute(select(Person.id).where(Person.first_name == "Maria")).scalar()
    page = app.get(f"/campaign-templates/{t['id']}/preview?person_id={pid}")
    assert (
        "Hello Maria" in page.text
        or "Hello Maria"
        in app.get(f"/campaign-templates/{t['id']}/preview/html?person_id={pid}").text
    )
    frame = app.get(f"/campaign-templates/{t['id']}/preview/html?person_id={pid}")
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "<script" not in frame.text
    assert seg
