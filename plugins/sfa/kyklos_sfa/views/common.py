"""Small helpers the sales views share."""

from __future__ import annotations

import datetime as dt
import json

from pyramid.response import Response

from kyklos_sdk import Problem

from .. import _


def json_response(body, status: int = 200) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode(),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def parse_date(text, name: str, errors: dict):
    if text in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None


def parse_int(text, name: str, errors: dict):
    if text in (None, ""):
        return None
    if not str(text).isdigit() or len(str(text)) > 18:
        errors[name] = _("Not an integer.")
        return None
    return int(text)


def check_params(request, allowed) -> None:
    unknown = [k for k in request.GET if k not in allowed and k != "_LOCALE_"]
    if unknown:
        raise Problem(400, _("Invalid parameters"),
                      errors={k[:50]: _("Unknown parameter.") for k in unknown})
