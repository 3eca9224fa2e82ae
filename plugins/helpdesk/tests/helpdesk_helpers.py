"""Helpers shared by the helpdesk's tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import re

PROBLEM = "application/problem+json"
#: the password portal users of the tests choose
STRONG = "correct horse battery staple"


def errors_of(res) -> dict:
    """``{field: detail}`` of a problem+json response."""
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def csrf_of(res) -> str:
    """The CSRF token of the form on a page."""
    m = re.search(r'name="csrf_token" value="([^"]+)"', res.text)
    assert m, res.text[:500]
    return m.group(1)
