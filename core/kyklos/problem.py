"""RFC 9457 problem details for API errors."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPException
from pyramid.response import Response

from kyklos.i18n import translate

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """Raise from an API view to answer with problem+json.

    ``errors`` maps each bad field (dotted path for nested fields) to its message.
    """

    def __init__(
        self,
        status: int,
        title,
        detail=None,
        errors: dict | None = None,
        type_: str = "about:blank",
        headers: dict | None = None,
        **extra,
    ):
        super().__init__(str(title))
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or {}
        self.type = type_
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    request,
    status: int,
    title,
    detail=None,
    errors=None,
    type_="about:blank",
    headers=None,
    **extra,
) -> Response:
    body = {"type": type_, "title": translate(request, title), "status": status}
    if detail:
        body["detail"] = translate(request, detail)
    if errors:
        body["errors"] = [{"field": k, "detail": translate(request, v)} for k, v in errors.items()]
    body.update(extra)
    resp = Response(json_body=body, status=status, content_type=MEDIA_TYPE, charset="utf-8")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def problem_view(exc, request):
    return problem_response(
        request, exc.status, exc.title, exc.detail, exc.errors, exc.type, exc.headers, **exc.extra
    )


def http_exception_problem(exc: HTTPException, request):
    return problem_response(
        request,
        exc.code,
        exc.title,
        exc.detail or None,
        headers={
            k: v
            for k, v in exc.headers.items()
            if k.lower() in ("allow", "retry-after", "www-authenticate")
        },
    )
