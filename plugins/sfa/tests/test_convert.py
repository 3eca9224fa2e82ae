"""Lead conversion (SFA-04): duplicate candidates, link or create, one transaction,
idempotent."""

from __future__ import annotations

import re

from sqlalchemy import func, select


def _count(dbsession, registry, name):
    et = registry.kyklos_entities[name]
    with dbsession() as db:
        return db.execute(select(func.count(et.model.id))).scalar_one()


def test_convert_creates_account_person_opportunity(api, stages, registry, dbsession):
    rep = api("sales")
    lead = rep.post_json("/api/v1/leads", {
        "first_name": "Ana", "last_name": "Ionescu", "company": "Carpați Logistic SRL",
        "email": "ana@carpati.example", "country": "RO", "source": "seminar",
    }).json
    assert rep.get(f"/api/v1/leads/{lead['id']}/duplicates").json == {"accounts": [],
                                                                       "persons": []}
    res = rep.post_json(f"/api/v1/leads/{lead['id']}/convert",
                        {"amount": {"amount": "15000", "currency": "RON"},
                         "expected_close": "2030-03-31"}, status=201).json
    acc = rep.get(f"/api/v1/accounts/{res['account_id']}").json
    assert acc["name"] == "Carpați Logistic SRL" and acc["country"] == "RO"
    per = rep.get(f"/api/v1/persons/{res['person_id']}").json
    assert (per["last_name"], per["account_id"]) == ("Ionescu", res["account_id"])
    opp = rep.get(f"/api/v1/opportunities/{res['opportunity_id']}").json
    assert opp["stage_id"] == stages["qualification"]
    assert opp["amount"] == {"amount": "15000.00", "currency": "RON"}
    assert (opp["account_id"], opp["person_id"], opp["source"]) == (
        res["account_id"], res["person_id"], "seminar")
    assert opp["lead_id"] == lead["id"]
    converted = rep.get(f"/api/v1/leads/{lead['id']}").json
    assert converted["status"] == "converted" and converted["converted_at"]
    assert converted["converted_opportunity_id"] == res["opportunity_id"]

    # The account's 360° page lists the open opportunity (kyklos_record_summary).
    page = rep.get(f"/accounts/{res['account_id']}")
    assert "Open opportunities" in page.text and opp["name"] in page.text
    # its expected close in the reader's words, not as the ISO value
    assert "Mar 31, 2030" in page.text and "2030-03-31" not in page.text

    # Idempotent: a second conversion is a conflict and creates nothing.
    before = _count(dbsession, registry, "account")
    err = rep.post_json(f"/api/v1/leads/{lead['id']}/convert", {}, status=409).json
    assert err["converted"]["account_id"] == res["account_id"]
    assert _count(dbsession, registry, "account") == before


def test_duplicates_must_be_decided_link_or_create(api, registry, dbsession, error_fields):
    rep = api("sales")
    acc = rep.post_json("/api/v1/accounts", {"name": "Παπαδόπουλος Α.Ε.", "country": "GR"}
                        ).json
    person = rep.post_json("/api/v1/persons", {"first_name": "Γιώργος", "last_name": "Νικολάου",
                                               "email": "g.nikolaou@papadopoulos.example"}).json
    lead = rep.post_json("/api/v1/leads", {
        "first_name": "Giorgos", "last_name": "Nikolaou", "company": "Papadopoulos A.E.",
        "email": "g.nikolaou@papadopoulos.example",
    }).json
    dup = rep.get(f"/api/v1/leads/{lead['id']}/duplicates").json
    assert [a["id"] for a in dup["accounts"]] == [acc["id"]]
    assert dup["accounts"][0]["match"] == ["name"]
    assert [p["id"] for p in dup["persons"]] == [person["id"]]
    assert set(dup["persons"][0]["match"]) == {"email", "name"}

    # No decision while candidates exist: refused, with the candidates, nothing written.
    n_acc, n_per = _count(dbsession, registry, "account"), _count(dbsession, registry, "person")
    err = rep.post_json(f"/api/v1/leads/{lead['id']}/convert", {}, status=400).json
    assert {"account", "person"} <= error_fields(err)
    assert err["candidates"]["accounts"][0]["id"] == acc["id"]
    # A failure half-way (a bad stage for the opportunity) leaves nothing behind either.
    rep.post_json(f"/api/v1/leads/{lead['id']}/convert",
                  {"account": "create", "person": "create", "stage_id": 999999}, status=400)
    assert _count(dbsession, registry, "account") == n_acc
    assert _count(dbsession, registry, "person") == n_per
    assert rep.get(f"/api/v1/leads/{lead['id']}").json["status"] == "new"

    res = rep.post_json(f"/api/v1/leads/{lead['id']}/convert",
                        {"account": acc["id"], "person": "create", "opportunity": False},
                        status=201).json
    assert res["account_id"] == acc["id"] and res["opportunity_id"] is None
    assert res["person_id"] != person["id"]
    assert _count(dbsession, registry, "account") == n_acc
    assert _count(dbsession, registry, "person") == n_per + 1


def test_only_visible_records_are_candidates_or_linkable(api, admin):
    rep = api("sales")
    gone = rep.post_json("/api/v1/accounts", {"name": "Hidden Ltd"}).json
    admin.delete(f"/api/v1/accounts/{gone['id']}", status=204)  # soft-deleted: invisible
    lead = rep.post_json("/api/v1/leads", {"last_name": "X", "company": "Hidden Ltd"}).json
    assert rep.get(f"/api/v1/leads/{lead['id']}/duplicates").json["accounts"] == []
    rep.post_json(f"/api/v1/leads/{lead['id']}/convert",
                  {"account": gone["id"], "person": "create"}, status=404)
    # Another rep cannot convert (or even see) this rep's lead.
    api("sales").post_json(f"/api/v1/leads/{lead['id']}/convert", {}, status=404)


def test_convert_in_the_browser(client, dbsession, stages):
    rep = client("sales")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', rep.get("/").text).group(1)
    rep.post_json("/api/v1/accounts", {"name": "Wisła Meble"},
                  headers={"X-CSRF-Token": csrf})
    lead = rep.post_json("/api/v1/leads", {"first_name": "Jan", "last_name": "Kowalski",
                                           "company": "Wisła Meble"},
                         headers={"X-CSRF-Token": csrf}).json
    page = rep.get(f"/sfa/leads/{lead['id']}/convert")
    assert "Wisła Meble" in page.text and 'name="account"' in page.text
    form = page.forms["sfa-convert-form"]
    form["account"] = "create"
    form["amount"] = "9000"
    form["currency"] = "PLN"
    res = form.submit().follow()
    assert "/opportunities/" in res.request.path
    assert "Lead converted" in res.text
    # The lead page no longer offers conversion; the convert page sends back.
    assert "/convert" not in rep.get(f"/leads/{lead['id']}").text
    assert rep.get(f"/sfa/leads/{lead['id']}/convert").status_int == 303
