"""Record visibility and field access: the one filter every path applies.

Interface used by the entity registry (lists, detail, related lists, search, export,
reports, API and jobs all go through these functions):

``visibility_clause(request, et, action)``  SQL criterion for records the user may
    ``action`` ("read", "update", "delete", ...); ``True`` means all, ``False`` none
``can_access(request, et, record, action)``  the same decision for one loaded record
``field_access(request, et)``               ``(readable, writable)`` field-name sets

This first version grants by permission only; record rules (own / team / department /
subtree / territory / all), delegation and field-level permissions replace it.
"""

from __future__ import annotations

from sqlalchemy import false, true


def _allowed(request, et, action: str) -> bool:
    verb = action if action in et.permissions else "read"
    return bool(request.has_permission(et.permission(verb)))


def visibility_clause(request, et, action: str = "read"):
    return true() if _allowed(request, et, action) else false()


def can_access(request, et, record, action: str = "read") -> bool:
    return _allowed(request, et, action)


def field_access(request, et) -> tuple[set[str], set[str]]:
    readable = set(et.fields)
    writable = {f.name for f in et.writable_fields()}
    return readable, writable
