"""Helpers of the SMS plugin's tests."""

from __future__ import annotations


def make_person(admin, first="Eleni", last="Papadopoulou", mobile="+306912345678", **extra):
    body = {"first_name": first, "last_name": last, **extra}
    if mobile:
        body["phones"] = [{"type": "mobile", "number": mobile, "primary": True}]
    res = admin.post_json("/api/v1/persons", body)
    return res.json


def errs(res) -> dict:
    """The problem+json's errors by field."""
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}
