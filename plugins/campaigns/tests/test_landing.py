"""Responses by a landing form (MKT-08): each recipient's signed link opens a public
page in the visitor's language where they answer accepted, interested or refused with
an optional message; the answer is the recipient's response, counted in the results.
Forged tokens, missing CSRF tokens, bad answers and too many posts are refused."""

from __future__ import annotations

import pytest
import webtest


@pytest.fixture
def visitor(kyklos_app):
    """Someone without an account: the recipient's browser."""
    return webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})


def make_recipients(boss, dbsession, make_record, names=("Μαρία Παπαδάκη", "John Smith")):
    """A sent e-mail campaign of the campaign manager ``boss`` with one recipient per
    name; returns the campaign and the recipients' ids."""
    from kyklos_campaigns.models import Campaign, Recipient

    c = boss.post_json(
        "/api/v1/campaigns", {"name": "Open day 2026", "channel": "email"}, status=201
    ).json
    people = [
        make_record("person", first_name=n.split(" ", 1)[0], last_name=n.split(" ", 1)[1])
        for n in names
    ]
    ids = []
    with dbsession() as db:
        db.get(Campaign, c["id"]).status = "sent"
        for i, (name, pid) in enumerate(zip(names, people, strict=True)):
            rec = Recipient(
                campaign_id=c["id"],
                person_id=pid,
                address=f"p{i}@example.gr",
                name=name,
                state="sent",
                attempts=1,
                custom={},
            )
            db.add(rec)
            db.flush()
            ids.append(rec.id)
    return c, ids


def link(registry, rid) -> str:
    from kyklos_campaigns.tracking import sign

    return f"/t/r/{sign(registry, 'r', rid)}"


def test_a_recipient_answers_on_the_response_page(boss, visitor, dbsession, make_record, registry):
    c, (maria, john) = make_recipients(boss, dbsession, make_record)
    page = visitor.get(link(registry, maria), headers={"Accept-Language": "el"})
    text = page.html.get_text(" ", strip=True)
    assert "Open day 2026" in text
    legend = page.html.select_one("#cmp-respond-form legend").get_text("", strip=True)
    assert legend == "Μαρία Παπαδάκη, ποια είναι η απάντησή σας;"
    # the answers in the visitor's language, never codes
    labels = [lab.get_text(strip=True) for lab in page.html.select("#cmp-respond-form label")]
    assert labels == ["Αποδέχθηκε", "Ενδιαφέρεται", "Αρνήθηκε", "Μήνυμα (προαιρετικό)"]
    assert page.headers["Cache-Control"] == "no-store"
    form = page.forms["cmp-respond-form"]
    form["response"] = "interested"
    form["message"] = "Θα έρθω με έναν συνάδελφο."
    done = form.submit()
    assert done.status_int == 200 and done.html.find(id="cmp-respond-done") is not None
    got = boss.get(f"/api/v1/campaign-recipients/{maria}").json
    assert got["response"] == "interested" and got["responded_at"]
    assert got["response_message"] == "Θα έρθω με έναν συνάδελφο."
    assert got["response_source"] == "landing"
    # John refuses, in English; then the results count both
    page = visitor.get(link(registry, john), headers={"Accept-Language": "en"})
    form = page.forms["cmp-respond-form"]
    form["response"] = "refused"
    form.submit()
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert res["responses"]["interested"] == 1 and res["responses"]["refused"] == 1
    assert res["responded"] == 2 and res["responses_on_page"] == 2
    # the page again shows the answer so far, in words, and may change it
    again = visitor.get(link(registry, john), headers={"Accept-Language": "en"})
    assert "Refused" in again.html.find(id="cmp-respond-current").get_text(" ", strip=True)


def test_the_results_page_counts_answers_on_the_response_page(
    boss, visitor, dbsession, make_record, registry, make_user, login, testapp
):
    c, (maria, _john) = make_recipients(boss, dbsession, make_record)
    form = visitor.get(link(registry, maria)).forms["cmp-respond-form"]
    form["response"] = "accepted"
    form.submit()
    make_user(email="res@example.com", roles=("campaignmanager",), locale="en")
    login(testapp, "res@example.com")
    table = testapp.get(f"/campaigns/{c['id']}/results").html.find(id="cmp-responses")
    rows = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in table.find_all("tr")}
    assert rows["Accepted"] == "1" and rows["Of these, answered on the response page"] == "1"


