"""The sales API in ``/api/openapi.json`` (``config.add_openapi_paths``)."""

from __future__ import annotations

from kyklos_sdk import openapi as o

from ..kpi import KPIS
from .quotes import CLONE_MODES

DATE = o.DATE
ID = o.path_id()
MONEY = {"type": ["object", "null"]}
TAG = "Sales"
#: bodies checked against the lead's duplicates and the stages: a schema-valid body may
#: still be refused (400 naming the field)
SEMANTIC = o.SEMANTIC

_problems = o.problems


def _ok(schema: dict, status: str = "200", description: str = "ok") -> dict:
    return {status: o.json_ok(schema, description)}


def _q(name: str, schema: dict) -> dict:
    return o.param(name, schema)


def _op(op_id: str, responses: dict, summary: str = "", **more) -> dict:
    return o.operation(TAG, op_id, responses, summary, **more)


def openapi_paths(request) -> dict:
    party = {
        "oneOf": [
            {"type": "string", "enum": ["create", "new"]},
            {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        ]
    }
    convert = {
        "type": "object",
        "properties": {
            "account": {"oneOf": [*party["oneOf"], {"const": "none"}]},
            "person": party,
            "opportunity": {"type": "boolean"},
            "opportunity_name": {"type": "string", "maxLength": 200},
            "amount": {
                "type": "object",
                "properties": {
                    "amount": {"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$"},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                },
                "required": ["amount", "currency"],
                "additionalProperties": False,
            },
            "expected_close": DATE,
            "stage_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        },
        "additionalProperties": False,
    }
    match = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "match": {"type": "array"}},
        "required": ["id", "match"],
    }
    record = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}},
        "required": ["id", "version"],
    }
    return {
        "/api/v1/sfa/kpi/{name}": {
            "get": _op(
                "sfa_kpi",
                {**_ok({"type": "object"}), **_problems("400", "401", "403", "404")},
                "A sales KPI over a date range (default: the last 12 months)",
                parameters=[
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": sorted(KPIS)},
                    },
                    _q("from", DATE),
                    _q("to", DATE),
                ],
                **SEMANTIC,  # "to" before "from" is a 400
            )
        },
        "/api/v1/sfa/forecast": {
            "get": _op(
                "sfa_forecast",
                {**_ok({"type": "object"}), **_problems("400", "401", "403")},
                "Quota, committed and best-case totals for a period, per owner or team",
                parameters=[
                    _q(
                        "period",
                        {
                            "type": "string",
                            "pattern": r"^20[0-9]{2}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$",
                        },
                    ),
                    _q("group", {"type": "string", "enum": ["owner", "team"]}),
                ],
            )
        },
        "/api/v1/sfa/pipeline": {
            "get": _op(
                "sfa_pipeline",
                {
                    **_ok(
                        {
                            "type": "object",
                            "properties": {
                                "currency": {"type": "string"},
                                "missing_rates": {"type": "array", "items": {"type": "string"}},
                                "columns": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "stage_id": {"type": "integer"},
                                            "title": {"type": "string"},
                                            "count": {"type": "integer"},
                                            "total": MONEY,
                                            "weighted": MONEY,
                                            "cards": {
                                                "type": "array",
                                                "items": {"type": "integer"},
                                            },
                                        },
                                        "required": ["stage_id", "count", "cards"],
                                    },
                                },
                            },
                            "required": ["currency", "missing_rates", "columns"],
                        }
                    ),
                    **_problems("400", "401", "403"),
                },
                "The opportunity board: per stage count, totals and card ids",
                parameters=[
                    _q("owner", {"type": "string", "pattern": "^[0-9]{1,9}$"}),
                    _q("team", {"type": "string", "pattern": "^[0-9]{1,9}$"}),
                    _q("close_from", DATE),
                    _q("close_to", DATE),
                ],
            )
        },
        "/api/v1/leads/{id}/duplicates": {
            "get": _op(
                "sfa_lead_duplicates",
                {
                    **_ok(
                        {
                            "type": "object",
                            "properties": {
                                "accounts": {"type": "array", "items": match},
                                "persons": {"type": "array", "items": match},
                            },
                            "required": ["accounts", "persons"],
                        }
                    ),
                    **_problems("401", "403", "404"),
                },
                "Accounts and persons the lead may duplicate, with why",
                parameters=[ID],
            )
        },
        "/api/v1/leads/{id}/convert": {
            "post": _op(
                "sfa_convert_lead",
                {
                    **_ok(
                        {
                            "type": "object",
                            "properties": {
                                "lead_id": {"type": "integer"},
                                "account_id": {"type": ["integer", "null"]},
                                "person_id": {"type": ["integer", "null"]},
                                "opportunity_id": {"type": ["integer", "null"]},
                            },
                            "required": ["lead_id"],
                        },
                        "201",
                        "converted",
                    ),
                    **_problems("400", "401", "403", "404", "409", "413", "415"),
                },
                "Convert a lead: link or create the account and person, open an opportunity",
                parameters=[ID],
                requestBody={
                    "required": True,
                    "content": {"application/json": {"schema": convert}},
                },
                **SEMANTIC,
            )
        },
        "/api/v1/quotes/{id}/clone": {
            "post": _op(
                "sfa_clone_quote",
                {
                    "201": {
                        "description": "the new quote",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": record}},
                    },
                    **_problems("400", "401", "403", "404", "413", "415"),
                },
                "A new revision, variant or copy of a quote with its lines",
                parameters=[ID],
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "mode": {"type": "string", "enum": list(CLONE_MODES)},
                                    "variant": {"type": "string", "maxLength": 10},
                                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                                },
                                "additionalProperties": False,
                            }
                        }
                    },
                },
            )
        },
        "/api/v1/quotes/from-template": {
            "post": _op(
                "sfa_quote_from_template",
                {
                    "201": {
                        "description": "the new quote; its product lines priced from the catalog",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": record}},
                    },
                    **_problems("400", "401", "403", "413", "415"),
                },
                "A new quote from an offer template, on an opportunity or for an account",
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "template_id": {"type": "integer", "minimum": 1},
                                    "opportunity_id": {"type": "integer", "minimum": 1},
                                    "account_id": {"type": "integer", "minimum": 1},
                                    "person_id": {"type": "integer", "minimum": 1},
                                    "title": {"type": "string", "maxLength": 200},
                                },
                                "required": ["template_id"],
                                "additionalProperties": False,
                            }
                        }
                    },
                },
                **SEMANTIC,
            )
        },
        "/api/v1/quotes/{id}/save-as-template": {
            "post": _op(
                "sfa_quote_save_as_template",
                {
                    "201": {
                        "description": "the new offer template",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": record}},
                    },
                    **_problems("400", "401", "403", "404", "413", "415"),
                },
                "A new offer template from a quote: its texts and lines, without prices",
                parameters=[ID],
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"name": {"type": "string", "maxLength": 200}},
                                "additionalProperties": False,
                            }
                        }
                    },
                },
            )
        },
        "/api/v1/quotes/{id}/line-price": {
            "get": _op(
                "sfa_quote_line_price",
                {
                    **_ok(
                        {
                            "type": "object",
                            "properties": {
                                "product_id": {"type": "integer"},
                                "description": {"type": "string"},
                                "details": {"type": "string"},
                                "unit": {"type": "string"},
                                "unit_title": {"type": "string"},
                                "tax_rate": {"type": "string"},
                                "unit_price": {"type": ["string", "null"]},
                                "unit_price_text": {"type": ["string", "null"]},
                                "currency": {"type": "string"},
                                "price_note": {"type": "string"},
                            },
                        }
                    ),
                    **_problems("400", "401", "403", "404"),
                },
                "What a line of this quote with that product would take from the catalog",
                parameters=[
                    ID,
                    o.param("product_id", {"type": "integer", "minimum": 1}, required=True),
                    _q("quantity", {"type": "string"}),
                ],
            )
        },
        "/api/v1/quotes/{id}/reprice": {
            "post": _op(
                "sfa_quote_reprice",
                {
                    **_ok(
                        {
                            "type": "object",
                            "properties": {"changed": {"type": "integer"}, "quote": record},
                        }
                    ),
                    **_problems("401", "403", "404"),
                },
                "Price every product line of the quote again from the catalog",
                parameters=[ID],
            )
        },
        "/api/v1/quotes/{id}/margin": {
            "get": _op(
                "sfa_quote_margin",
                {
                    **_ok(
                        {
                            "type": "object",
                            "properties": {
                                "currency": {"type": "string"},
                                "margin": {"type": "string"},
                                "margin_percent": {"type": ["string", "null"]},
                                "lines_without_cost": {"type": "integer"},
                                "lines": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "integer"},
                                            "margin": {"type": ["string", "null"]},
                                            "margin_percent": {"type": ["string", "null"]},
                                        },
                                    },
                                },
                            },
                        }
                    ),
                    **_problems("401", "403", "404"),
                },
                "Margin per line and for the quote (only for who may read product costs)",
                parameters=[ID],
            )
        },
        "/api/v1/quotes/{id}/pdf": {
            "get": _op(
                "sfa_quote_pdf",
                {
                    "200": {
                        "description": "the quote as PDF; with variants=all, the offer's "
                        "variants side by side in one document",
                        "content": {
                            "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **_problems("400", "401", "403", "404"),
                },
                parameters=[
                    ID,
                    {
                        "name": "variants",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["all"]},
                    },
                ],
            )
        },
    }
