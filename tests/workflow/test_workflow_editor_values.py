"""The workflow editor offers the field's known values for a new state (issue #17,
item 2): a state picked from the drop-down keeps the value's code; a title typed in
Greek that names a known value gets that value's code, not a transliteration; a truly
new state gets a readable code, shown on the page; states read as their translated
titles."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def _form(page):
    return next(f for f in page.forms.values() if "initial" in f.fields)


def _blank_states(form):
    return sorted(
        k[:-6]
        for k in form.fields
        if k.startswith("s") and k.endswith("_title") and not form[k].value
    )


def test_new_states_from_the_fields_values_in_greek(make_user, login, testapp, api):
    make_user(email="wf-el@example.com", roles=("admin",), locale="el")
    login(testapp, "wf-el@example.com")
    page = testapp.get("/admin/workflows/lead")
    known = page.html.select_one("select.k-wf-known")
    options = {o["value"]: o.text for o in known.select("option") if o["value"]}
    # the lead status's values, by their Greek titles
    assert options["qualified"] == "Αξιολογημένος" and options["new"] != "New"
    form = _form(page)
    first, second, *_ = _blank_states(form)
    form[f"{first}_known"] = "new"
    form[f"{second}_title"] = "Αξιολογημένος"  # a known value typed in Greek
    res = form.submit("action", value="preview")
    form = _form(res)
    names = [form[k].value for k in form.fields if k.startswith("s") and k.endswith("_name")]
    assert names == ["new", "qualified"]
    # the rows show the translated titles and the codes
    shown = [d.text for d in res.html.select(".k-wf-state-shown")]
    assert "Αξιολογημένος" in shown[1] and "qualified" in shown[1]
    # a truly new state typed in Greek: a readable code, shown
    third = _blank_states(form)[0]
    form[f"{third}_title"] = "Σε αναμονή"
    res = form.submit("action", value="preview")
    form = _form(res)
    names = [form[k].value for k in form.fields if k.startswith("s") and k.endswith("_name")]
    assert names[2] == "se_anamoni"
    assert "se_anamoni" in res.html.select(".k-wf-state-shown")[2].text
    # known values already used are no longer offered
    left = {o["value"] for o in res.html.select("select.k-wf-known option") if o["value"]}
    assert "new" not in left and "qualified" not in left and "contacted" in left
