"""The issue's example: people whose company is a hotel in Thessaloniki and who hold
the position "IT director" — conditions on a related entity and on custom fields of
both types."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def test_people_at_hotels_in_thessaloniki_who_are_it_directors(api):
    admin = api("admin")
    admin.post_json("/api/v1/_custom-fields", {
        "entity": "account", "name": "cf_category", "type": "choice", "label": "Category",
        "filterable": True, "choices": ["hotel", "school"]}, status=201)
    admin.post_json("/api/v1/_custom-fields", {
        "entity": "person", "name": "cf_position", "type": "string", "label": "Position",
        "filterable": True}, status=201)
    accounts = {}
    for name, city, cat in [("Makedonia Palace", "Θεσσαλονίκη", "hotel"),
                            ("Grande Bretagne", "Αθήνα", "hotel"),
                            ("Anatolia", "Θεσσαλονίκη", "school")]:
        accounts[name] = admin.post_json("/api/v1/accounts", {
            "name": name, "city": city, "cf_category": cat}, status=201).json["id"]
    people = [("Νίκος", "Παπαδόπουλος", "Makedonia Palace", "IT director"),
              ("Maria", "Ioannou", "Makedonia Palace", "Chef"),
              ("Eleni", "Georgiou", "Grande Bretagne", "IT director"),
              ("Kostas", "Dimitriou", "Anatolia", "IT director")]
    for first, last, acc, pos in people:
        admin.post_json("/api/v1/persons", {"first_name": first, "last_name": last,
                        "account_id": accounts[acc], "cf_position": pos}, status=201)
    definition = {"and": [
        {"field": "account.cf_category", "op": "eq", "value": "hotel"},
        {"field": "account.city", "op": "eq", "value": "Θεσσαλονίκη"},
        {"field": "cf_position", "op": "eq", "value": "IT director"},
    ]}
    prev = admin.post_json("/api/v1/_segments/preview",
                           {"entity": "person", "definition": definition}).json
    assert prev["count"] == 1
    seg = admin.post_json("/api/v1/_segments", {"entity": "person", "name": "Hotel IT",
                          "definition": definition}, status=201).json
    members = admin.get(f"/api/v1/_segments/{seg['id']}/members").json["items"]
    assert [m["last_name"] for m in members] == ["Παπαδόπουλος"]
