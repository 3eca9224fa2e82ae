"""The availability finder skips the public holidays of the user's country (here: their
time zone's; the deployment's ``kyklos.activities.country`` for users without one):
Orthodox Easter in Greece and Romania, Catholic Easter and 3 May in Poland, through the
API and the page."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

ATHENS = ZoneInfo("Europe/Athens")

#: country -> first working day from Friday 30 April 2027 (Orthodox Good Friday, then
#: 1 May, Easter Sunday 2 May, Easter Monday 3 May; Greece moves Labour Day to 4 May),
#: and from Monday 29 March 2027 (Catholic Easter Monday)
EXPECTED = {
    "GR": ("2027-05-05", "2027-03-29"),
    "RO": ("2027-05-04", "2027-03-29"),
    "PL": ("2027-04-30", "2027-03-30"),
}


@pytest.fixture(params=sorted(EXPECTED))
def country(request):
    return request.param


#: a time zone of each country: a user there has its holidays
ZONES = {"GR": "Europe/Athens", "RO": "Europe/Bucharest", "PL": "Europe/Warsaw"}


def _in_country(dbsession, email, country):
    from sqlalchemy import select

    from kyklos_sdk import User

    with dbsession() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        user.timezone = ZONES[country]


@pytest.fixture
def kyklos_settings(country):
    # Greece is the plugin's default: that case runs on the default app.
    return {} if country == "GR" else {"kyklos.activities.country": country}


def _first_day(app, start: str) -> str:
    res = app.get("/api/v1/activities/_availability", {
        "duration": "60", "from": start, "to": "2027-05-10", "limit": "1"})
    first = dt.datetime.fromisoformat(res.json["slots"][0]["start"].replace("Z", "+00:00"))
    return first.astimezone(ATHENS).date().isoformat()


def test_first_free_day_follows_the_country(api, client, country, dbsession):
    after_easter, after_catholic_easter = EXPECTED[country]
    rep = api("sales", email=f"rep-{country.lower()}@example.com")
    _in_country(dbsession, f"rep-{country.lower()}@example.com", country)
    assert _first_day(rep, "2027-04-30") == after_easter
    assert _first_day(rep, "2027-03-29") == after_catholic_easter
    web = client("sales")
    _in_country(dbsession, web.email, country)
    page = web.get("/activities/availability", {
        "duration": "60", "from": "2027-04-30", "to": "2027-05-10"})
    first = page.html.select_one("form[action$='/activities/book'] [name=slot]")["value"]
    start = dt.datetime.fromisoformat(first.split("|")[0])
    assert start.astimezone(ATHENS).date().isoformat() == after_easter
