"""Helpers of the customer portal's tests (a module of its own: ``from conftest import``
finds whichever conftest was imported first when the whole suite runs)."""

from __future__ import annotations

import re

STRONG = "correct horse battery staple"


def invitation_link(message) -> str:
    body = message.get_body(("plain",)).get_content()
    found = re.search(r"https?://\S+/portal/welcome\?token=\S+", body)
    assert found, body
    return found.group(0)


def form_csrf(res) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', res.text)
    assert m, res.text[:500]
    return m.group(1)
