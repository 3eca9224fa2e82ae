"""Leads (SFA-01) and their explainable scoring (SFA-03)."""

from __future__ import annotations


def _rule(client, label, field, op, value, points, status=201):
    return client.post_json(
        "/api/v1/lead-scoring-rules",
        {"label": label, "field": field, "op": op, "value": value, "points": points},
        status=status,
    ).json


def test_lead_crud_and_score_explanation(admin, api, error_fields):
    _rule(admin, "Source is trade show", "source", "eq", "trade_show", 20)
    _rule(admin, "Greek or Cypriot", "country", "in", "GR,CY", 10)
    _rule(admin, "Big company", "employees", "gte", "50", 15)
    _rule(admin, "No e-mail", "email", "isnull", "true", -5)
    rep = api("sales")
    lead = rep.post_json(
        "/api/v1/leads",
        {"first_name": "Eleni", "last_name": "Georgiou", "company": "Aegean Foods",
         "source": "trade_show", "country": "GR", "employees": 10},
    ).json
    assert lead["status"] == "new"
    assert lead["score"] == 20 + 10 - 5
    labels = [i["label"] for i in lead["score_explanation"]]
    assert labels == ["Source is trade show", "Greek or Cypriot", "No e-mail"]
    assert [i["points"] for i in lead["score_explanation"]] == [20, 10, -5]

    # An update recomputes from the values the write leaves.
    res = rep.patch_json(f"/api/v1/leads/{lead['id']}",
                         {"employees": 120, "email": "eleni@aegean.example"},
                         headers={"If-Match": f'"{lead["version"]}"'}).json
    assert res["score"] == 20 + 10 + 15
    assert "Big company" in [i["label"] for i in res["score_explanation"]]

    # The explanation reads in words on the lead's page (its field and its panel),
    # escaped, never as JSON.
    page = rep.get(f"/leads/{lead['id']}")
    field = page.html.select_one(".k-field-score_explanation").get_text(" ", strip=True)
    assert "+15 points: Big company" in field
    assert "+20 points: Source is trade show" in field
    assert '"points"' not in page.text and "&#34;points&#34;" not in page.text
    assert "+15 points: Big company" in page.text
    assert "Convert" in page.text

    # Clients cannot write the score.
    err = rep.patch_json(f"/api/v1/leads/{lead['id']}", {"score": 999}, status=400).json
    assert "score" in error_fields(err)
    rep.delete(f"/api/v1/leads/{lead['id']}", status=403)  # reps do not delete
    admin.delete(f"/api/v1/leads/{lead['id']}", status=204)
    rep.get(f"/api/v1/leads/{lead['id']}", status=404)


def test_scoring_rules_are_checked(admin, error_fields):
    err = _rule(admin, "x", "password", "eq", "1", 5, status=400)
    assert "field" in error_fields(err)
    err = _rule(admin, "x", "source", "gt", "a", 5, status=400)
    assert "op" in error_fields(err)
    err = _rule(admin, "x", "employees", "gte", "many", 5, status=400)
    assert "value" in error_fields(err)
    err = _rule(admin, "x", "email", "isnull", "maybe", 5, status=400)
    assert "value" in error_fields(err)


def test_reps_see_only_their_own_leads(api):
    a, b = api("sales"), api("sales")
    mine = a.post_json("/api/v1/leads", {"last_name": "Nowak"}).json
    b.get(f"/api/v1/leads/{mine['id']}", status=404)
    assert [x["id"] for x in a.get("/api/v1/leads").json["items"]] == [mine["id"]]
    assert b.get("/api/v1/leads").json["items"] == []
