"""Shared helpers of the contacts tests."""

from __future__ import annotations


def error_fields(res) -> dict:
    """``{field: detail}`` of a problem+json response."""
    assert res.content_type == "application/problem+json", res.content_type
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def new_account(api, **data):
    body = {"name": "ACME", **data}
    return api.post_json("/api/v1/accounts", body).json


def new_person(api, **data):
    body = {"first_name": "Maria", "last_name": "Nikolaou", **data}
    return api.post_json("/api/v1/persons", body).json


def type_id(api, code: str) -> int:
    """The id of a relationship type by code (the defaults exist once a page or the API
    endpoint for relationships was used, or from the migration)."""
    items = api.get("/api/v1/relationship-types", {"code": code}).json["items"]
    assert items, f"no relationship type {code}"
    return items[0]["id"]
