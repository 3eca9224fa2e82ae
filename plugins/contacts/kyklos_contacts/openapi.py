"""The plugin's own API routes in the OpenAPI document (records have theirs from the
entity registry)."""

from __future__ import annotations

from kyklos_sdk import openapi as o


def contacts_paths(request) -> dict:
    vcard = "text/vcard"
    person = [o.path_id()]
    return {
        "/api/v1/persons/{id}/vcard": {
            "get": o.operation(
                "Contacts",
                "person_vcard",
                {"200": o.file_response(vcard, "vCard 4.0"), **o.problems("401", "403", "404")},
                parameters=person,
            )
        },
        "/api/v1/persons/_export/vcard": {
            "get": o.operation(
                "Contacts",
                "export_vcards",
                {
                    "200": o.file_response(vcard, "the persons as vCards"),
                    **o.problems("400", "401", "403"),
                },
                summary="The persons a list query selects, as one vCard file",
                **o.SEMANTIC,
            )
        },
        "/api/v1/persons/_import/vcard": {
            "post": o.operation(
                "Contacts",
                "import_vcards",
                {
                    "200": o.json_ok(o.ANY),
                    "201": o.json_ok(o.ANY),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                body=o.multipart(file=o.BINARY),
                **o.SEMANTIC,
            )
        },
        "/api/v1/{slug}/{id}/relationships": {
            "get": o.operation(
                "Contacts",
                "list_relationships",
                {"200": o.json_ok(o.ANY), **o.problems("401", "403", "404")},
                parameters=[
                    o.param("slug", {"type": "string", "enum": ["persons", "accounts"]}, "path"),
                    o.path_id(),
                ],
            )
        },
        "/api/v1/_occasions": {
            "get": o.operation(
                "Contacts",
                "list_occasions",
                {"200": o.json_ok(o.ANY), **o.problems("400", "401", "403")},
                summary="Birthdays and anniversaries coming up",
                **o.SEMANTIC,
            )
        },
        "/api/v1/persons/{id}/consent": {
            "get": o.operation(
                "Contacts",
                "person_consent",
                {"200": o.json_ok(o.ANY), **o.problems("401", "403", "404")},
                summary="The person's marketing consent and its history",
                parameters=person,
            )
        },
    }
