"""Web-to-lead (SFA-02): the public endpoint and its protections."""

from __future__ import annotations

import time

import pytest
from kyklos_sfa.models import Lead
from kyklos_sfa.webtolead import make_stamp
from sqlalchemy import select


@pytest.fixture
def webform(admin):
    return admin.post_json("/api/v1/web-forms", {
        "name": "Contact us", "allowed_origin": "https://www.example.com",
        "redirect_url": "https://www.example.com/thanks", "source": "web",
        "campaign": "Spring 2027",
    }).json


def _stamp(registry, key, age=10):
    return make_stamp(registry.settings, key, now=time.time() - age)


def _post(testapp, key, data, ip="203.0.113.5", status=None):
    return testapp.post(f"/sfa/web-to-lead/{key}", data, status=status,
                        extra_environ={"REMOTE_ADDR": ip})


def _leads(dbsession):
    with dbsession() as db:
        return db.execute(select(Lead).order_by(Lead.id)).scalars().all()


VALID = {"first_name": "Maria", "last_name": "Wiśniewska", "company": "Bałtyk Sp. z o.o.",
         "email": "Maria@Baltyk.example", "country": "pl", "description": "Call me",
         "unknown_field": "ignored", "owner_id": "1"}


def test_valid_post_creates_a_lead(testapp, webform, registry, dbsession, admin):
    key = webform["form_key"]
    assert len(key) >= 24
    res = _post(testapp, key, {**VALID, "_ts": _stamp(registry, key)}, status=303)
    assert res.headers["Location"] == "https://www.example.com/thanks"
    [lead] = _leads(dbsession)
    assert (lead.last_name, lead.email, lead.country) == ("Wiśniewska", "maria@baltyk.example",
                                                          "PL")
    assert (lead.source, lead.campaign, lead.status) == ("web", "Spring 2027", "new")
    assert lead.web_form_id == webform["id"]
    assert lead.owner_id == admin.user_id  # the form's owner gets its leads


def test_refusals(testapp, webform, registry, dbsession, admin):
    key = webform["form_key"]
    # Bad or revoked key: not found.
    _post(testapp, "nope" + key, {**VALID, "_ts": _stamp(registry, key)}, status=404)
    # Honeypot filled in.
    _post(testapp, key, {**VALID, "website": "http://spam.example", "_ts": _stamp(registry, key)},
          status=400)
    # Sent faster than a person types, without a stamp, or with a forged one.
    _post(testapp, key, {**VALID, "_ts": _stamp(registry, key, age=0)}, status=400)
    _post(testapp, key, VALID, status=400)
    ts = _stamp(registry, key).split(".")[0]
    _post(testapp, key, {**VALID, "_ts": f"{ts}.{'0' * 32}"}, status=400)
    # A stamp of another form does not fit this one.
    _post(testapp, key, {**VALID, "_ts": _stamp(registry, "other")}, status=400)
    # Missing last name, too long a field.
    _post(testapp, key, {"email": "x@y.example", "_ts": _stamp(registry, key)}, status=400)
    _post(testapp, key, {**VALID, "company": "x" * 201, "_ts": _stamp(registry, key)},
          status=400)
    # Inactive forms are gone.
    admin.patch_json(f"/api/v1/web-forms/{webform['id']}", {"active": False})
    _post(testapp, key, {**VALID, "_ts": _stamp(registry, key)}, status=404)
    assert _leads(dbsession) == []


def test_rate_limit_per_client(testapp, webform, registry, dbsession):
    key = webform["form_key"]
    for _i in range(10):
        _post(testapp, key, {**VALID, "_ts": _stamp(registry, key)}, ip="198.51.100.7",
              status=303)
    res = _post(testapp, key, {**VALID, "_ts": _stamp(registry, key)}, ip="198.51.100.7",
                status=429)
    assert res.headers["Retry-After"] == "60"
    # Refused posts count as well: a bot cannot probe for free.
    _post(testapp, key, {**VALID, "_ts": _stamp(registry, key)}, ip="198.51.100.8",
          status=303)
    assert len(_leads(dbsession)) == 11


def test_no_open_redirect(testapp, webform, registry, admin, error_fields):
    key = webform["form_key"]
    for evil in ("https://evil.example/", "//evil.example", "https://www.example.com.evil.example/",
                 "https://user@www.example.com@evil.example/", "javascript:alert(1)"):
        res = _post(testapp, key, {**VALID, "_redirect": evil, "_ts": _stamp(registry, key)},
                    status=303)
        assert res.headers["Location"] == "https://www.example.com/thanks", evil
    res = _post(testapp, key, {**VALID, "_redirect": "https://www.example.com/de/danke",
                               "_ts": _stamp(registry, key)}, status=303)
    assert res.headers["Location"] == "https://www.example.com/de/danke"
    # Administrators cannot configure a redirect elsewhere either.
    err = admin.patch_json(f"/api/v1/web-forms/{webform['id']}",
                           {"redirect_url": "https://evil.example/"}, status=400).json
    assert "redirect_url" in error_fields(err)
    # Without a redirect, a thank-you page of our own.
    admin.patch_json(f"/api/v1/web-forms/{webform['id']}", {"redirect_url": None})
    res = _post(testapp, key, {**VALID, "_ts": _stamp(registry, key)}, status=200)
    assert "Thank you" in res.text


def test_hosted_form_token_and_snippet(testapp, webform, client, registry):
    key = webform["form_key"]
    page = testapp.get(f"/sfa/web-to-lead/{key}")
    form = page.forms[len(page.forms) - 1]
    assert form["_ts"].value and 'name="website"' in page.text
    form["last_name"] = "Quick"
    form.submit(status=400)  # sent at once: too fast for a person
    tok = testapp.get(f"/sfa/web-to-lead/{key}/token")
    assert tok.headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert tok.json["stamp"].count(".") == 1
    admin_ui = client("admin")
    snippet = admin_ui.get(f"/sfa/web-forms/{webform['id']}/snippet")
    assert f"/sfa/web-to-lead/{key}" in snippet.text
    assert "&lt;form method=&#34;post&#34;" in snippet.text or "&lt;form method=" in snippet.text
    # A new key revokes the old one.
    res = snippet.forms[len(snippet.forms) - 1].submit().follow()
    assert key not in res.text
    testapp.get(f"/sfa/web-to-lead/{key}", status=404)
    # Reps may read the forms (to hand out links); other users may not.
    client("sales").get(f"/sfa/web-forms/{webform['id']}/snippet", status=200)
    client("user").get(f"/sfa/web-forms/{webform['id']}/snippet", status=403)
