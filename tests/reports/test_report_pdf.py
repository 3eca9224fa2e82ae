"""A report as a PDF (RPT-03): the company's details from /settings, the report's
chart and table with its figures in the reader's language, through the API, the page
and the e-mailed schedules (real SMTP server)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from entities_support import roles_synced, thing_rules  # noqa: F401
from pypdf import PdfReader
from sqlalchemy import select

from kyklos.reports.schedules import deliver_due
from kyklos.security.models import User

pytestmark = pytest.mark.usefixtures("thing_rules")
UTC = dt.UTC
SPEC = {
    "entity": "thing",
    "group_by": [{"field": "colour"}],
    "measures": [{"op": "count"}, {"op": "sum", "field": "size"}],
    "sort": "-m1",
}


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def pdf_text(body: bytes) -> str:
    assert body[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(p.extract_text() for p in reader.pages)


@pytest.fixture
def report(api):
    api("admin").patch_json(
        "/api/v1/_settings",
        {"company.name": "Kyklos Trading S.A.", "company.vat_number": "EL123456789"},
    )
    ed = api("thingseditor")
    for name, colour, size in (("a", "red", 1200), ("b", "red", 34), ("c", "blue", 7)):
        ed.post_json("/api/v1/things", {"name": name, "colour": colour, "size": size}, status=201)
    rep = ed.post_json("/api/v1/_reports", {"name": "Colours", "spec": SPEC}, status=201).json
    return ed, rep


def test_the_pdf_holds_the_company_the_figures_and_the_readers_language(report, api, dbsession):
    ed, rep = report
    url = f"/api/v1/_reports/{rep['id']}/export"
    res = ed.get(url, {"format": "pdf"})
    assert res.content_type == "application/pdf"
    assert res.content_disposition == 'attachment; filename="Colours.pdf"'
    text = pdf_text(res.body)
    assert "Kyklos Trading S.A." in text and "EL123456789" in text
    assert "Colours" in text and "Page 1 of 1" in text
    assert "Number of records" in text and "Sum of Size" in text
    lines = text.splitlines()
    # the table: each colour with its count and its sum, as the reader writes numbers
    assert any("red" in ln and "2" in ln and "1,234" in ln for ln in lines), text
    assert any("blue" in ln and "1" in ln and "7" in ln for ln in lines), text
    # the chart: the measure it draws, its whole-number axis, a bar per colour with its
    # value over it
    chart = text.split("Number of records", 1)[1].split("Sum of Size")[0].split()
    assert chart == ["0", "1", "2", "2", "red", "1", "blue"], text
    # and the sum on an axis of its own, not squashed beside the counts
    chart = text.split("Sum of Size", 1)[1].split("Colour")[0].split()
    assert chart == ["0", "500", "1,000", "1,500", "1,234", "red", "7", "blue"], text
    # in Greek: the words and the numbers as Greek writes them
    with dbsession() as db:
        db.get(User, ed.user_id).locale = "el"
    el = pdf_text(ed.get(url, {"format": "pdf"}).body)
    assert "Πλήθος εγγραφών" in el and "1.234" in el and "Σελίδα 1 από 1" in el
    # the export permission is needed, like for CSV; an unknown format is named
    reader = api("thingsreader")
    ed.patch_json(f"/api/v1/_reports/{rep['id']}", {"shared_roles": ["thingsreader"]})
    reader.get(url, {"format": "pdf"}, status=403)
    bad = ed.get(url, {"format": "doc"}, status=400).json
    assert bad["errors"][0]["field"] == "format"


def test_the_report_page_downloads_the_pdf(report, client):
    ed, rep = report
    ed.patch_json(f"/api/v1/_reports/{rep['id']}", {"shared_roles": ["thingseditor"]})
    web = client("thingseditor")
    page = web.get(f"/reports/{rep['id']}")
    assert page.html.find(id="report-pdf") is not None
    form = page.forms["report-form"] if "report-form" in page.forms else page.forms[0]
    res = form.submit("action", value="pdf")
    assert res.content_type == "application/pdf"
    assert "1,234" in pdf_text(res.body)
    # the saved report's export link too
    res = web.get(f"/reports/{rep['id']}/export", {"format": "pdf"})
    assert "Kyklos Trading S.A." in pdf_text(res.body)


def test_a_schedule_can_attach_the_pdf(report, registry, dbsession, smtp_server):
    ed, rep = report
    url = f"/api/v1/_reports/{rep['id']}/schedules"
    bad = ed.post_json(
        url, {"user_id": ed.user_id, "frequency": "daily", "attach_pdf": "yes"}, status=400
    ).json
    assert {e["field"] for e in bad["errors"]} == {"attach_pdf"}
    got = ed.post_json(
        url, {"user_id": ed.user_id, "frequency": "daily", "attach_pdf": True}, status=201
    ).json
    assert got["attach_pdf"] is True

    class Ctx:
        pass

    ctx = Ctx()
    ctx.registry = registry
    with dbsession() as db:
        ctx.dbsession = db
        out = deliver_due(ctx, dt.datetime(2030, 1, 7, 9, 0, tzinfo=UTC).isoformat())
    assert out["sent"] == 1
    (msg,) = smtp_server.wait(1)
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1 and parts[0].get_filename() == "Colours.pdf"
    text = pdf_text(parts[0].get_content())
    assert "Kyklos Trading S.A." in text and "1,234" in text
    # the body still holds the table for readers without the attachment
    assert "red | 2 | 1,234" in msg.get_body(("plain",)).get_content()
    # without the option: no attachment
    ed.post_json(url, {"user_id": ed.user_id, "frequency": "daily"}, status=201)
    smtp_server.messages.clear()
    with dbsession() as db:
        ctx.dbsession = db
        out = deliver_due(ctx, dt.datetime(2030, 1, 8, 9, 0, tzinfo=UTC).isoformat())
    (msg,) = smtp_server.wait(1)
    assert not list(msg.iter_attachments())
    with dbsession() as db:
        from kyklos.reports.schedules import ReportSchedule

        assert db.execute(select(ReportSchedule.attach_pdf)).scalar_one() is False


def test_the_page_schedules_a_delivery_with_the_pdf(report, client, dbsession):
    from kyklos.reports import Report
    from kyklos.reports.schedules import ReportSchedule

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
    assert web.get(f"/reports/{rid}").html.find(id="schedule-pdf") is not None
    with dbsession() as db:
        author = db.get(Report, rid).created_by_id
    web.post(
        f"/reports/{rid}",
        {
            **form,
            "schedule_frequency": "weekly",
            "schedule_user": str(author),
            "schedule_pdf": "1",
            "action": "schedule",
        },
        status=302,
    )
    assert "with a PDF" in web.get(f"/reports/{rid}").html.find(id="report-schedules").text
    with dbsession() as db:
        assert db.execute(select(ReportSchedule.attach_pdf)).scalar_one() is True
