"""A write the database refuses (a duplicate, a missing or still-used reference, a
required value left out) is the client's error, not the server's: 409 or 400 in
problem+json naming the field, whichever view or path reached the database.

The violated constraint is read from the error and the metadata, never by a query.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from kyklos.db import Base
from kyklos.i18n import _
from kyklos.problem import problem_response

_SQLITE = re.compile(r"(UNIQUE|NOT NULL|FOREIGN KEY|CHECK) constraint failed(?::\s*(.*))?", re.I)
#: PostgreSQL SQLSTATE codes of integrity violations
_PG_KIND = {"23505": "UNIQUE", "23503": "FOREIGN KEY", "23502": "NOT NULL", "23514": "CHECK"}


def _entity_of(request, table: str):
    for et in request.registry.kyklos_entities.values():
        if et.model.__table__.name == table:
            return et
    return None


def _referrers(request) -> list:
    """The kinds of records (entity types' plural titles) that still point at the record
    the request tried to delete; SQLite does not name the constraint, so ask."""
    from sqlalchemy import select

    slug, rid = request.matchdict.get("slug") if request.matchdict else None, None
    if request.matchdict and str(request.matchdict.get("id", "")).isdigit():
        rid = int(request.matchdict["id"])
    et = request.registry.kyklos_entity_slugs.get(slug or "")
    if et is None or rid is None:
        return []
    target = et.model.__table__
    out = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            found = request.dbsession.execute(
                select(fk.parent).where(fk.parent == rid).limit(1)
            ).first()
            if found is not None:
                user = _entity_of(request, table.name)
                title = user.plural if user is not None else table.name
                if title not in out:
                    out.append(title)
    return out


def _missing_references(request) -> list[str]:
    """The reference fields of the request's body that point at no record (SQLite does
    not name the failed constraint)."""
    from sqlalchemy import select

    slug = request.matchdict.get("slug") if request.matchdict else None
    et = request.registry.kyklos_entity_slugs.get(slug or "")
    try:
        body = request.json_body
    except ValueError:
        return []
    if et is None or not isinstance(body, dict):
        return []
    out = []
    for fk in et.model.__table__.foreign_keys:
        value = body.get(fk.parent.name)
        if isinstance(value, int) and not isinstance(value, bool):
            hit = request.dbsession.execute(
                select(fk.column).where(fk.column == value).limit(1)
            ).first()
            if hit is None:
                out.append(fk.parent.name)
    return out


def violation(exc: IntegrityError) -> tuple[str, str, list[str]]:
    """``(kind, table, columns)`` of the violated constraint, as far as the database
    tells (SQLite names the columns of UNIQUE and NOT NULL only)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if diag is not None and sqlstate in _PG_KIND:
        kind = _PG_KIND[sqlstate]
        table = diag.table_name or ""
        columns = [diag.column_name] if diag.column_name else []
        name = diag.constraint_name
        t = Base.metadata.tables.get(table)
        if name and t is not None:
            for c in t.constraints | set(t.indexes):
                if c.name == name:
                    columns = [col.name for col in c.columns]
                    if kind == "FOREIGN KEY":
                        break
        if not columns and diag.message_detail:
            m = re.search(r"Key \(([^)]+)\)", diag.message_detail)
            if m:
                columns = [c.strip() for c in m.group(1).split(",")]
        return kind, table, columns
    m = _SQLITE.search(str(orig))
    if m is None:
        return "", "", []
    pairs = [p.strip() for p in (m.group(2) or "").split(",") if "." in p]
    table = pairs[0].split(".", 1)[0] if pairs else ""
    return m.group(1).upper(), table, [p.split(".", 1)[1] for p in pairs]


def integrity_error_view(exc: IntegrityError, request):
    kind, table, columns = violation(exc)
    # The failed flush left the session unusable and its objects expired, and the answer
    # needs the user's language (a query for the user): start a clean transaction,
    # which pyramid_tm aborts after this 4xx like any other.
    request.dbsession.rollback()
    deleting = request.method == "DELETE" or request.path.endswith("/_bulk")
    errors = {}
    if kind == "UNIQUE":
        status, title = 409, _("Already exists")
        for col in columns or [""]:
            errors[col] = _("Another record already has this value.")
    elif kind == "FOREIGN KEY" and deleting:
        users = _referrers(request)
        localizer = request.localizer
        detail = (
            _(
                "Other records still refer to it: ${what}.",
                mapping={"what": ", ".join(localizer.translate(u) for u in users)},
            )
            if users
            else _("Other records still refer to it.")
        )
        return problem_response(request, 409, _("Still in use"), detail)
    elif kind == "FOREIGN KEY":
        status, title = 400, _("Invalid data")
        for col in columns or _missing_references(request) or [""]:
            errors[col] = _("No such record.")
    elif kind == "NOT NULL":
        status, title = 400, _("Invalid data")
        for col in columns or [""]:
            errors[col] = _("Required.")
    else:
        status, title = 400, _("Invalid data")
        errors[""] = _("The database refused the values.")
    return problem_response(request, status, title, errors=errors)


def bad_csrf_view(exc, request):
    """A client of the API gets problem+json like every other refusal; a page gets the
    usual error response."""
    from kyklos.web import wants_json

    if wants_json(request):
        return problem_response(
            request,
            400,
            _("Bad request"),
            _("The CSRF token is missing or wrong: reload the page, or use an API token."),
        )
    return exc


def includeme(config):
    from pyramid.exceptions import BadCSRFToken

    config.add_exception_view(integrity_error_view, context=IntegrityError)
    config.add_exception_view(bad_csrf_view, context=BadCSRFToken)
