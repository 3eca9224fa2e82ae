"""Scheduled reports by e-mail (real SMTP server): each recipient receives the report in
their language, computed with their own rights at the time it is sent, once per
period, through the durable periodic job."""

from __future__ import annotations

import datetime as dt

import pytest
from entities_support import grant, roles_synced, thing_rules  # noqa: F401
from sqlalchemy import select

from kyklos.reports.schedules import ReportSchedule, deliver_due, is_due
from kyklos.security.models import FieldPermission, RecordRule, Role, User

pytestmark = pytest.mark.usefixtures("thing_rules")
UTC = dt.UTC


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


class Ctx:
    def __init__(self, registry, dbsession):
        self.registry = registry
        self.dbsession = dbsession


def deliver(registry, dbsession, when):
    with dbsession() as db:
        return deliver_due(Ctx(registry, db), when.isoformat())


def test_due_days():
    mon = dt.datetime(2030, 1, 7, 7, 0)  # a Monday, 07:00
    assert is_due("daily", None, mon) and not is_due("daily", mon.date(), mon)
    assert not is_due("daily", None, mon.replace(hour=5))  # not before 06:00
    assert is_due("weekly", dt.date(2029, 12, 31), mon)
    assert not is_due("weekly", dt.date(2030, 1, 6), mon + dt.timedelta(days=1))
    assert is_due("monthly", dt.date(2029, 12, 1), mon)
    assert not is_due("monthly", dt.date(2030, 1, 2), mon + dt.timedelta(days=3))


def test_each_recipient_gets_it_in_their_language_with_their_rights(
    api, registry, dbsession, smtp_server
):
    ed = api("thingseditor")
    for name, colour, size in (("a", "red", 1), ("b", "red", 5), ("c", "blue", 7)):
        ed.post_json("/api/v1/things", {"name": name, "colour": colour, "size": size}, status=201)
    # the reader reaches only their own things, and may not read sizes
    reader = api("thingsreader")
    greek = api("thingsreader")
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one()
        for rule in db.execute(
            select(RecordRule).where(RecordRule.role_id == role.id, RecordRule.entity == "thing")
        ).scalars():
            db.delete(rule)
        db.add(RecordRule(role_id=role.id, entity="thing", action="read", scope="own"))
        for uid, lang in ((reader.user_id, "en"), (greek.user_id, "el")):
            u = db.get(User, uid)
            u.locale, u.timezone = lang, "Europe/Athens"
    greek.post_json("/api/v1/things", {"name": "mine", "colour": "green"}, status=403)
    from entities_support import insert_things

    insert_things(
        registry,
        dbsession,
        [{"name": "mine", "colour": "green", "size": 2}],
        owner_id=greek.user_id,
    )
    rep = ed.post_json(
        "/api/v1/_reports",
        {
            "name": "Colours",
            "shared_users": [reader.user_id, greek.user_id],
            "spec": {"entity": "thing", "group_by": [{"field": "colour"}]},
        },
        status=201,
    ).json
    url = f"/api/v1/_reports/{rep['id']}/schedules"
    bad = ed.post_json(url, {"user_id": 999999, "frequency": "hourly"}, status=400).json
    assert {e["field"] for e in bad["errors"]} == {"user_id", "frequency"}
    reader.post_json(url, {"user_id": reader.user_id, "frequency": "daily"}, status=403)
    ed.post_json(url, {"user_id": greek.user_id, "frequency": "daily"}, status=201)
    ed.post_json(url, {"user_id": reader.user_id, "frequency": "weekly"}, status=201)
    assert len(ed.get(url).json["items"]) == 2

    # 05:30 in Athens: nothing yet
    assert deliver(registry, dbsession, dt.datetime(2030, 1, 7, 3, 30, tzinfo=UTC))["sent"] == 0
    # 06:10 in Athens on a Monday: both
    out = deliver(registry, dbsession, dt.datetime(2030, 1, 7, 4, 10, tzinfo=UTC))
    assert out["sent"] == 2
    msgs = smtp_server.wait(2)
    by_to = {m.envelope_to[0]: m for m in msgs}
    with dbsession() as db:
        greek_mail = db.get(User, greek.user_id).email
        reader_mail = db.get(User, reader.user_id).email
    g = by_to[greek_mail]
    assert g["Subject"] == "Αναφορά: Colours"
    text = g.get_body(("plain",)).get_content()
    assert "Πλήθος εγγραφών" in text and "green | 1" in text
    assert "red" not in text  # the things of others are not the Greek reader's
    e = by_to[reader_mail].get_body(("plain",)).get_content()
    assert "Number of records" in e and "No records match." in e
    # once per period: the next hour sends nothing, the next day only the daily one
    smtp_server.messages.clear()
    assert deliver(registry, dbsession, dt.datetime(2030, 1, 7, 9, 0, tzinfo=UTC))["sent"] == 0
    assert deliver(registry, dbsession, dt.datetime(2030, 1, 8, 9, 0, tzinfo=UTC))["sent"] == 1
    # rights at run time: a grouping the recipient may no longer read is not sent
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one()
        db.add(FieldPermission(role_id=role.id, entity="thing", field="colour", access="none"))
    assert deliver(registry, dbsession, dt.datetime(2030, 1, 9, 9, 0, tzinfo=UTC))["sent"] == 0
    with dbsession() as db:
        sched = db.execute(
            select(ReportSchedule).where(ReportSchedule.user_id == greek.user_id)
        ).scalar_one()
        assert "may not read" in sched.last_error or "δικαίωμα" in sched.last_error
    # the periodic job is declared (durable, retried like every job)
    assert registry.kyklos_jobs["kyklos.reports.deliver"].periodic is not None


def test_the_report_page_schedules_and_stops_a_delivery(api, client, dbsession):
    web = client("thingseditor")
    page = web.get("/reports/new?entity=thing")
    csrf = page.html.find("input", {"name": "csrf_token"})["value"]
    form = {
        "csrf_token": csrf,
        "entity": "thing",
        "was_entity": "thing",
        "group.0": "colour",
        "measure.0.op": "count",
        "name": "Mine",
        "action": "save",
    }
    rid = int(web.post("/reports/new", form, status=302).location.rsplit("/", 1)[1])
    page = web.get(f"/reports/{rid}")
    box = page.html.find(id="report-schedules")
    me = box.find("select", {"name": "schedule_user"}).find_all("option")
    assert me and all(o["value"].isdigit() and o.text.strip() for o in me)  # by name
    with dbsession() as db:
        uid = db.execute(select(ReportSchedule.user_id)).scalars().first()
    assert uid is None
    from kyklos.reports import Report

    with dbsession() as db:
        author = db.get(Report, rid).created_by_id
    base = {**form, "schedule_frequency": "monthly"}
    web.post(
        f"/reports/{rid}", {**base, "schedule_user": str(author), "action": "schedule"}, status=302
    )
    page = web.get(f"/reports/{rid}")
    assert "On the 1st of every month" in page.html.find(id="report-schedules").text
    # someone the report is not shared with is refused, in words, on the page
    other = api("thingsreader").user_id
    res = web.post(
        f"/reports/{rid}", {**base, "schedule_user": str(other), "action": "schedule"}, status=400
    )
    assert "Share the report with this person first." in res.text
    with dbsession() as db:
        sid = db.execute(select(ReportSchedule.id)).scalar_one()
    web.post(f"/reports/{rid}", {**base, "action": f"unschedule.{sid}"}, status=302)
    with dbsession() as db:
        assert db.execute(select(ReportSchedule.id)).first() is None
