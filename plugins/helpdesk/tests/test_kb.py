"""The knowledge base (HD-06) through its public surfaces: articles on the API with bad
input refused field by field, suggestions while a case is typed (ranked, published
only, accents and case folded), "did this help?" counted once per user, "Solved by
article" on a case and on the article, and the portal: a customer reads, searches and
votes on published portal articles only (never an internal or a draft one, on the
pages, the API, the search or the suggestions)."""

from __future__ import annotations

import pytest
import webtest
from helpdesk_helpers import csrf_of, errors_of
from sqlalchemy import select


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def article(app, **data):
    data.setdefault("title", "Printer shows error E05")
    data.setdefault("status", "published")
    return app.post_json("/api/v1/kb-articles", data, status=201).json


def portal_token(kyklos_app, dbsession, email):
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    with dbsession() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        token, _row = create_token(db, user, name="kb")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    return app


def test_articles_on_the_api_and_bad_input_named_field_by_field(admin):
    a = article(
        admin,
        symptom="The display shows E05 and nothing prints.",
        cause="The fuser is cold.",
        solution="Switch off.\n\nWait ten minutes.",
        language="el",
        category="Printers",
        visibility="portal",
    )
    assert a["language"] == "el" and a["visibility"] == "portal" and a["status"] == "published"
    assert a["helpful_percent"] is None and a["helpful_yes"] == 0
    res = admin.post_json(
        "/api/v1/kb-articles",
        {"title": " ", "language": "xx", "visibility": "everyone", "status": "gone"},
        status=400,
    )
    assert {"title", "language", "visibility", "status"} <= set(errors_of(res))
    # the counts are the votes': no client writes them
    res = admin.patch_json(
        f"/api/v1/kb-articles/{a['id']}", {"helpful_yes": 99, "version": a["version"]}, status=400
    )
    assert "helpful_yes" in errors_of(res)
    assert admin.get("/api/v1/kb-articles?language=el").json["items"][0]["id"] == a["id"]
    assert admin.get("/api/v1/kb-articles?language=en").json["items"] == []
    # a translation is grouped under its original and listed on it
    tr = article(admin, title="Printer: E05", language="en", translation_of_id=a["id"])
    page = admin.get(f"/kb-articles/{a['id']}").text
    assert "Translations" in page and tr["title"] in page
    res = admin.patch_json(
        f"/api/v1/kb-articles/{a['id']}",
        {"translation_of_id": a["id"], "version": a["version"]},
        status=400,
    )
    assert "translation_of_id" in errors_of(res)
    # the list page shows the state and visibility in words
    listing = admin.get("/kb-articles/").text
    assert "Published to the portal" in listing and "Published" in listing


def test_products_are_linked_with_a_picker_and_listed_on_the_article(admin):
    a = article(admin)
    p1 = admin.post_json("/api/v1/products", {"sku": "P-1", "name": "Laser 2000"}).json["id"]
    p2 = admin.post_json("/api/v1/products", {"sku": "P-2", "name": "Laser 3000"}).json["id"]
    for p in (p1, p2):
        admin.post_json("/api/v1/kb-article-products", {"article_id": a["id"], "product_id": p})
    page = admin.get(f"/kb-articles/{a['id']}").text
    assert "Laser 2000" in page and "Laser 3000" in page
    form = admin.get(f"/kb-article-products/new?article_id={a['id']}").text
    assert "data-k-picker" in form
    res = admin.post_json(
        "/api/v1/kb-article-products", {"article_id": a["id"], "product_id": p1}, expect_errors=True
    )
    assert res.status_int in (400, 409)


def test_suggestions_rank_published_articles_folding_accents(admin):
    best = article(admin, title="Ο εκτυπωτής δεν τυπώνει", symptom="Κόκκινο λαμπάκι")
    other = article(admin, title="Router resets", symptom="The printer of the office is slow")
    article(admin, title="Εκτυπωτής: draft note", status="draft")
    got = admin.get("/api/v1/helpdesk/kb/suggest", {"q": "ΕΚΤΥΠΩΤΗΣ τυπωνει"}).json["items"]
    assert [i["id"] for i in got] == [best["id"]]
    assert got[0]["url"].endswith(f"/kb-articles/{best['id']}")
    assert got[0]["helpful"]  # in words
    got = admin.get("/api/v1/helpdesk/kb/suggest", {"q": "printer"}).json["items"]
    assert [i["id"] for i in got] == [other["id"]]
    # too little typed: nothing; too much: a problem, not a 500
    assert admin.get("/api/v1/helpdesk/kb/suggest", {"q": "ab"}).json["items"] == []
    res = admin.get("/api/v1/helpdesk/kb/suggest", {"q": "x" * 3000}, status=400)
    assert "q" in errors_of(res)
    # the staff pages' address answers the same for the form's script
    assert admin.get("/helpdesk/kb/suggest", {"q": "router"}).json["items"][0]["id"] == other["id"]


