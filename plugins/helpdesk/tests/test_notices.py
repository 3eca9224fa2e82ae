"""The mass notice of expiring contracts (HD-08) through the API and the page, with a
real SMTP server: one e-mail per contact of the customer in the contact's language,
logged on the customer's timeline, never twice for the same contract and end date."""

from __future__ import annotations

import re

import pytest

PROBLEM = "application/problem+json"


def _words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _notices(admin, body) -> dict:
    """Start the notices (a background job: 202 and its address) and answer the job's
    result once it finished (the test app runs jobs when the request commits)."""
    started = admin.post_json("/api/v1/helpdesk/contract-notices", body, status=202).json
    assert started["job_url"].endswith(f"/api/v1/_jobs/{started['job_id']}")
    job = admin.get(f"/api/v1/_jobs/{started['job_id']}").json
    assert job["name"] == "helpdesk.contract_notices" and job["state"] == "done", job
    assert job["progress"] == 100
    return job["result"]


def _setup(admin):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "Cafe Zorba"}, status=201).json
    for first, last, email, lang, account in (
        ("Maria", "Papadaki", "maria@example.com", "el", acc),
        ("John", "Smith", "john@example.com", "en", acc),
        ("No", "Mail", None, "en", acc),
        ("Ana", "Pop", "ana@example.com", "ro", other),
    ):
        body = {"first_name": first, "last_name": last, "account_id": account["id"]}
        if email:
            body.update(email=email, language=lang)
        admin.post_json("/api/v1/persons", body, status=201)
    ending = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Maintenance 2026",
            "account_id": acc["id"],
            "starts_on": "2026-02-01",
            "ends_on": "2027-01-31",
        },
        status=201,
    ).json
    later = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Till care",
            "account_id": other["id"],
            "starts_on": "2026-01-01",
            "ends_on": "2027-06-30",
        },
        status=201,
    ).json
    return acc, ending, later


def test_notices_go_once_to_each_contact_in_their_language(admin, smtp_server):
    acc, ending, later = _setup(admin)
    out = _notices(admin, {"month": "2027-01", "contract_ids": [ending["id"]]})
    assert out == {"sent": 2, "skipped": 0}
    msgs = smtp_server.wait(2)
    by_to = {m["To"]: m for m in msgs}
    assert set(by_to) == {"maria@example.com", "john@example.com"}
    en = by_to["john@example.com"]
    assert en["Subject"] == "Your support contract “Maintenance 2026” ends on January 31, 2027"
    assert "Dear John Smith" in en.get_body(preferencelist=("plain",)).get_content()
    el = by_to["maria@example.com"]
    assert (
        el["Subject"] == "Το συμβόλαιο υποστήριξης «Maintenance 2026» λήγει στις 31 Ιανουαρίου 2027"
    )
    assert "Hotel Knossos" in el.get_body(preferencelist=("plain",)).get_content()
    # again: nobody twice
    again = _notices(admin, {"month": "2027-01", "contract_ids": [ending["id"]]})
    assert again == {"sent": 0, "skipped": 2}
    # on the customer's timeline: two e-mail activities about the contract
    acts = admin.get("/api/v1/activities", {"account_id": acc["id"], "limit": 50}).json["items"]
    assert sum(1 for a in acts if a["subject"].startswith("Your support contract")) == 1
    assert sum(1 for a in acts if a["subject"].startswith("Το συμβόλαιο υποστήριξης")) == 1
    # a contract ending in another month is not of January's list
    res = admin.post_json(
        "/api/v1/helpdesk/contract-notices",
        {"month": "2027-01", "contract_ids": [later["id"]]},
        status=400,
    )
    assert res.content_type == PROBLEM
    assert [e["field"] for e in res.json["errors"]] == ["contract_ids"]
    # a manager's own words, with the contact's name filled in
    smtp_server.messages.clear()
    out = _notices(
        admin,
        {
            "month": "2027-06",
            "contract_ids": [later["id"]],
            "templates": {"ro": {"subject": "Contractul ${contract}", "body": "Bună ${person}"}},
        },
    )
    assert out == {"sent": 1, "skipped": 0}
    (msg,) = smtp_server.wait(1)
    assert msg["Subject"] == "Contractul Till care"


def test_the_page_lists_previews_and_sends(admin, smtp_server):
    acc, ending, later = _setup(admin)
    page = admin.get("/helpdesk/contract-notices", {"month": "2027-01"})
    assert "Hotel Knossos" in page.text and "Maintenance 2026" in page.text
    assert "Cafe Zorba" not in page.text
    form = page.forms["hd-notice-form"]
    res = form.submit("action", value="preview")
    assert "Preview" in res.text and "Dear John Smith" in res.text
    assert smtp_server.messages == []
    # sending is a background job: the page follows it and links to the jobs page
    res = res.forms["hd-notice-form"].submit("action", value="send", status=303)
    job_id = re.search(r"[?&]job=([0-9a-f-]{36})", res.location).group(1)
    assert "month=2027-01" in res.location
    page = res.follow()
    box = page.html.select_one("#hd-notice-job")
    assert box["data-job-url"].endswith(f"/api/v1/_jobs/{job_id}")
    assert box["data-done"] == "E-mails sent: {sent}; already sent before: {skipped}."
    assert page.html.select_one("#hd-notice-jobs-link")["href"].endswith("/jobs")
    assert "notice_job.js" in page.text
    assert admin.get(f"/api/v1/_jobs/{job_id}").json["result"] == {"sent": 2, "skipped": 0}
    assert len(smtp_server.wait(2)) == 2
    # the core's jobs page lists it, done, under its title
    jobs = admin.get("/jobs")
    row = jobs.html.select_one(f'tr[data-job-id="{job_id}"]')
    assert row is not None and row["data-job-state"] == "done"
    res = (
        admin.get("/helpdesk/contract-notices", {"month": "2027-01"})
        .forms["hd-notice-form"]
        .submit("action", value="send", status=303)
    )
    job_id = re.search(r"[?&]job=([0-9a-f-]{36})", res.location).group(1)
    assert admin.get(f"/api/v1/_jobs/{job_id}").json["result"] == {"sent": 0, "skipped": 2}
    # a job id that is no id shows no box
    page = admin.get("/helpdesk/contract-notices", {"month": "2027-01", "job": "<x>"})
    assert page.html.select_one("#hd-notice-job") is None


def test_an_agent_may_not_send(api, admin):
    _acc, ending, _later = _setup(admin)
    api("agent").post_json(
        "/api/v1/helpdesk/contract-notices",
        {"month": "2027-01", "contract_ids": [ending["id"]]},
        status=403,
    )


def test_the_shared_loop_reports_progress_per_recipient(kyklos_app, smtp_server):
    """``send_notice`` tells its caller (the job) after each recipient how far it got."""
    from kyklos_helpdesk.mailing import Recipient, send_notice
    from kyklos_sdk import request_as

    seen = []
    with request_as(kyklos_app.registry, None, write=True) as request:
        out = send_notice(
            request,
            [Recipient(f"p{i}@example.com", "en") for i in range(3)],
            lambda r, lang: ("Hello", f"Hi {r.email}"),
            ["en"],
            told=lambda r: r.email == "p1@example.com",
            progress=lambda done, total: seen.append((done, total)),
        )
    assert out == {"sent": 2, "skipped": 1}
    assert seen == [(1, 3), (2, 3)]
    assert {m["To"] for m in smtp_server.wait(2)} == {"p0@example.com", "p2@example.com"}
