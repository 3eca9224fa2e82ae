"""The plugin's own API routes in the OpenAPI document (records have theirs from the
entity registry)."""

from __future__ import annotations

from kyklos_sdk import openapi as o


def activities_paths(request) -> dict:
    one = [o.path_id()]
    json_any = o.json_body(o.OBJECT)
    return {
        "/api/v1/activities/_availability": {
            "get": o.operation(
                "Activities",
                "activities_availability",
                {"200": o.json_ok(o.ANY), **o.problems("400", "401", "403")},
                summary="Busy times of users over a range",
                **o.SEMANTIC,
            )
        },
        "/api/v1/activities/_calendar": {
            "get": o.operation(
                "Activities",
                "activities_calendar",
                {"200": o.json_ok(o.ANY), **o.problems("400", "401", "403")},
                summary="Activities in a date range, for a calendar",
                **o.SEMANTIC,
            )
        },
        "/api/v1/activities/_import/ics": {
            "post": o.operation(
                "Activities",
                "import_ics",
                {
                    "200": o.json_ok(o.ANY),
                    "201": o.json_ok(o.ANY),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                body={
                    "required": True,
                    "content": {
                        "text/calendar": {"schema": {"type": "string"}},
                        "application/json": {"schema": o.obj({"ics": {"type": "string"}}, ["ics"])},
                    },
                },
                **o.SEMANTIC,
            )
        },
        "/api/v1/activities/_mass": {
            "post": o.operation(
                "Activities",
                "mass_activity",
                {
                    "201": o.json_ok(
                        o.obj(
                            {
                                "batch": o.ANY,
                                "count": {"type": "integer"},
                                "created": o.array(o.ANY),
                            },
                            ["batch", "count", "created"],
                        )
                    ),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                summary="One activity per person the ids or list filter select",
                body=json_any,
                **o.SEMANTIC,
            )
        },
        "/api/v1/activities/{id}/respond": {
            "post": o.operation(
                "Activities",
                "respond_to_activity",
                {"200": o.json_ok(o.ANY), **o.problems("400", "401", "403", "404", "413", "415")},
                summary="Accept or decline an invitation",
                parameters=one,
                body=json_any,
                **o.SEMANTIC,
            )
        },
        "/api/v1/activities/{id}/move": {
            "post": o.operation(
                "Activities",
                "move_activity",
                {
                    "200": o.json_ok(o.ANY),
                    **o.problems("400", "401", "403", "404", "409", "413", "415"),
                },
                summary='Reschedule: {"date": "2026-05-06", "time": "10:30", ...}',
                parameters=one,
                body=json_any,
                **o.SEMANTIC,
            )
        },
        "/api/v1/activities/{id}/complete": {
            "post": o.operation(
                "Activities",
                "complete_activity",
                {
                    "200": o.json_ok(o.ANY),
                    **o.problems("400", "401", "403", "404", "409", "413", "415"),
                },
                parameters=one,
                body=o.json_body(o.OBJECT, required=False),
                **o.SEMANTIC,
            )
        },
    }