def test_the_new_case_form_carries_the_suggestion_box(admin, make_user, api):
    page = admin.get("/cases/new").text
    assert 'id="kb-suggest"' in page and "kb_suggest.js" in page
    assert "Articles that may help" in page
    # not on other forms
    assert 'id="kb-suggest"' not in admin.get("/case-types/new").text


def test_did_this_help_counts_once_per_user(admin, api, make_user):
    a = article(admin)
    res = admin.post_json(f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": True}).json
    assert (res["helpful_yes"], res["helpful_no"], res["helpful_percent"]) == (1, 0, 100)
    # again: still one answer; changing it replaces it
    admin.post_json(f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": True})
    res = admin.post_json(f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": False}).json
    assert (res["helpful_yes"], res["helpful_no"]) == (0, 1)
    agent = api("agent")
    agent.post_json(f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": True})
    got = admin.get(f"/api/v1/kb-articles/{a['id']}").json
    assert (got["helpful_yes"], got["helpful_no"], got["helpful_percent"]) == (1, 1, 50)
    # a vote is not an edit: the author's version is untouched
    assert got["version"] == a["version"]
    res = admin.post_json(f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": "maybe"}, status=400)
    assert "helpful" in errors_of(res)
    res = admin.post_json(
        f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": True, "x": 1}, status=400
    )
    assert "x" in errors_of(res)
    admin.post_json("/api/v1/kb-articles/999999/vote", {"helpful": True}, status=404)
    # the article page: counts in words and the yes/no form
    page = admin.get(f"/kb-articles/{a['id']}")
    assert "50 % found this helpful (1 of 2)" in page.text
    res = admin.post(
        f"/kb-articles/{a['id']}/vote", {"helpful": "yes", "csrf_token": csrf_of(page)}, status=303
    )
    assert admin.get(f"/api/v1/kb-articles/{a['id']}").json["helpful_percent"] == 100
    # the list shows the helpful %
    assert "100" in admin.get("/kb-articles/").text


def test_solved_by_article_is_shown_on_the_case_and_the_article(admin):
    a = article(admin, title="Reset the fuser")
    case = admin.post_json("/api/v1/cases", {"subject": "Nothing prints"}, status=201).json
    page = admin.get(f"/cases/{case['id']}").text
    assert "Solved by article" in page and "No article linked yet." in page
    assert f"/kb-case-links/new?case_id={case['id']}" in page.replace("&amp;", "&")
    link = admin.post_json(
        "/api/v1/kb-case-links", {"case_id": case["id"], "article_id": a["id"]}, status=201
    ).json
    assert link["title"] == "Reset the fuser"
    page = admin.get(f"/cases/{case['id']}").text
    assert f'href="http://localhost/kb-articles/{a["id"]}"' in page
    assert "Nothing prints" in admin.get(f"/kb-articles/{a['id']}").text
    # renaming the article renames the link
    admin.patch_json(
        f"/api/v1/kb-articles/{a['id']}", {"title": "Reset the fuser unit", "version": a["version"]}
    )
    assert admin.get(f"/api/v1/kb-case-links/{link['id']}").json["title"] == "Reset the fuser unit"
    res = admin.post_json(
        "/api/v1/kb-case-links", {"case_id": 999999, "article_id": a["id"]}, status=400
    )
    assert "case_id" in errors_of(res)


def test_an_agent_of_another_team_cannot_link_a_case_they_do_not_see(api, admin, make_user):
    a = article(admin)
    case = admin.post_json("/api/v1/cases", {"subject": "Hidden"}, status=201).json
    agent = api("agent")
    # the article is the whole team's knowledge; the case is not theirs
    assert agent.get(f"/api/v1/kb-articles/{a['id']}").json["title"] == a["title"]
    res = agent.post_json(
        "/api/v1/kb-case-links", {"case_id": case["id"], "article_id": a["id"]}, expect_errors=True
    )
    assert res.status_int in (400, 403)
    assert admin.get("/api/v1/kb-case-links").json["items"] == []


def test_a_portal_user_sees_only_published_portal_articles(
    admin, portal_login, kyklos_app, dbsession
):
    public_el = article(
        admin,
        title="Ο εκτυπωτής δεν τυπώνει",
        language="el",
        visibility="portal",
        solution="Σβήστε και ανάψτε.",
    )
    public_en = article(admin, title="The printer does not print", visibility="portal")
    internal = article(admin, title="Printer: internal trick", visibility="internal")
    draft = article(admin, title="Printer: draft", visibility="portal", status="draft")
    hidden = {internal["id"], draft["id"]}
    account = admin.post_json("/api/v1/accounts", {"name": "Αθηνά ΑΕ"}).json["id"]
    web = portal_login(account, "eleni@athena.example")
    tapi = portal_token(kyklos_app, dbsession, "eleni@athena.example")
    # API: list, detail, search, suggestions
    listed = {r["id"] for r in tapi.get("/api/v1/kb-articles?limit=100").json["items"]}
    assert listed == {public_el["id"], public_en["id"]}
    for a in (internal, draft):
        tapi.get(f"/api/v1/kb-articles/{a['id']}", status=404)
        tapi.post_json(f"/api/v1/kb-articles/{a['id']}/vote", {"helpful": True}, status=404)
        web.get(f"/portal/helpdesk/kb/{a['id']}", status=404)
    one = tapi.get(f"/api/v1/kb-articles/{public_en['id']}").json
    assert "visibility" not in one and "owner_id" not in one and "status" not in one
    for g in tapi.get("/api/v1/_search?q=Printer&limit=100").json["groups"]:
        if g["type"] == "kbarticle":
            assert not {i["id"] for i in g["items"]} & hidden
    got = web.get("/portal/helpdesk/kb/suggest", {"q": "printer print"}).json["items"]
    assert {i["id"] for i in got} == {public_en["id"]}
    assert got[0]["url"].endswith(f"/portal/helpdesk/kb/{public_en['id']}")
    # a customer may not write articles
    res = tapi.post_json("/api/v1/kb-articles", {"title": "Mine"}, expect_errors=True)
    assert res.status_int in (403, 404)
    # the pages: the list, the search, the article and the vote
    home = web.get("/portal").text
    assert "Knowledge base" in home
    page = web.get("/portal/helpdesk/kb").text
    assert public_en["title"] in page and public_el["title"] in page
    assert "internal trick" not in page and "draft" not in page
    page = web.get("/portal/helpdesk/kb", {"q": "Printer"}).text
    assert (
        public_en["title"] in page and "internal trick" not in page and "Printer: draft" not in page
    )
    page = web.get(f"/portal/helpdesk/kb/{public_el['id']}")
    assert "Σβήστε και ανάψτε." in page.text and "Did this help?" in page.text
    web.post(
        f"/portal/helpdesk/kb/{public_el['id']}/vote",
        {"helpful": "yes", "csrf_token": csrf_of(page)},
        status=303,
    )
    web.post(
        f"/portal/helpdesk/kb/{public_el['id']}/vote",
        {"helpful": "yes", "csrf_token": csrf_of(page)},
        status=303,
    )
    got = admin.get(f"/api/v1/kb-articles/{public_el['id']}").json
    assert (got["helpful_yes"], got["helpful_no"]) == (1, 0)
    # the new-case form offers the suggestions too
    assert 'id="kb-suggest"' in web.get("/portal/helpdesk/cases/new").text


def test_portal_users_get_their_language_first(admin, portal_login):
    # the English one matches better (title and symptom), the Greek one is theirs
    en = article(admin, title="Boiler pressure low", symptom="boiler", visibility="portal")
    el = article(admin, title="Χαμηλή πίεση boiler", language="el", visibility="portal")
    account = admin.post_json("/api/v1/accounts", {"name": "Acme"}).json["id"]
    web = portal_login(account, "ion@acme.example")
    got = web.get("/portal/helpdesk/kb/suggest", {"q": "boiler", "_LOCALE_": "el"}).json
    assert [i["id"] for i in got["items"]] == [el["id"], en["id"]]
    assert got["items"][0]["language"] == "Ελληνικά"
    got = web.get("/portal/helpdesk/kb/suggest", {"q": "boiler", "_LOCALE_": "en"}).json
    assert [i["id"] for i in got["items"]] == [en["id"], el["id"]]
    # staff get the better match first whatever its language
    got = admin.get("/api/v1/helpdesk/kb/suggest", {"q": "boiler", "_LOCALE_": "el"}).json
    assert [i["id"] for i in got["items"]] == [en["id"], el["id"]]
