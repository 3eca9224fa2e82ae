"""Cases through their public surfaces: numbers, routing (round-robin, by product, by
country), the workflow, bad input, cases opened from inbound e-mail, merging, related
cases, activities on the case's timeline, and what an agent of one team may see."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kyklos_sdk.testing import check_plugin

PROBLEM = "application/problem+json"
YEAR = dt.date.today().year


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def test_the_plugin_loads_migrates_and_declares_what_it_uses():
    assert check_plugin("helpdesk", raises=False) == []


def new_case(app, **data):
    data.setdefault("subject", "Printer does not print")
    return app.post_json("/api/v1/cases", data, status=201).json


def test_cases_get_numbers_in_sequence_and_start_new(admin, types):
    a = new_case(admin, type_id=types["complaint"], priority="high", channel="email")
    b = new_case(admin, subject="Second")
    assert a["number"] == f"CS-{YEAR}-00001"
    assert b["number"] == f"CS-{YEAR}-00002"
    assert a["status"] == "new" and a["priority"] == "high" and a["channel"] == "email"
    # the number is the system's: a client cannot set or change it
    res = admin.patch_json(
        f"/api/v1/cases/{a['id']}", {"number": "X-1", "version": a["version"]}, status=400
    )
    assert "number" in errors_of(res)


def test_bad_input_names_each_field_and_writes_nothing(admin, types):
    res = admin.post_json(
        "/api/v1/cases",
        {"subject": "   ", "priority": "whenever", "channel": "pigeon"},
        status=400,
    )
    errs = errors_of(res)
    assert {"subject", "priority", "channel"} <= set(errs)
    assert admin.get("/api/v1/cases").json["items"] == []


def _team(admin, name, members, **extra):
    team = admin.post_json("/api/v1/support-teams", {"name": name, **extra}, status=201).json
    for uid in members:
        admin.post_json(
            "/api/v1/support-team-members", {"team_id": team["id"], "user_id": uid}, status=201
        )
    return team


def test_a_teams_members_take_new_cases_in_turn(admin, make_user):
    anna = make_user(email="anna@example.com", roles=("agent",), name="Anna")
    bob = make_user(email="bob@example.com", roles=("agent",), name="Bob")
    team = _team(admin, "First line", [anna, bob])
    owners = [
        new_case(admin, subject=f"Case {i}", team_id=team["id"])["owner_id"] for i in range(3)
    ]
    assert owners == [anna, bob, anna]
    # a member on leave is skipped
    member = admin.get(f"/api/v1/support-team-members?user_id={bob}").json["items"][0]
    assert member["name"] == "Bob"
    admin.patch_json(
        f"/api/v1/support-team-members/{member['id']}",
        {"available": False, "version": member["version"]},
    )
    assert new_case(admin, team_id=team["id"])["owner_id"] == anna
    # the same user twice in one team is refused
    res = admin.post_json(
        "/api/v1/support-team-members", {"team_id": team["id"], "user_id": anna}, status=400
    )
    assert "user_id" in errors_of(res)


def test_assignment_rules_route_by_product_and_country(admin, make_user, types):
    anna = make_user(email="anna@example.com", roles=("agent",))
    bob = make_user(email="bob@example.com", roles=("agent",))
    software = _team(admin, "Software", [anna])
    first = _team(admin, "First line", [bob])
    crm = admin.post_json("/api/v1/products", {"sku": "CRM", "name": "CRM licence"}).json
    admin.post_json(
        "/api/v1/case-assignment-rules",
        {
            "name": "CRM to software",
            "position": 1,
            "product_id": crm["id"],
            "team_id": software["id"],
        },
        status=201,
    )
    admin.post_json(
        "/api/v1/case-assignment-rules",
        {
            "name": "Romania",
            "position": 2,
            "country": "ro",
            "team_id": first["id"],
            "assignee_id": bob,
        },
        status=201,
    )
    res = admin.post_json(
        "/api/v1/case-assignment-rules",
        {"name": "Bad", "country": "Greece", "team_id": first["id"]},
        status=400,
    )
    assert "country" in errors_of(res)
    ro = admin.post_json("/api/v1/accounts", {"name": "Bucuresti SRL", "country": "RO"}).json
    gr = admin.post_json("/api/v1/accounts", {"name": "Athens AE", "country": "GR"}).json
    by_product = new_case(admin, product_id=crm["id"], account_id=ro["id"])
    assert (by_product["team_id"], by_product["owner_id"]) == (software["id"], anna)
    by_country = new_case(admin, account_id=ro["id"])
    assert (by_country["team_id"], by_country["owner_id"]) == (first["id"], bob)
    nothing = new_case(admin, account_id=gr["id"])
    assert nothing["team_id"] is None


def test_states_move_through_the_workflow(admin, types):
    case = new_case(admin, type_id=types["incident"])
    cid = case["id"]
    admin.post(f"/api/v1/cases/{cid}/transitions/accept", status=200)
    assert admin.get(f"/api/v1/cases/{cid}").json["status"] == "assigned"
    admin.post(f"/api/v1/cases/{cid}/transitions/resolve", status=200)
    got = admin.get(f"/api/v1/cases/{cid}").json
    assert got["status"] == "resolved" and got["resolved_at"]
    # no step leads from resolved to waiting: a plain write is refused
    res = admin.patch_json(
        f"/api/v1/cases/{cid}", {"status": "waiting", "version": got["version"]}, status=400
    )
    assert "status" in errors_of(res)
    admin.post(f"/api/v1/cases/{cid}/transitions/close", status=200)
    got = admin.get(f"/api/v1/cases/{cid}").json
    assert got["status"] == "closed" and got["closed_at"]
    admin.post(f"/api/v1/cases/{cid}/transitions/reopen", status=200)
    got = admin.get(f"/api/v1/cases/{cid}").json
    assert got["status"] == "assigned" and got["closed_at"] is None


def test_an_inbound_email_opens_a_case_and_a_reply_joins_it(admin, types):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}).json
    person = admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Eleni",
            "last_name": "Markou",
            "email": "Eleni@knossos.example",
            "account_id": acc["id"],
        },
    ).json
    msg = {
        "sender": "eleni@knossos.example",
        "subject": "Boiler display shows E42",
        "body": "Since this morning the boiler display shows E42.",
        "message_id": "<a1@knossos.example>",
    }
    res = admin.post_json("/api/v1/helpdesk/inbound", msg, status=201).json
    assert res["created"] is True and res["channel"] == "email"
    assert (res["person_id"], res["account_id"]) == (person["id"], acc["id"])
    # delivered twice: still one case
    again = admin.post_json("/api/v1/helpdesk/inbound", msg, status=200).json
    assert again["id"] == res["id"] and again["created"] is False
    cid = res["id"]
    admin.post(f"/api/v1/cases/{cid}/transitions/wait", status=200)
    reply = {
        "sender": "eleni@knossos.example",
        "subject": f"Re: [{res['number']}] Boiler display shows E42",
        "body": "The serial number is BX-2291.",
    }
    joined = admin.post_json("/api/v1/helpdesk/inbound", reply, status=200).json
    assert joined["id"] == cid and joined["status"] == "assigned"
    acts = admin.get(f"/api/v1/activities?about_type=case&about_id={cid}").json["items"]
    assert sorted(a["description"] for a in acts) == [
        "Since this morning the boiler display shows E42.",
        "The serial number is BX-2291.",
    ]
    # the case's page shows them on its timeline
    res = admin.post_json("/api/v1/helpdesk/inbound", {"sender": "nobody"}, status=400)
    assert {"sender", "subject"} <= set(errors_of(res))


def test_open_case_from_message_is_the_function_the_mail_plugin_calls(kyklos_app, admin):
    """Called in-process with a request of any user allowed to create cases."""
    from kyklos_helpdesk.service import open_case_from_message
    from kyklos_sdk import request_as

    with request_as(kyklos_app.registry, admin.user_id) as request:
        case, created = open_case_from_message(
            request,
            sender="someone@example.org",
            sender_name="Someone",
            subject="Where is my order?",
            body="Order 1234 has not arrived.",
        )
        number = case.number
    assert created and re.fullmatch(rf"CS-{YEAR}-\d{{5}}", number)
    got = admin.get(f"/api/v1/cases?number={number}").json["items"][0]
    assert got["from_email"] == "someone@example.org"
    assert "Someone <someone@example.org>" in got["description"]


def test_merging_moves_activities_and_links_and_closes_the_merged_case(admin, types, dbsession):
    keep = new_case(admin, subject="Boiler E42", description="First report")
    dup = new_case(admin, subject="Boiler error again", description="Second report")
    other = new_case(admin, subject="Same fault at the hotel next door")
    admin.post_json(
        "/api/v1/case-links", {"case_id": dup["id"], "related_id": other["id"]}, status=201
    )
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)
    call = admin.post_json(
        "/api/v1/activities",
        {
            "type_code": "call",
            "subject": "Called the customer",
            "about_type": "case",
            "about_id": dup["id"],
        },
        status=201,
    ).json
    res = admin.post_json(
        f"/api/v1/cases/{dup['id']}/merge-into", {"into_id": dup["id"]}, status=400
    )
    assert "into_id" in errors_of(res)
    res = admin.post_json(f"/api/v1/cases/{dup['id']}/merge-into", {"into_id": 999999}, status=400)
    assert "into_id" in errors_of(res)
    won = admin.post_json(f"/api/v1/cases/{dup['id']}/merge-into", {"into_id": keep["id"]}).json
    assert "Second report" in won["description"] and dup["number"] in won["description"]
    lost = admin.get(f"/api/v1/cases/{dup['id']}").json
    assert lost["status"] == "closed" and lost["merged_into_id"] == keep["id"]
    assert admin.get(f"/api/v1/activities/{call['id']}").json["about_id"] == keep["id"]
    links = admin.get(f"/api/v1/case-links?case_id={keep['id']}").json["items"]
    assert [ln["related_id"] for ln in links] == [other["id"]]
    assert admin.get(f"/api/v1/case-links?case_id={dup['id']}").json["items"] == []
    # merged once is enough
    res = admin.post_json(
        f"/api/v1/cases/{dup['id']}/merge-into", {"into_id": other["id"]}, status=400
    )
    assert "into_id" in errors_of(res)


def test_related_cases_are_listed_on_both_and_unlinked_together(admin):
    a, b = new_case(admin, subject="A"), new_case(admin, subject="B")
    link = admin.post_json(
        "/api/v1/case-links", {"case_id": a["id"], "related_id": b["id"]}, status=201
    ).json
    assert link["title"] == f"{b['number']} · B"
    back = admin.get(f"/api/v1/case-links?case_id={b['id']}").json["items"]
    assert [(x["related_id"], x["title"]) for x in back] == [(a["id"], f"{a['number']} · A")]
    res = admin.post_json(
        "/api/v1/case-links", {"case_id": a["id"], "related_id": b["id"]}, status=400
    )
    assert "related_id" in errors_of(res)
    res = admin.post_json(
        "/api/v1/case-links", {"case_id": a["id"], "related_id": a["id"]}, status=400
    )
    assert "related_id" in errors_of(res)
    admin.delete(f"/api/v1/case-links/{link['id']}", status=204)
    assert admin.get(f"/api/v1/case-links?case_id={b['id']}").json["items"] == []


@pytest.fixture
def two_teams(api, dbsession):
    """Agents of department A and B, and a case owned by each."""
    from kyklos.security.models import User
    from kyklos.security.org import create_department

    with dbsession() as db:
        dept_a, dept_b = create_department(db, "Support A"), create_department(db, "Support B")
        ids = dept_a.id, dept_b.id
    a1, a2, b1 = api("agent"), api("agent"), api("agent")
    with dbsession() as db:
        for agent, dept in ((a1, ids[0]), (a2, ids[0]), (b1, ids[1])):
            db.get(User, agent.user_id).department_id = dept
    admin = api("admin")
    case_a = new_case(admin, subject="Team A case", owner_id=a2.user_id)
    case_b = new_case(admin, subject="Team B case", owner_id=b1.user_id)
    return a1, b1, case_a, case_b


def test_an_agent_sees_only_the_cases_of_the_team(two_teams):
    """The oracle: each surface answers exactly what the record rules allow."""
    a1, b1, case_a, case_b = two_teams
    for agent, mine, theirs in ((a1, case_a, case_b), (b1, case_b, case_a)):
        assert [c["id"] for c in agent.get("/api/v1/cases").json["items"]] == [mine["id"]]
        agent.get(f"/api/v1/cases/{mine['id']}", status=200)
        agent.get(f"/api/v1/cases/{theirs['id']}", status=404)
        found = agent.get("/cases/_lookup?q=case").json
        assert [x["id"] for x in found] == [mine["id"]]
        agent.patch_json(
            f"/api/v1/cases/{theirs['id']}", {"subject": "x", "version": 1}, status=404
        )
        # no linking to, or merging into, a case of the other team
        res = agent.post_json(
            "/api/v1/case-links", {"case_id": mine["id"], "related_id": theirs["id"]}, status=400
        )
        assert "related_id" in errors_of(res)
        agent.post_json(
            f"/api/v1/cases/{mine['id']}/merge-into", {"into_id": theirs["id"]}, status=403
        )
        assert theirs["number"] not in agent.get("/api/v1/cases/_export?format=csv").text


def test_the_merge_page_merges_with_a_picked_case(client, api, types):
    mgr = client("helpdeskmanager")
    admin = api("admin")
    keep = new_case(admin, subject="Keep me")
    dup = new_case(admin, subject="Duplicate")
    page = mgr.get(f"/cases/{dup['id']}")
    assert "Merge into another case" in page.text
    form = mgr.get(f"/helpdesk/cases/{dup['id']}/merge").forms["hd-merge-form"]
    assert "data-k-picker" in mgr.get(f"/helpdesk/cases/{dup['id']}/merge").text
    form["into_id"].force_value(str(keep["id"]))
    res = form.submit().follow()
    assert "Keep me" in res.text
    assert admin.get(f"/api/v1/cases/{dup['id']}").json["merged_into_id"] == keep["id"]
    # an agent without the merge permission gets no button and no page
    agent = client("agent")
    agent.get(f"/helpdesk/cases/{dup['id']}/merge", status=403)


def test_values_read_in_greek_on_the_case_page(api, types, make_user, testapp, login):
    admin = api("admin")
    case = new_case(admin, type_id=types["complaint"], priority="urgent", channel="phone")
    admin.post(f"/api/v1/cases/{case['id']}/transitions/wait")
    make_user(email="el@example.com", roles=("helpdeskmanager",), locale="el")
    login(testapp, "el@example.com")
    text = testapp.get(f"/cases/{case['id']}").text
    for greek in (
        "Παράπονο",
        "Επείγουσα",
        "Τηλέφωνο",
        "Αναμονή απάντησης πελάτη",
        "Συγχώνευση σε άλλη υπόθεση",
        "Απάντησε ο πελάτης",
    ):
        assert greek in text, greek
    for english in ("Complaint", "Urgent", "Waiting on customer", "Customer answered"):
        assert english not in text, english
