"""The case's conversation through its public surfaces: a customer reads the public
replies of their company's open case in the portal and replies with a file; the reply
lands on the case's page and timeline, the assignee is notified and a case waiting on
the customer goes back to them. Internal notes never reach the portal; a closed case,
an empty reply and another company's case are refused without writing anything."""

from __future__ import annotations

import re

import pytest
from helpdesk_helpers import csrf_of
from sqlalchemy import select


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.fixture
def world(admin, make_user, portal_login):
    """An agent, their case of our customer, another customer's case, and our
    customer's contact logged in to the portal."""
    agent = make_user(email="nikos@example.com", roles=("helpdeskmanager",), name="Nikos Agent")
    ours = admin.post_json("/api/v1/accounts", {"name": "Κνωσός ΑΕ"}).json["id"]
    theirs = admin.post_json("/api/v1/accounts", {"name": "Other Corp"}).json["id"]
    case = admin.post_json(
        "/api/v1/cases",
        {
            "subject": "Boiler E42",
            "description": "It stops.",
            "account_id": ours,
            "owner_id": agent,
        },
        status=201,
    ).json
    other = admin.post_json(
        "/api/v1/cases", {"subject": "Not yours", "account_id": theirs}, status=201
    ).json
    web = portal_login(ours, "eleni@knossos.example")
    return agent, case, other, web


def test_a_customer_replies_with_a_file_and_internal_notes_stay_inside(admin, world, dbsession):
    agent, case, other, web = world
    cid = case["id"]
    admin.post(f"/api/v1/cases/{cid}/transitions/accept")
    admin.post(f"/api/v1/cases/{cid}/transitions/wait")
    assert admin.get(f"/api/v1/cases/{cid}").json["status"] == "waiting"
    # staff: a reply the customer sees and a note they never see
    admin.post_json(
        "/api/v1/case-replies",
        {"case_id": cid, "body": "Please check the pressure gauge.", "public": True},
        status=201,
    )
    admin.post_json(
        "/api/v1/case-replies",
        {"case_id": cid, "body": "SECRET: customer owes us money", "public": False},
        status=201,
    )
    page = web.get(f"/portal/helpdesk/cases/{cid}")
    assert "Please check the pressure gauge." in page.text
    assert "SECRET" not in page.text
    assert 'id="hd-portal-reply"' in page.text
    res = web.post(
        f"/portal/helpdesk/cases/{cid}/reply",
        {"body": "It shows 0.5 bar.\n\nPhoto attached.", "csrf_token": csrf_of(page)},
        upload_files=[("file", "gauge.txt", b"0.5 bar")],
        status=303,
    )
    page = web.get(res.location)
    assert "It shows 0.5 bar." in page.text and "SECRET" not in page.text
    # the file comes back to the customer, from the portal
    link = re.search(r'href="(http://localhost/portal/helpdesk/cases/\d+/files/\d+)"', page.text)
    assert link, page.text[-3000:]
    assert web.get(link.group(1)).body == b"0.5 bar"
    # the case went back to its assignee, who was told
    got = admin.get(f"/api/v1/cases/{cid}").json
    assert got["status"] == "assigned"
    from kyklos.notifications import Notification

    with dbsession() as db:
        titles = (
            db.execute(select(Notification.title).where(Notification.user_id == agent))
            .scalars()
            .all()
        )
    assert any("replied" in t and "Boiler E42" in t for t in titles), titles
    # on the staff's case page (conversation and timeline) and the API
    staff = admin.get(f"/cases/{cid}").text
    assert "It shows 0.5 bar." in staff and "Reply from the customer" in staff
    assert "SECRET: customer owes us money" in staff  # staff see their notes
    replies = admin.get(f"/api/v1/case-replies?case_id={cid}").json["items"]
    mine = [r for r in replies if r["from_customer"]]
    assert len(mine) == 1 and mine[0]["public"] is True and mine[0]["attachment_id"]
    assert mine[0]["person_id"]
    files = admin.get(f"/api/v1/cases/{cid}/attachments").json
    items = files["items"] if isinstance(files, dict) else files
    assert any(f["filename"] == "gauge.txt" for f in items)


def test_bad_replies_are_refused_and_write_nothing(admin, world, dbsession):
    agent, case, other, web = world
    cid = case["id"]
    page = web.get(f"/portal/helpdesk/cases/{cid}")
    res = web.post(
        f"/portal/helpdesk/cases/{cid}/reply",
        {"body": "   ", "csrf_token": csrf_of(page)},
        status=400,
    )
    assert "Write your reply." in res.text and "is-invalid" in res.text
    # another company's case: as if it did not exist
    web.post(
        f"/portal/helpdesk/cases/{other['id']}/reply",
        {"body": "Hello", "csrf_token": csrf_of(page)},
        status=404,
    )
    web.get(f"/portal/helpdesk/cases/{other['id']}", status=404)
    # a closed case has no reply form and refuses one
    admin.post(f"/api/v1/cases/{cid}/transitions/close")
    page = web.get(f"/portal/helpdesk/cases/{cid}")
    assert 'id="hd-portal-reply"' not in page.text
    res = web.post(
        f"/portal/helpdesk/cases/{cid}/reply",
        {"body": "Hi", "csrf_token": csrf_of(page)},
        status=400,
    )
    assert "This case is closed" in res.text
    # no CSRF token: refused
    web.post(f"/portal/helpdesk/cases/{cid}/reply", {"body": "Hi"}, status=400)
    assert admin.get(f"/api/v1/case-replies?case_id={cid}").json["items"] == []
    # the customer's API token reaches no replies (staff's type, no portal declaration)
    assert admin.get(f"/api/v1/cases/{cid}").json["status"] == "closed"
