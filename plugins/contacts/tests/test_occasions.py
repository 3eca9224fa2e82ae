"""Occasions (CON-09/10, D8): birthdays, anniversaries and name days, with movable
feasts computed per year and calendar."""

from contacts_helpers import new_person


def people(api):
    a = api("manager")
    return {
        "giorgos": new_person(a, first_name="Γιώργος", last_name="Οικονόμου", country="GR",
                              email="giorgos@example.com"),
        "giorgos_latin": new_person(a, first_name="Giorgos", last_name="Makris",
                                    country="GR"),
        "gheorghe": new_person(a, first_name="Gheorghe", last_name="Popa", country="RO"),
        "anna": new_person(a, first_name="Anna", last_name="Nowak", country="PL",
                           birth_date="1980-05-06"),
        "emma": new_person(a, first_name="Emma", last_name="Smith", country="GB",
                           anniversary_date="2010-05-07"),
    }


def names_on_page(page) -> list[str]:
    return [line.split(">", 1)[1].split("<", 1)[0]
            for line in page.text.split('class="k-occasion-person"')[1:]]


def test_name_day_moved_after_orthodox_easter(api, client):
    people(api)
    c = client("sales")
    # 2024: Orthodox Easter on 5 May, so Greeks keep St George on Easter Monday, 6 May;
    # Romanians kept 23 April (in Lent: not moved).
    page = c.get("/contacts/occasions", {"date": "2024-05-06", "range": "today"})
    shown = names_on_page(page)
    assert "Γιώργος Οικονόμου" in shown and "Giorgos Makris" in shown
    assert "Gheorghe Popa" not in shown
    assert "Anna Nowak" in shown  # her 44th birthday
    assert "(44)" in page.text
    page = c.get("/contacts/occasions", {"date": "2024-04-23", "range": "today"})
    shown = names_on_page(page)
    assert "Gheorghe Popa" in shown and "Γιώργος Οικονόμου" not in shown
    # 2023: Orthodox Easter on 16 April, St George on its own day for both.
    shown = names_on_page(c.get("/contacts/occasions", {"date": "2023-04-23",
                                                        "range": "today"}))
    assert {"Γιώργος Οικονόμου", "Giorgos Makris", "Gheorghe Popa"} <= set(shown)


def test_week_and_api(api):
    people(api)
    a = api("sales")
    res = a.get("/api/v1/_occasions", {"date": "2024-05-06", "range": "week"}).json
    found = {(i["person"]["last_name"], i["kind"], i["date"], i["years"]) for i in res["items"]}
    assert ("Nowak", "birthday", "2024-05-06", 44) in found
    assert ("Smith", "anniversary", "2024-05-07", 14) in found
    assert ("Οικονόμου", "name_day", "2024-05-06", None) in found
    assert (res["start"], res["end"]) == ("2024-05-06", "2024-05-12")
    only = a.get("/api/v1/_occasions", {"date": "2024-05-06", "range": "week",
                                        "kind": "birthday"}).json["items"]
    assert {i["kind"] for i in only} == {"birthday"}
    page = a.get("/api/v1/_occasions", {"date": "2024-05-06", "range": "week",
                                        "limit": 1, "offset": 1}).json
    assert page["total"] == len(res["items"]) and len(page["items"]) == 1
    assert page["items"][0] == res["items"][1]
    a.get("/api/v1/_occasions", {"limit": 0}, status=400)
    res = a.get("/api/v1/_occasions", {"range": "custom", "start": "2024-01-01",
                                       "end": "2026-01-01"}, status=400)
    assert res.content_type == "application/problem+json"


def test_a_window_across_new_year(api):
    a = api("manager")
    new_person(a, first_name="Βασίλης", last_name="Μακρής", country="GR",
               birth_date="1970-12-31")
    res = a.get("/api/v1/_occasions", {"range": "custom", "start": "2024-12-30",
                                       "end": "2025-01-02"}).json["items"]
    assert [(i["kind"], i["date"]) for i in res] == [
        ("birthday", "2024-12-31"), ("name_day", "2025-01-01")]


def test_no_channel_is_explained(api, client):
    people(api)
    page = client("sales").get("/contacts/occasions", {"date": "2024-05-06",
                                                       "range": "today"})
    assert "k-no-channel" in page.text
    assert "k-greet" not in page.text


def test_occasions_panel_on_the_person_page(api, client):
    p = people(api)["anna"]
    page = client("sales").get(f"/persons/{p['id']}")
    assert "k-occasion-birthday" in page.text
    assert "k-occasion-name_day" in page.text  # Anna: 26 July in the Polish calendar
