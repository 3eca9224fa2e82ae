"""The satisfaction survey (HD-16): closing a case mails its contact (real SMTP) a
signed link, in the contact's language; the public page rates it once without a login;
a forged link finds nothing; the rating shows on the case and averages per team and
agent show on the team's page and through the API."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _link(msg) -> str:
    body = msg.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/portal/survey/\S+", body).group(0)


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


@pytest.fixture
def team(admin, make_user):
    a = make_user(email="ana@example.com", roles=("agent",), name="Ana Agent")
    b = make_user(email="bo@example.com", roles=("agent",), name="Bo Agent")
    t = admin.post_json("/api/v1/support-teams", {"name": "First line"}, status=201).json
    return {"team": t, "ana": a, "bo": b}


def _closed_case(admin, team, owner, email, language=None, subject="Boiler"):
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Maria", "last_name": subject, "email": email, "language": language},
        status=201,
    ).json
    case = admin.post_json(
        "/api/v1/cases",
        {
            "subject": subject,
            "person_id": person["id"],
            "team_id": team["team"]["id"],
            "owner_id": owner,
        },
        status=201,
    ).json
    admin.post(f"/api/v1/cases/{case['id']}/transitions/resolve")
    admin.post(f"/api/v1/cases/{case['id']}/transitions/close")
    return case


def test_closing_mails_a_link_that_rates_once_without_login(admin, team, smtp_server, kyklos_app):
    from webtest import TestApp

    case = _closed_case(admin, team, team["ana"], "maria@example.com")
    (msg,) = smtp_server.wait(1)
    assert msg["To"] == "maria@example.com"
    assert case["number"] in msg["Subject"]
    link = _link(msg)
    # closing again (reopen, close) sends no second survey
    admin.post(f"/api/v1/cases/{case['id']}/transitions/reopen")
    admin.post(f"/api/v1/cases/{case['id']}/transitions/close")
    assert len(smtp_server.messages) == 1

    anon = TestApp(kyklos_app)
    page = anon.get(_path(link))
    assert "How did we do?" in page.text and case["number"] in page.text
    form = page.forms["hd-survey-form"]
    # no rating chosen: the page says so and nothing is stored
    bad = form.submit(status=200)
    assert "Choose a rating from 1 to 5." in bad.text
    assert admin.get(f"/api/v1/cases/{case['id']}").json["rating"] is None
    form = bad.forms["hd-survey-form"]
    form["rating"] = "4"
    form["comment"] = "Quick and friendly <b>thanks</b>"
    done = form.submit(status=302).follow()
    assert "Thank you: your rating is recorded." in done.text
    assert "hd-survey-form" not in done.text  # rated once
    got = admin.get(f"/api/v1/cases/{case['id']}").json
    assert got["rating"] == 4 and got["rating_comment"] == "Quick and friendly <b>thanks</b>"
    assert got["rated_at"] is not None
    # the rating is the customer's: staff cannot write it through the API
    res = admin.patch_json(
        f"/api/v1/cases/{case['id']}", {"rating": 1, "version": got["version"]}, status=400
    )
    assert res.content_type == "application/problem+json"
    # the case page shows it in words, the comment encoded
    text = admin.get(f"/cases/{case['id']}").text
    assert "Good" in text and "&lt;b&gt;thanks&lt;/b&gt;" in text


def test_a_forged_or_mangled_link_finds_nothing(admin, team, smtp_server, kyklos_app):
    from webtest import TestApp

    case = _closed_case(admin, team, team["ana"], "maria@example.com")
    link = _path(_link(smtp_server.wait(1)[0])).split("?")[0]
    anon = TestApp(kyklos_app)
    other = re.sub(r"/survey/\d+-", f"/survey/{case['id'] + 1}-", link)
    for bad in (other, link[:-3] + "abc", "/portal/survey/xyz", "/portal/survey/1"):
        assert anon.get(bad, expect_errors=True).status_int == 404, bad


def test_the_mail_and_page_speak_the_contacts_language(admin, team, smtp_server, kyklos_app):
    from webtest import TestApp

    _closed_case(admin, team, team["ana"], "eleni@example.com", language="el")
    (msg,) = smtp_server.wait(1)
    assert "Πώς τα πήγαμε;" in msg["Subject"]
    link = _link(msg)
    page = TestApp(kyklos_app).get(_path(link))
    assert "Πώς τα πήγαμε;" in page.text and "Εξαιρετικά" in page.text
    assert "Excellent" not in page.text


def test_averages_per_team_and_agent(admin, team, smtp_server, kyklos_app, api):
    from webtest import TestApp

    anon = TestApp(kyklos_app)
    for n, (owner, stars) in enumerate(((team["ana"], "5"), (team["ana"], "4"), (team["bo"], "2"))):
        _closed_case(admin, team, owner, f"c{n}@example.com", subject=f"Case {n}")
        link = _link(smtp_server.wait(n + 1)[n])
        form = anon.get(_path(link)).forms["hd-survey-form"]
        form["rating"] = stars
        form.submit(status=302)
    stats = admin.get("/api/v1/helpdesk/satisfaction").json
    assert stats["count"] == 3 and stats["average"] == pytest.approx(3.67, abs=0.01)
    by_agent = {a["user"]: (a["average"], a["count"]) for a in stats["agents"]}
    assert by_agent == {"Ana Agent": (4.5, 2), "Bo Agent": (2.0, 1)}
    assert stats["teams"] == [
        {"team_id": team["team"]["id"], "team": "First line", "average": 3.67, "count": 3}
    ]
    admin.get("/api/v1/helpdesk/satisfaction?team_id=x", status=400)
    # the team's page shows the averages in words
    text = admin.get(f"/support-teams/{team['team']['id']}").text
    assert "Customer satisfaction" in text and "4.5 of 5 from 2 ratings" in text
    assert "2 of 5 from 1 rating" in text
    # people who may not read cases get nothing
    api("user").get("/api/v1/helpdesk/satisfaction", status=403)
