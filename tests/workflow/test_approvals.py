"""Approvals (WF-02): levels with any/all approvers resolved by role and by the org
chart, delegation, notifications to approvers and beneficiaries, decisions from the
API, the web UI and signed e-mail links (real SMTP server)."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.notifications import Notification
from kyklos.security.models import Delegation, Department, User
from kyklos.workflow.models import ApprovalRequest, ApprovalStep, WorkflowEvent


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return {**smtp_server.settings, "kyklos.base_url": "http://crm.example.com"}


@pytest.fixture
def org(api, dbsession):
    """Sales (head: Helen) > Sales Athens (manager: Manos); requester Rita in Athens;
    finance: Fay and Fotis; a director Dora."""
    people = {
        "helen": api("ticketeer", email="helen@example.com"),
        "manos": api("ticketeer", email="manos@example.com"),
        "rita": api("ticketeer", email="rita@example.com"),
        "fay": api("finance", email="fay@example.com"),
        "fotis": api("finance", email="fotis@example.com"),
        "dora": api("director", email="dora@example.com"),
        "other": api("ticketeer", email="other@example.com"),
    }
    with dbsession() as db:
        sales = Department(name="Sales", manager_id=people["helen"].user_id)
        db.add(sales)
        db.flush()
        sales.path = f"/{sales.id}/"
        athens = Department(
            name="Sales Athens", parent_id=sales.id, manager_id=people["manos"].user_id
        )
        db.add(athens)
        db.flush()
        athens.path = f"/{sales.id}/{athens.id}/"
        for who in ("rita", "manos", "other"):
            db.get(User, people[who].user_id).department_id = athens.id
        db.get(User, people["helen"].user_id).department_id = sales.id
    yield people
    with dbsession() as db:  # a parent is RESTRICTed: unlink before the tables are emptied
        for dep in db.execute(select(Department)).scalars():
            dep.parent_id = None


def ticket(api_app, name="Broken printer"):
    return api_app.post_json("/api/v1/tickets", {"name": name}, status=201).json


def request_write_off(org, comment="beyond repair"):
    t = ticket(org["rita"])
    res = org["rita"].post_json(
        f"/api/v1/tickets/{t['id']}/transitions/write_off", {"comment": comment}, status=202
    )
    assert res.json["status"] == "pending_approval"
    return t, res.json["approval"]


def decision_form(page):
    return next(f for f in page.forms.values() if "comment" in f.fields)


def notifications(dbsession, user_id):
    with dbsession() as db:
        return [
            n.title
            for n in db.execute(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            ).scalars()
        ]


def test_two_levels_manager_then_all_of_finance(org, dbsession, smtp_server):
    t, approval = request_write_off(org)
    aid = approval["id"]
    assert approval["level"] == 1 and approval["levels"] == 2
    rita = org["rita"]
    # The record waits in its state; the approval shows on it.
    assert rita.get(f"/api/v1/tickets/{t['id']}").json["status"] == "new"
    assert rita.get(f"/api/v1/tickets/{t['id']}/transitions").json["pending_approval"] == aid
    # Level 1 is the line manager only.
    inbox = org["manos"].get("/api/v1/_approvals").json["items"]
    assert [a["id"] for a in inbox] == [aid] and inbox[0]["can_decide"]
    assert org["fay"].get("/api/v1/_approvals").json["items"] == []
    assert any("Approval needed" in n for n in notifications(dbsession, org["manos"].user_id))
    # Nobody else decides level 1: not finance yet, not the requester.
    org["fay"].post_json(f"/api/v1/_approvals/{aid}/approve", {}, status=409)
    rita.post_json(f"/api/v1/_approvals/{aid}/approve", {}, status=409)
    res = org["manos"].post_json(f"/api/v1/_approvals/{aid}/approve", {"comment": "ok by me"})
    assert res.json["level"] == 2 and res.json["state"] == "pending"
    # Level 2: "all" of finance.
    res = org["fay"].post_json(f"/api/v1/_approvals/{aid}/approve", {})
    assert res.json["state"] == "pending"
    assert rita.get(f"/api/v1/tickets/{t['id']}").json["status"] == "new"
    res = org["fotis"].post_json(f"/api/v1/_approvals/{aid}/approve", {})
    assert res.json["state"] == "approved"
    assert rita.get(f"/api/v1/tickets/{t['id']}").json["status"] == "closed"
    with dbsession() as db:
        event = db.execute(
            select(WorkflowEvent).where(WorkflowEvent.record_id == t["id"])
        ).scalar_one()
        assert event.approval_id == aid and event.to_state == "closed"
        assert event.user_id == rita.user_id  # the transition is the requester's
    # Beneficiaries: the requester (also the owner) and the director role.
    assert any(n.startswith("Approved") for n in notifications(dbsession, rita.user_id))
    assert any(n.startswith("Approved") for n in notifications(dbsession, org["dora"].user_id))
    # Every approver got an e-mail (manager, then both of finance).
    rcpts = sorted(
        r for m in smtp_server.wait(3) for r in m.envelope_to if "Approval needed" in m["Subject"]
    )
    assert rcpts == ["fay@example.com", "fotis@example.com", "manos@example.com"]


def test_one_rejection_ends_it(org, dbsession):
    t, approval = request_write_off(org)
    aid = approval["id"]
    org["manos"].post_json(f"/api/v1/_approvals/{aid}/approve", {})
    res = org["fay"].post_json(f"/api/v1/_approvals/{aid}/reject", {"comment": "keep it"})
    assert res.json["state"] == "rejected"
    assert org["rita"].get(f"/api/v1/tickets/{t['id']}").json["status"] == "new"
    org["fotis"].post_json(f"/api/v1/_approvals/{aid}/approve", {}, status=409)
    assert any(n.startswith("Rejected") for n in notifications(dbsession, org["rita"].user_id))
    with dbsession() as db:
        steps = (
            db.execute(
                select(ApprovalStep).where(ApprovalStep.request_id == aid).order_by(ApprovalStep.id)
            )
            .scalars()
            .all()
        )
        assert [s.decision for s in steps] == ["approved", "rejected", "skipped"]


def test_department_head_and_any_mode(org, api, dbsession):
    """The manager's own request goes to the next manager up; an 'any' level by
    department head is decided by that one person."""
    manos = org["manos"]
    t = ticket(manos)
    res = manos.post_json(f"/api/v1/tickets/{t['id']}/transitions/write_off", {}, status=202)
    steps = res.json["approval"]["steps"]
    level1 = [s["approver_id"] for s in steps if s["level"] == 1]
    assert level1 == [org["helen"].user_id]


def test_no_approver_is_refused_before_anything_changes(api, org, dbsession):
    loner = api("ticketeer")  # no department: no manager
    t = ticket(loner)
    res = loner.post_json(f"/api/v1/tickets/{t['id']}/transitions/write_off", {}, status=400)
    assert "Nobody can approve level 1" in res.json["detail"]
    with dbsession() as db:
        assert db.execute(select(ApprovalRequest)).first() is None


def test_a_deputy_decides_for_an_absent_approver(org, api, dbsession):
    deputy = api("ticketeer", email="deputy@example.com")
    with dbsession() as db:
        db.add(
            Delegation(
                from_user_id=org["manos"].user_id,
                to_user_id=deputy.user_id,
                starts_at=utcnow() - dt.timedelta(days=1),
                ends_at=utcnow() + dt.timedelta(days=1),
                scope=[],
            )
        )
    t, approval = request_write_off(org)
    aid = approval["id"]
    assert [a["id"] for a in deputy.get("/api/v1/_approvals").json["items"]] == [aid]
    assert any("Approval needed" in n for n in notifications(dbsession, deputy.user_id))
    # the deputy's approvals page lists it, saying whose approval it is
    with dbsession() as db:
        db.get(User, org["manos"].user_id).name = "Manos Absent"
    page = deputy.get("/approvals")
    marker = re.search(r"k-approval-for[^>]*>(.*?)</span>", page.text, re.S)
    assert marker and "Manos Absent" in marker.group(1)
    assert "k-approval-for" not in org["manos"].get("/approvals").text
    res = deputy.post_json(f"/api/v1/_approvals/{aid}/approve", {})
    assert res.json["level"] == 2
    with dbsession() as db:
        step = db.execute(
            select(ApprovalStep).where(ApprovalStep.request_id == aid, ApprovalStep.level == 1)
        ).scalar_one()
        assert step.approver_id == org["manos"].user_id
        assert step.decided_by_id == deputy.user_id
    # A delegation that ended gives nothing.
    with dbsession() as db:
        for d in db.execute(select(Delegation)).scalars():
            d.ended_at = utcnow()
    t2, approval2 = request_write_off(org)
    assert deputy.get("/api/v1/_approvals").json["items"] == []
    deputy.post_json(f"/api/v1/_approvals/{approval2['id']}/approve", {}, status=409)


def test_approval_is_invisible_to_outsiders(org, api):
    _t, approval = request_write_off(org)
    stranger = api("finance")  # can read tickets, so sees it, but cannot decide level 1
    res = stranger.get(f"/api/v1/_approvals/{approval['id']}")
    assert res.json["can_decide"] is False
    nobody = api("user")
    nobody.get(f"/api/v1/_approvals/{approval['id']}", status=404)
    nobody.post_json(f"/api/v1/_approvals/{approval['id']}/approve", {}, status=404)


def test_requester_withdraws(org):
    t, approval = request_write_off(org)
    org["manos"].post_json(f"/api/v1/_approvals/{approval['id']}/cancel", {}, status=403)
    res = org["rita"].post_json(f"/api/v1/_approvals/{approval['id']}/cancel", {})
    assert res.json["state"] == "cancelled"
    assert org["manos"].get("/api/v1/_approvals").json["items"] == []


def _link(smtp_server, to):
    for m in smtp_server.wait(1):
        if to in m.envelope_to and "Approval needed" in m["Subject"]:
            body = m.get_body(("plain",)).get_content()
            found = re.search(r"http://crm\.example\.com(/approvals/link/\S+)", body)
            assert found, body
            return found.group(1)
    raise AssertionError(f"no approval e-mail to {to}")


def test_signed_link_in_the_email_decides_once(org, testapp, smtp_server, dbsession):
    t, approval = request_write_off(org)
    path = _link(smtp_server, "manos@example.com")
    page = testapp.get(path)  # not logged in: the link is the credential
    assert "Broken printer" in page.text
    with dbsession() as db:  # GET changed nothing
        assert db.get(ApprovalRequest, approval["id"]).level == 1
    form = decision_form(page)
    form["comment"] = "fine"
    res = form.submit("action", value="approve")
    assert "Approved" in res.text
    with dbsession() as db:
        req = db.get(ApprovalRequest, approval["id"])
        assert req.level == 2
        step = next(s for s in req.steps if s.level == 1)
        assert step.decided_by_id == org["manos"].user_id and step.comment == "fine"
    # Used once: the same link is dead now.
    assert testapp.get(path, status=410)
    # A forged or altered token is refused.
    testapp.get(path[:-3] + "abc", status=410)
    testapp.get("/approvals/link/not-a-token", status=410)


def test_signed_link_post_needs_csrf(org, testapp, smtp_server, dbsession):
    _t, approval = request_write_off(org)
    path = _link(smtp_server, "manos@example.com")
    testapp.post(path, {"action": "approve"}, status=400)
    with dbsession() as db:
        assert db.get(ApprovalRequest, approval["id"]).level == 1


def test_expired_link(org, dbsession):
    from kyklos.workflow import approvals

    _t, approval = request_write_off(org)
    # A token that expired an hour ago is refused even with a good signature.
    from kyklos.jobs import job_request

    registry = org["rita"].app.registry
    with job_request(registry) as request:
        step = (
            request.dbsession.execute(
                select(ApprovalStep).where(ApprovalStep.request_id == approval["id"])
            )
            .scalars()
            .first()
        )
        token = approvals.link_token(request, step, step.approver_id, days=-1 / 24)
        assert approvals.read_token(request, token) is None
        good = approvals.link_token(request, step, step.approver_id)
        assert approvals.read_token(request, good) == (step.id, step.approver_id)


def test_approve_from_the_web_ui(org, client, login, dbsession):
    import webtest

    t, approval = request_write_off(org)
    app = webtest.TestApp(org["manos"].app, extra_environ={"HTTP_HOST": "localhost"})
    login(app, "manos@example.com")
    inbox = app.get("/approvals")
    assert f"/approvals/{approval['id']}" in inbox.text
    page = app.get(f"/approvals/{approval['id']}")
    form = decision_form(page)
    res = form.submit("action", value="approve").follow()
    assert "Approved." in res.text
    with dbsession() as db:
        assert db.get(ApprovalRequest, approval["id"]).level == 2
