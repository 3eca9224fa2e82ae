"""Requests that cannot be read are refused at the door with a 400, before any view,
session or locale negotiation touches them: an address or query that is not UTF-8, a
form body that is not UTF-8, a multipart body without its boundary. Found by fuzzing
every route; refused here once rather than in each view."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes, urlencode

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


def _utf8_text(value: str) -> str | None:
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None


def drop_undecodable_fields(body: bytes) -> bytes:
    """The form without the fields whose name or value is not UTF-8, as a UTF-8 form."""
    fields = []
    for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
        k, v = _utf8_text(key), _utf8_text(value)
        if k is not None and v is not None:
            fields.append((k, v))
    return urlencode(fields).encode()


def add_lenient_form_path(config, prefix: str) -> None:
    """Forms posted under ``prefix`` lose their fields that are not UTF-8 instead of being
    refused whole: for machines that post raw bytes in some field (an SMS gateway sends a
    message's UTF-16 text as ``content`` beside its hex in ``binary``) and would retry a
    refused request forever. The views there read what is left as a normal form."""
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError(f"add_lenient_form_path: {prefix!r} must start and end with '/'")
    reg = config.registry
    reg.kyklos_lenient_form_paths = (*getattr(reg, "kyklos_lenient_form_paths", ()), prefix)


def _lenient(request) -> bool:
    paths = getattr(request.registry, "kyklos_lenient_form_paths", ())
    return bool(
        paths
        and request.method == "POST"
        and request.environ.get("PATH_INFO", "").startswith(paths)
        and request.content_type == "application/x-www-form-urlencoded"
        and (request.content_length or 0) <= _FORM_CHECK_BYTES
    )


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
        detail = problem_in(request.environ)
        if detail is None and _lenient(request):
            request.body = drop_undecodable_fields(request.body)
        detail = detail or form_problem(request)
        if detail is not None:
            response = _refuse(request, detail)
            response.headers.update(_HEADERS)
            return response
        return handler(request)

    return tween
