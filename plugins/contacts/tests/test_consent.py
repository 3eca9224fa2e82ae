"""Consent per channel (opt-in / opt-out, source, date) and what other plugins use."""

import datetime as dt

from contacts_helpers import new_person
from sqlalchemy import select


def test_consent_api_and_helpers(api, dbsession):
    from kyklos_contacts.api import consent_allows, filter_consenting, set_consent
    from kyklos_contacts.models import Person

    a = api("manager")
    yes = new_person(a, first_name="Yes")
    no = new_person(a, first_name="No")
    unknown = new_person(a, first_name="Unknown")
    a.post_json("/api/v1/consents", {"person_id": yes["id"], "channel": "email",
                                     "status": "opt_in", "source": "web form"})
    a.post_json("/api/v1/consents", {"person_id": no["id"], "channel": "email",
                                     "status": "opt_out", "source": "unsubscribe"})
    res = a.post_json("/api/v1/consents", {"person_id": yes["id"], "channel": "email",
                                           "status": "opt_out"}, expect_errors=True)
    assert res.status_int >= 400  # one record per person and channel
    got = a.get(f"/api/v1/persons/{yes['id']}/consent").json["channels"]
    assert got["email"]["allowed"] is True and got["email"]["source"] == "web form"
    assert got["sms"] == {"allowed": False, "status": None, "source": None, "at": None}
    with dbsession() as db:
        assert consent_allows(db, yes["id"], "email")
        assert not consent_allows(db, no["id"], "email")
        assert not consent_allows(db, unknown["id"], "email")
        assert consent_allows(db, unknown["id"], "email", default=True)
        assert not consent_allows(db, no["id"], "email", default=True)
        stmt = select(Person.id).order_by(Person.id)
        assert db.execute(filter_consenting(stmt, "email")).scalars().all() == [yes["id"]]
        assert db.execute(filter_consenting(stmt, "email", default=True)).scalars().all() == [
            yes["id"], unknown["id"]]
        set_consent(db, no["id"], "email", "opt_in", source="phone call",
                    at=dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    with dbsession() as db:
        assert consent_allows(db, no["id"], "email")


def test_consent_panel_buttons(api, client):
    a = api("manager")
    p = new_person(a)
    c = client("manager")
    page = c.get(f"/persons/{p['id']}")
    form = next(f for f in page.forms.values() if f.action.endswith("/consent")
                and f["channel"].value == "sms")
    form["source"] = "signed form"
    page = form.submit("status", value="opt_in").follow()
    assert "Consent saved" in page.text
    got = a.get(f"/api/v1/persons/{p['id']}/consent", {"channel": "sms"}).json["channels"]
    assert got["sms"]["status"] == "opt_in" and got["sms"]["source"] == "signed form"
    form = next(f for f in page.forms.values() if f.action.endswith("/consent")
                and f["channel"].value == "sms")
    form.submit("status", value="opt_out").follow()
    got = a.get(f"/api/v1/persons/{p['id']}/consent", {"channel": "sms"}).json["channels"]
    assert got["sms"]["status"] == "opt_out"
    history = a.get(f"/api/v1/consents?person_id={p['id']}").json["items"]
    assert len(history) == 1
    audit = a.get(f"/api/v1/consents/{history[0]['id']}/history").json["items"]
    assert len(audit) == 2  # the opt-in is kept in the record history


def test_sales_cannot_change_consent_without_permission(api, client):
    p = new_person(api("manager"))
    c = client("user")
    c.get(f"/persons/{p['id']}", status=403)
