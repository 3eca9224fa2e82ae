"""Typed relationships with inverse labels between any two parties (CON-05, D12)."""

from contacts_helpers import error_fields, new_account, new_person


def labels(api, slug, record_id):
    items = api.get(f"/api/v1/{slug}/{record_id}/relationships").json["items"]
    return sorted((x["label"], x["other"]["entity"], x["other"]["title"]) for x in items)


def test_inverse_labels_from_both_sides(api, rel_types):
    a = api("manager")
    nikos = new_person(a, first_name="Nikos", last_name="Vlachos")
    # Kostas's gender makes him "son of" (a person of no given gender is "child of")
    kostas = new_person(a, first_name="Kostas", last_name="Vlachos", gender="male")
    eleni = new_person(a, first_name="Eleni", last_name="Vlachou")
    firm = new_account(a, name="Vlachos Τεχνική Α.Ε.")
    a.post_json("/api/v1/relationships", {"type_id": rel_types["father"],
                                          "from_person_id": nikos["id"],
                                          "to_person_id": kostas["id"]})
    a.post_json("/api/v1/relationships", {"type_id": rel_types["spouse"],
                                          "from_person_id": nikos["id"],
                                          "to_person_id": eleni["id"]})
    a.post_json("/api/v1/relationships", {"type_id": rel_types["accountant"],
                                          "from_person_id": eleni["id"],
                                          "to_account_id": firm["id"]})
    assert labels(a, "persons", nikos["id"]) == [
        ("father of", "person", "Kostas Vlachos"),
        ("spouse of", "person", "Eleni Vlachou"),
    ]
    assert labels(a, "persons", kostas["id"]) == [("son of", "person", "Nikos Vlachos")]
    assert labels(a, "persons", eleni["id"]) == [
        ("accountant of", "account", "Vlachos Τεχνική Α.Ε."),
        ("spouse of", "person", "Nikos Vlachos"),
    ]
    assert labels(a, "accounts", firm["id"]) == [("client of", "person", "Eleni Vlachou")]


def test_labels_are_translated(api, rel_types):
    a = api("manager")
    x = new_person(a, first_name="Jan", last_name="Nowak")
    y = new_person(a, first_name="Piotr", last_name="Nowak")
    a.post_json("/api/v1/relationships", {"type_id": rel_types["father"],
                                          "from_person_id": x["id"],
                                          "to_person_id": y["id"]})
    items = a.get(f"/api/v1/persons/{y['id']}/relationships",
                  headers={"Accept-Language": "pl"}).json["items"]
    assert items[0]["type"] == "father" and items[0]["direction"] == "incoming"


def test_wrong_ends_are_refused(api, rel_types):
    a = api("manager")
    p = new_person(a)
    q = new_person(a, first_name="Other")
    acc = new_account(a, name="Firm")
    res = a.post_json("/api/v1/relationships", {"type_id": rel_types["spouse"],
                                                "from_person_id": p["id"],
                                                "to_person_id": p["id"]}, status=400)
    assert "to_person_id" in error_fields(res)
    res = a.post_json("/api/v1/relationships", {"type_id": rel_types["spouse"],
                                                "from_person_id": p["id"],
                                                "to_account_id": acc["id"]}, status=400)
    assert "to_account_id" in error_fields(res)
    res = a.post_json("/api/v1/relationships", {"type_id": rel_types["spouse"],
                                                "from_person_id": p["id"],
                                                "from_account_id": acc["id"],
                                                "to_person_id": q["id"]}, status=400)
    assert "from_person_id" in error_fields(res)
    res = a.post_json("/api/v1/relationships", {"type_id": rel_types["competitor"],
                                                "from_person_id": p["id"],
                                                "to_person_id": q["id"]}, status=400)
    assert error_fields(res)


def test_a_type_in_use_cannot_be_deleted(api, rel_types):
    a = api("manager")
    p, q = new_person(a), new_person(a, first_name="Other")
    a.post_json("/api/v1/relationships", {"type_id": rel_types["associate"],
                                          "from_person_id": p["id"],
                                          "to_person_id": q["id"]})
    res = a.delete(f"/api/v1/relationship-types/{rel_types['associate']}", status=409)
    assert res.content_type == "application/problem+json"
    a.delete(f"/api/v1/relationship-types/{rel_types['lawyer']}", status=204)


def test_add_relationship_page_and_graph(api, client, rel_types):
    a = api("manager")
    nikos = new_person(a, first_name="Nikos", last_name="Vlachos")
    kostas = new_person(a, first_name="Kostas", last_name="Vlachos", gender="male")
    firm = new_account(a, name="Vlachos Τεχνική Α.Ε.")
    a.patch_json(f"/api/v1/persons/{nikos['id']}", {"account_id": firm["id"],
                                                    "job_title": "Owner"})
    c = client("manager")
    page = c.get(f"/contacts/person/{kostas['id']}/relationships/new",
                 {"other_kind": "person", "q": "nikos"})
    form = next(f for f in page.forms.values() if "target" in f.fields)
    form["type"] = f"{rel_types['father']}:rev"  # Kostas is "son of" Nikos
    form["target"] = f"person:{nikos['id']}"
    res = form.submit().follow()
    assert res.request.path == f"/persons/{kostas['id']}"
    assert "son of" in res.text
    detail = c.get(f"/persons/{nikos['id']}")
    assert "k-relgraph" in detail.text and "<svg" in detail.text
    graph = svg_of(detail.text)
    assert ">Kostas Vlachos</text>" in graph and ">father of</text>" in graph
    assert ">Vlachos Τεχνική Α.Ε.</text>" in graph and ">Owner</text>" in graph
    assert f'href="http://localhost/persons/{kostas["id"]}"' in graph
    assert ">Nikos Vlachos</text>" in svg_of(c.get(f"/accounts/{firm['id']}").text)


def svg_of(html: str) -> str:
    start = html.index('<svg')
    return html[start:html.index("</svg>", start)]


def test_add_relationship_page_needs_the_permission(api, client):
    a = api("manager")
    p = new_person(a)
    c = client("user")
    c.get(f"/contacts/person/{p['id']}/relationships/new", status=403)
