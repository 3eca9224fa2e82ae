"""Birthdays by day of the year in the persons list, in real Chromium, in English and
Greek: under "More filters" the birth date offers day and month drop-downs (months in
words); 20 December to 10 January finds a year-less 31 December and a 5 January of a
known year, and nothing else."""

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "locale,december,january,more",
    [
        ("en", "December", "January", "More filters"),
        ("el", "Δεκέμβριος", "Ιανουάριος", "Περισσότερα φίλτρα"),
    ],
)
def test_birthdays_across_the_year_end(
    page, live_server, make_user, api, locale, december, january, more
):
    a = api("manager")
    for last, day in (("Noyear", "--12-31"), ("Known", "2001-01-05"), ("Outside", "1990-12-16")):
        a.post_json(
            "/api/v1/persons",
            {"first_name": "Ann", "last_name": last, "birth_date": day},
            status=201,
        )
    make_user(email=f"bdf.{locale}@example.com", roles=("manager",), locale=locale)
    page.goto(f"{live_server}/login")
    page.fill("#email", f"bdf.{locale}@example.com")
    page.fill("#password", PASSWORD)
    page.locator("form [type=submit]").last.click()
    expect(page.locator(".k-navbar")).to_be_visible()

    page.goto(f"{live_server}/persons/")
    page.locator("#k-more-filters summary").click()
    page.select_option("#fad-birth_date", "20")
    page.select_option("#fam-birth_date", label=december)
    page.select_option("#ftd-birth_date", "10")
    page.select_option("#ftm-birth_date", label=january)
    page.locator("#k-filters button[type=submit]").click()
    expect(page.locator("#fam-birth_date option:checked")).to_have_text(december)
    expect(page.locator("#ftm-birth_date option:checked")).to_have_text(january)
    main = page.locator("main").inner_text()
    assert "Noyear" in main and "Known" in main and "Outside" not in main
    page.locator("#fam-birth_date").scroll_into_view_if_needed()
    save_screenshot(page, f"birthday-filter-{locale}")
