"""The analytics API in ``/api/openapi.json``."""

from __future__ import annotations

from kyklos_sdk import openapi as o

from .rfm import SEGMENT_WORDS

TAG = "Sales"
SCORE = {"type": "string", "enum": ["1", "2", "3", "4", "5"]}


def _op(op_id, responses, summary, **more):
    return o.operation(TAG, op_id, responses, summary, **more)


def analytics_paths(request) -> dict:
    obj = {"type": "object"}
    return {
        "/api/v1/sfa/rfm": {
            "get": _op(
                "sfa_rfm",
                {"200": o.json_ok(obj, "ok"), **o.problems("400", "401", "403")},
                "Accounts scored by recency, frequency and monetary value of won deals",
                parameters=[
                    o.param("r", SCORE),
                    o.param("f", SCORE),
                    o.param("m", SCORE),
                    o.param("segment", {"type": "string", "enum": sorted(SEGMENT_WORDS)}),
                ],
            )
        },
        "/api/v1/sfa/opportunities/{id}/win-probability": {
            "get": _op(
                "sfa_win_probability",
                {"200": o.json_ok(obj, "ok"), **o.problems("401", "403", "404")},
                "An open opportunity's chance of being won, with its reasons in words",
                parameters=[o.path_id()],
            )
        },
        "/api/v1/sfa/win-model": {
            "get": _op(
                "sfa_win_model",
                {"200": o.json_ok(obj, "ok"), **o.problems("401", "403")},
                "The win-probability model in use: its basis and calibration",
            ),
            "post": _op(
                "sfa_win_model_train",
                {
                    "200": o.json_ok(obj, "too little history: nothing trained"),
                    "201": o.json_ok(obj, "trained"),
                    **o.problems("401", "403"),
                },
                "Retrain the win-probability model now (administrators)",
            ),
        },
        "/api/v1/sfa/conversion": {
            "get": _op(
                "sfa_conversion",
                {"200": o.json_ok(obj, "ok"), **o.problems("400", "401", "403")},
                "Leads, conversions, opportunities and wins per lead source and segment",
                parameters=[
                    o.param("from", o.DATE),
                    o.param("to", o.DATE),
                    o.param("segment", {"type": "string", "pattern": "^[0-9]{1,9}$"}),
                ],
                **o.SEMANTIC,  # "to" before "from", an unknown segment: a 400
            )
        },
    }
