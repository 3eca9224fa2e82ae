"""Requests that cannot be read are refused at the door with a 400, before any view,
session or locale negotiation touches them: an address or query that is not UTF-8, a
form body that is not UTF-8, a multipart body without its boundary. Found by fuzzing
every route; refused here once rather than in each view."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from pyramid.response import Response

from kyklos.problem import MEDIA_TYPE

#: form bodies larger than this are left to the views' own limits
_FORM_CHECK_BYTES = 1024 * 1024


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def problem_in(environ) -> str | None:
    """What makes the request unreadable, or ``None``."""
    # PEP 3333: PATH_INFO holds the raw bytes decoded as latin-1
    path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    if not _utf8(path):
        return "The address is not valid UTF-8."
    query = environ.get("QUERY_STRING", "")
    if query and not _utf8(unquote_to_bytes(query.replace("+", " "))):
        return "The query string is not valid UTF-8."
    ctype = environ.get("CONTENT_TYPE", "").lower()
    if ctype.startswith("multipart/") and "boundary=" not in ctype:
        return "A multipart body needs a boundary."
    return None


def form_problem(request) -> str | None:
    if request.content_type != "application/x-www-form-urlencoded":
        return None
    length = request.content_length or 0
    if length > _FORM_CHECK_BYTES:
        return None
    if not _utf8(unquote_to_bytes(request.body.replace(b"+", b" "))):
        return "The form is not valid UTF-8."
    return None


def _refuse(request, detail: str) -> Response:
    # The request cannot be read, so neither can its language preference from the
    # query or the session: the answer is in English, as HTTP's own reason phrases are.
    if request.environ.get("PATH_INFO", "").startswith("/api/"):
        body = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": detail}
        return Response(json_body=body, status=400, content_type=MEDIA_TYPE, charset="utf-8")
    return Response(f"Bad Request: {detail}\n", status=400, content_type="text/plain")


_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def sanity_tween_factory(handler, registry):
    def tween(request):
        detail = problem_in(request.environ) or form_problem(request)
        if detail is not None:
            response = _refuse(request, detail)
            response.headers.update(_HEADERS)
            return response
        return handler(request)

    return tween