def test_forged_tokens_bad_answers_and_missing_csrf_are_refused(
    boss, visitor, dbsession, make_record, registry
):
    from kyklos_campaigns.tracking import sign

    _c, (maria, _john) = make_recipients(boss, dbsession, make_record)
    good = link(registry, maria)
    visitor.get(good[:-3] + "abc", status=404)
    # a token of another kind (the unsubscribe link's) opens nothing here
    visitor.get(f"/t/r/{sign(registry, 'u', maria)}", status=404)
    visitor.get(link(registry, 999999), status=404)
    page = visitor.get(good)
    token = page.forms["cmp-respond-form"]["csrf_token"].value
    r = visitor.post(good, {"response": "accepted"}, status=400)
    assert r.html.find(id="cmp-respond-errors") is not None
    r = visitor.post(good, {"response": "replied", "csrf_token": token}, status=400)
    assert "Choose your answer" in r.html.find(id="cmp-respond-errors").get_text()
    r = visitor.post(
        good, {"response": "accepted", "message": "x" * 2001, "csrf_token": token}, status=400
    )
    assert "2000" in r.html.find(id="cmp-respond-errors").get_text().replace(",", "")
    # nothing was recorded by the refused posts
    assert boss.get(f"/api/v1/campaign-recipients/{maria}").json["response"] is None
    # the page never redirects: an answer shows the thank-you on the same address
    ok = visitor.post(good, {"response": "accepted", "csrf_token": token}, status=200)
    assert "Location" not in ok.headers


def test_too_many_answers_from_one_address_are_refused(
    boss, visitor, dbsession, make_record, registry
):
    _c, (maria, _john) = make_recipients(boss, dbsession, make_record)
    good = link(registry, maria)
    token = visitor.get(good).forms["cmp-respond-form"]["csrf_token"].value
    registry.settings["kyklos.campaigns.landing.rate_limit"] = "3"
    env = {"REMOTE_ADDR": "203.0.113.9"}
    try:
        for _i in range(3):
            visitor.post(good, {"response": "accepted", "csrf_token": token}, extra_environ=env)
        r = visitor.post(
            good, {"response": "refused", "csrf_token": token}, extra_environ=env, status=429
        )
        assert r.headers["Retry-After"] == "60"
        # the refused post changed nothing
        assert boss.get(f"/api/v1/campaign-recipients/{maria}").json["response"] == "accepted"
    finally:
        del registry.settings["kyklos.campaigns.landing.rate_limit"]


def test_letters_carry_the_recipients_response_link(boss, make_record, dbsession, registry):
    """The ``response_url`` merge field: each letter links to its recipient's page."""
    import io
    import zipfile

    import docx
    from kyklos_contacts.api import set_consent
    from sqlalchemy import select

    from kyklos_campaigns.models import Recipient
    from kyklos_campaigns.tracking import unsign

    for first, street in (("Μαρία", "Οδός 1"), ("John", "Οδός 2")):
        pid = make_record("person", first_name=first, last_name="Test", city="Sitia")
        make_record(
            "address", person_id=pid, kind="home", street=street, city="Σητεία", is_primary=True
        )
        with dbsession() as db:
            set_consent(db, pid, "post", "opt_in", source="test")
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Sitia",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Sitia"}]},
        },
        status=201,
    ).json["id"]
    tl = boss.post_json(
        "/api/v1/target-lists", {"name": "Sitia", "segment_id": seg, "kind": "dynamic"}, status=201
    ).json
    document = docx.Document()
    document.add_paragraph("Answer: {{ response_url }}")
    out = io.BytesIO()
    document.save(out)
    t = boss.post_json(
        "/api/v1/letter-templates", {"name": "Invite", "language": "en"}, status=201
    ).json
    up = boss.post(
        f"/api/v1/letter-templates/{t['id']}/document",
        upload_files=[("file", "i.docx", out.getvalue(), DOCX)],
    ).json
    assert "response_url" in up["merge_fields"]
    c = boss.post_json(
        "/api/v1/campaigns",
        {"name": "Invite", "list_id": tl["id"], "channel": "letter", "letter_template_id": t["id"]},
        status=201,
    ).json
    boss.post(f"/api/v1/campaigns/{c['id']}/letters")
    z = boss.get(f"/campaigns/{c['id']}/letters.zip").body
    with zipfile.ZipFile(io.BytesIO(z)) as zf:
        texts = [
            "\n".join(p.text for p in docx.Document(io.BytesIO(zf.read(n))).paragraphs)
            for n in zf.namelist()
        ]
    with dbsession() as db:
        ids = set(
            db.execute(select(Recipient.id).where(Recipient.campaign_id == c["id"])).scalars()
        )
    assert len(ids) == 2
    found = {unsign(registry, "r", body.split("/t/r/", 1)[1].strip()) for body in texts}
    assert found == ids


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
