"""The staff API of portal logins in the OpenAPI document."""

from __future__ import annotations


def portal_paths(request) -> dict:
    from kyklos.entities import openapi as o

    login = o.obj(
        {
            "id": {"type": "integer"},
            "record_id": {"type": "integer"},
            "record_title": o.nullable({"type": "string"}),
            "email": {"type": "string"},
            "status": {"type": "string", "enum": ["invited", "active", "disabled"]},
            "invited_at": o.nullable({"type": "string", "format": "date-time"}),
            "accepted_at": o.nullable({"type": "string", "format": "date-time"}),
            "last_login_at": o.nullable({"type": "string", "format": "date-time"}),
        },
        ["id", "record_id", "email", "status"],
    )
    return {
        "/api/v1/_portal/accounts": {
            "get": o.operation(
                "Portal",
                "list_portal_logins",
                {
                    "200": o.json_ok(o.obj({"items": o.array(login)}, ["items"])),
                    **o.problems("401", "403", "404"),
                },
                summary="Customers' portal logins of the people you may see",
            ),
            "post": o.operation(
                "Portal",
                "invite_to_portal",
                {
                    "201": o.json_ok(login, "invited: the e-mail with the link is sent"),
                    **o.problems("400", "401", "403", "404"),
                },
                summary="Invite a person to the customer portal (or renew a pending link)",
                body=o.json_body(o.obj({"record_id": o.INT_ID}, ["record_id"])),
            ),
        },
        "/api/v1/_portal/accounts/{id}/{action}": {
            "post": o.operation(
                "Portal",
                "portal_login_action",
                {"200": o.json_ok(login), **o.problems("400", "401", "403", "404")},
                summary="Disable, re-enable a portal login, or send a new password link",
                parameters=[
                    o.path_id(),
                    o.param(
                        "action",
                        {"type": "string", "enum": ["disable", "enable", "reset"]},
                        where="path",
                        required=True,
                    ),
                ],
            ),
        },
    }
