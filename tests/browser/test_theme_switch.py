"""The same page under the default theme and the white-label "aurora" theme, in real
Chromium: brand name, logo and the navbar's computed colour follow the theme."""

import pytest

pytestmark = pytest.mark.browser

EXPECTED = {
    "default": {
        "brand": "Kyklos",
        "logo": "/_themes/default/logo.svg",
        "navbar": "rgb(31, 41, 55)",
    },
    "aurora": {
        "brand": "Aurora CRM",
        "logo": "/_themes/aurora/logo.svg",
        "navbar": "rgb(59, 7, 100)",
    },
}


@pytest.fixture(params=sorted(EXPECTED))
def kyklos_theme(request):
    return request.param


def test_login_page_follows_the_theme(page, live_server, kyklos_theme):
    page.goto(f"{live_server}/login")
    brand = page.locator(".k-brand span").inner_text()
    logo = page.locator(".k-brand img").get_attribute("src")
    navbar = page.locator("nav.k-navbar").evaluate("el => getComputedStyle(el).backgroundColor")
    page.screenshot(path=f"/tmp/kyklos-theme-{kyklos_theme}.png", full_page=True)

    want = EXPECTED[kyklos_theme]
    other = EXPECTED["aurora" if kyklos_theme == "default" else "default"]
    assert brand == want["brand"] != other["brand"]
    assert logo.endswith(want["logo"]) and not logo.endswith(other["logo"])
    assert navbar == want["navbar"] != other["navbar"]
    # The logo really loads (served from the theme's static folder, allowed by the CSP).
    assert page.locator(".k-brand img").evaluate("img => img.complete && img.naturalWidth > 0")
    # aurora's own login page (a template override) shows its brand panel.
    assert page.locator(".k-aurora-hero").count() == (1 if kyklos_theme == "aurora" else 0)
    # And the page is still the working login form.
    assert page.locator("input[name=email]").is_visible()
