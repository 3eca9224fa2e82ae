"""How the workflow engine writes records: through the entity service, so validation,
lifecycle hooks, optimistic locking and the audit entry apply as on every write path.

Two cases the service's public functions do not cover:

* the status field changes only here (a transition), never through a plain update
  (the ``kyklos_record_validate`` hook in :mod:`kyklos.workflow.runtime` refuses that),
  even when the entity type declares the field read-only for forms;
* an approved transition, an automation action and a parent following its children
  act on the authority of the workflow, not of the person whose request runs them
  (an approver need not hold the update right; a job runs as no user).

Both use the service's validation and ``apply_update`` step (hooks, audit, flush),
skipping only the permission checks the caller made already or that do not apply.
"""

from __future__ import annotations

from kyklos.entities import SYSTEM_FIELDS, RecordError, service, values
from kyklos.i18n import _

#: set on ``request.environ`` while the workflow writes the status field
WRITING = "kyklos.workflow.writing"


def _system_clean(request, et, record, data: dict, source: str) -> dict:
    """Parse ``data`` by field type and run the validation hook, without the user's
    field rights (the caller is the workflow itself)."""
    errors: dict = {}
    clean: dict = {}
    for key, value in (data or {}).items():
        field = et.fields.get(key) if isinstance(key, str) else None
        if field is None:
            errors[str(key)] = _("Unknown field.")
            continue
        if key in SYSTEM_FIELDS or key == "id":
            errors[key] = _("This field is read-only.")
            continue
        if value is None or value == "":
            if field.required:
                errors[key] = _("Required.")
            else:
                clean[key] = None
            continue
        try:
            clean[key] = values.parse_value(field, value, values.column_of(et, field))
        except values.Invalid as exc:
            errors[key] = exc.msg
    request.registry.kyklos_pm.hook.kyklos_record_validate(
        request=request, entity_type=et, record=record, data=clean, errors=errors, source=source
    )
    if errors:
        raise RecordError(errors)
    return clean


def validate_data(request, et, record, data: dict, source: str, system: bool) -> dict:
    """Check the fields sent with a transition; raises RecordError."""
    if system:
        return _system_clean(request, et, record, data, source)
    return service.validate(request, et, record, data or {}, source)


def write(
    request,
    et,
    record,
    data: dict,
    workflow_values: dict,
    *,
    source: str,
    system: bool,
    expected_version: int | None = None,
) -> dict:
    """Write ``data`` (checked with the user's rights unless ``system``) and
    ``workflow_values`` (the status; checked by type only) in one update: one version,
    one audit entry, one ``after_save``. Returns the changes."""
    if expected_version is not None:
        service.check_version(request, et, record, expected_version)
    clean = validate_data(request, et, record, data, source, system)
    for name, value in workflow_values.items():
        field = et.fields[name]
        clean[name] = (
            None if value is None else values.parse_value(field, value, values.column_of(et, field))
        )
    request.environ[WRITING] = True
    try:
        return service.apply_update(request, et, record, clean, source)
    finally:
        request.environ.pop(WRITING, None)
