"""Bounces and replies of campaign e-mail, with or without the mail plugin: the hooks
the mail plugin calls (``kyklos_mail_bounce_received``, ``kyklos_mail_message_filed``)
are called here as it calls them, about messages really sent to an SMTP server
(aiosmtpd). A hard bounce marks the recipient "bounced", is counted in the results
(API, page, breakdown by segment) and keeps the address out of later campaigns; a soft
bounce is counted and the message stays sent; a reply is the response "replied"."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from kyklos_sdk import request_as, utcnow


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "campaign-tests-secret"}


def _send(boss, rhodes_campaign, smtp_server):
    c = rhodes_campaign(html="<p>Hello {{ first_name }}</p>")
    boss.post(f"/api/v1/campaigns/{c['id']}/send", status=200)
    return c, {m["To"]: m for m in smtp_server.wait(2)}


def _bounce(registry, address, permanent, reason, message_id=""):
    with request_as(registry, None, write=True) as request:
        registry.kyklos_pm.hook.kyklos_mail_bounce_received(
            request=request,
            address=address,
            kind="bounce",
            permanent=permanent,
            reason=reason,
            original_message_id=message_id,
        )


def _rows(boss, cid) -> dict:
    items = boss.get(f"/api/v1/campaign-recipients?campaign_id={cid}").json["items"]
    return {r["address"]: r for r in items}


def test_hard_and_soft_bounces_are_told_apart_counted_and_suppressed(
    boss, rhodes_campaign, new_campaign, smtp_server, registry
):
    c, msgs = _send(boss, rhodes_campaign, smtp_server)
    maria, nikos = msgs["maria@example.gr"], msgs["nikos@example.gr"]
    _bounce(registry, "maria@example.gr", True, "5.1.1 user unknown", maria["Message-ID"])
    for _n in range(2):  # the receiving server tries again and says so twice
        _bounce(registry, "nikos@example.gr", False, "4.4.1", nikos["Message-ID"])
    rows = _rows(boss, c["id"])
    assert rows["maria@example.gr"]["state"] == "bounced"
    assert rows["maria@example.gr"]["bounced_at"] is not None
    assert rows["maria@example.gr"]["error"] == "5.1.1 user unknown"
    assert rows["nikos@example.gr"]["state"] == "sent"
    assert rows["nikos@example.gr"]["soft_bounces"] == 2
    assert rows["nikos@example.gr"]["error"] == "delayed: 4.4.1"
    # the state is a filter like any other
    found = boss.get(f"/api/v1/campaign-recipients?campaign_id={c['id']}&state=bounced").json
    assert [r["address"] for r in found["items"]] == ["maria@example.gr"]
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert (res["sent"], res["delivered"], res["bounced"], res["soft_bounced"]) == (2, 1, 1, 1)
    assert res["failed"] == 0
    # the breakdown by segment counts it on the right side
    marias = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "The Marias",
            "kind": "dynamic",
            "definition": {"and": [{"field": "first_name", "op": "eq", "value": "Maria"}]},
        },
        status=201,
    ).json["id"]
    seg = boss.get(f"/api/v1/campaigns/{c['id']}/results?segment_id={marias}").json["by_segment"]
    assert seg["in_segment"]["bounced"] == 1 and seg["others"]["bounced"] == 0
    # the address is on the suppression list, with the reason in words
    sup = boss.get("/api/v1/suppressions?address=maria@example.gr").json["items"]
    assert [s["reason"] for s in sup] == ["hard bounce: 5.1.1 user unknown"]
    assert boss.get("/api/v1/suppressions?address=nikos@example.gr").json["items"] == []
    # ... so the next campaign to the same list leaves Maria out, and counts her
    again = new_campaign({"id": c["list_id"]}, {"id": c["template_id"]}, name="Autumn")
    boss.post(f"/api/v1/campaigns/{again['id']}/send", status=200)
    later = smtp_server.wait(3)
    assert [m["To"] for m in later[2:]] == ["nikos@example.gr"]
    assert len(smtp_server.wait(4, timeout=0.5)) == 3
    assert boss.get(f"/api/v1/campaigns/{again['id']}").json["excluded_suppressed"] == 1
    assert list(_rows(boss, again["id"])) == ["nikos@example.gr"]


def test_an_unmatched_bounce_falls_back_to_the_latest_message_to_the_address(
    boss, rhodes_campaign, smtp_server, registry
):
    c, _msgs = _send(boss, rhodes_campaign, smtp_server)
    # no Message-ID quoted (an old-style bounce): the last message sent there
    _bounce(registry, "Nikos@Example.gr", True, "5.2.1 mailbox disabled")
    rows = _rows(boss, c["id"])
    assert rows["nikos@example.gr"]["state"] == "bounced"
    assert rows["maria@example.gr"]["state"] == "sent"


@pytest.mark.parametrize(
    "lang,bounced,hard,delayed",
    [
        ("en", "Bounced", "Hard bounces", "Delayed (soft bounces)"),
        ("el", "Επιστράφηκε", "Μόνιμες επιστροφές", "Καθυστέρησαν (προσωρινές επιστροφές)"),
    ],
)
def test_pages_show_the_bounced_state_in_words(
    boss,
    rhodes_campaign,
    smtp_server,
    registry,
    make_user,
    login,
    testapp,
    lang,
    bounced,
    hard,
    delayed,
):
    c, msgs = _send(boss, rhodes_campaign, smtp_server)
    maria, nikos = msgs["maria@example.gr"], msgs["nikos@example.gr"]
    _bounce(registry, "maria@example.gr", True, "5.1.1 user unknown", maria["Message-ID"])
    _bounce(registry, "nikos@example.gr", False, "4.4.1", nikos["Message-ID"])
    email = f"marketing-{lang}@example.com"
    make_user(email=email, roles=("campaignmanager",), locale=lang)
    login(testapp, email)
    listing = testapp.get(f"/campaign-recipients/?campaign_id={c['id']}").html
    # Maria's row says it in words in the user's language, never the stored value
    row = next(tr for tr in listing.select("tr") if "maria@example.gr" in tr.get_text())
    cells = [td.get_text(strip=True) for td in row.select("td")]
    assert bounced in cells and "bounced" not in cells
    page = testapp.get(f"/campaigns/{c['id']}/results")
    table = page.html.select_one("#cmp-results")
    cells = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in table.select("tr")}
    assert cells[hard] == "1" and cells[delayed] == "1"
    # the chart's data table (its accessible form) has the step too
    chart = page.html.select_one("#cmp-results-chart").find_parent("div", class_="card-body")
    assert hard in chart.get_text()


def _reply(to_message, sender, *, subject="Re: A gift", **headers) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to_message["From"], subject
    m["Message-ID"] = make_msgid(domain="example.gr")
    m["Date"] = format_datetime(utcnow())
    m["In-Reply-To"] = to_message["Message-ID"]
    m["References"] = to_message["Message-ID"]
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content("Yes, I would like to hear more.\n\n> Hello")
    return m.as_bytes()


def _filed(registry, raw: bytes) -> None:
    """What the mail plugin does once it has stored and filed an incoming message."""
    from kyklos_mail.parse import parse

    with request_as(registry, None, write=True) as request:
        registry.kyklos_pm.hook.kyklos_mail_message_filed(
            request=request, mailbox=None, message=None, parsed=parse(raw), filed=[]
        )


def test_a_reply_is_recorded_as_a_response(boss, rhodes_campaign, smtp_server, registry, client):
    pytest.importorskip("kyklos_mail.parse")
    c, msgs = _send(boss, rhodes_campaign, smtp_server)
    maria, nikos = msgs["maria@example.gr"], msgs["nikos@example.gr"]
    # an out-of-office note answers too, but is nobody's response (RFC 3834)
    _filed(registry, _reply(maria, "maria@example.gr", Auto_Submitted="auto-replied"))
    # a reply naming a message of ours with the wrong campaign is not ours
    forged = EmailMessage()
    forged["From"], forged["Message-ID"] = (
        maria["From"],
        maria["Message-ID"].replace(f"campaign-{c['id']}.", f"campaign-{c['id'] + 1}."),
    )
    _filed(registry, _reply(forged, "maria@example.gr"))
    rows = _rows(boss, c["id"])
    assert rows["maria@example.gr"]["response"] is None
    assert rows["maria@example.gr"]["responded_at"] is None
    _filed(registry, _reply(nikos, "Nikos Roditi <nikos@example.gr>"))
    rows = _rows(boss, c["id"])
    assert rows["nikos@example.gr"]["response"] == "replied"
    assert rows["nikos@example.gr"]["responded_at"] is not None
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert res["responded"] == 1 and res["responses"]["replied"] == 1
    # a response someone recorded says more than a reply: a later reply keeps it
    mid = rows["maria@example.gr"]["id"]
    boss.patch_json(f"/api/v1/campaign-recipients/{mid}", {"response": "interested"}, status=200)
    _filed(registry, _reply(maria, "maria@example.gr"))
    assert _rows(boss, c["id"])["maria@example.gr"]["response"] == "interested"
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert res["responses"] == {"accepted": 0, "interested": 1, "refused": 0, "replied": 1}
    # the results page names it in words
    page = client("campaignmanager").get(f"/campaigns/{c['id']}/results")
    responses = {
        tr.th.get_text(strip=True): tr.td.get_text(strip=True)
        for tr in page.html.select("#cmp-responses tr")
    }
    assert responses["Replied by e-mail"] == "1" and responses["Interested"] == "1"
