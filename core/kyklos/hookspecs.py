"""Every hook the core calls, in one module. All names start with ``kyklos_``.

Hooks are for *runtime contributions from many plugins* (menus, panels, lifecycle
reactions). Declarations that must exist exactly once (entity types, permissions,
workflows) are Pyramid directives instead; see :mod:`kyklos.directives`.

Arguments are passed by keyword; an implementation may accept any subset of them
(pluggy's rule), so new arguments can be added without breaking existing plugins.
Never remove or rename an argument: deprecate first.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("kyklos")
hookimpl = pluggy.HookimplMarker("kyklos")


# --- Record lifecycle -----------------------------------------------------------------
# Called on every write path alike: web forms, REST API, bulk actions, import and jobs.


@hookspec
def kyklos_record_validate(request, entity_type, record, data, errors):
    """Validate ``data`` (a dict of the fields being written) before a create or update.

    :param entity_type: the :class:`kyklos.entities.EntityType` being written
    :param record: the existing record, or ``None`` on create
    :param errors: a dict ``{field name: message}``; add to it to refuse the write
    :return: nothing
    """


@hookspec
def kyklos_record_before_save(request, entity_type, record, changes, created):
    """Called just before a record is flushed, after validation passed.

    :param changes: ``{field: (old, new)}`` of what this write changes
    :param created: ``True`` for a new record
    :return: nothing; may adjust ``record`` in place
    """


@hookspec
def kyklos_record_after_save(request, entity_type, record, changes, created):
    """Called after a record was created or updated and flushed (ids are known).

    Runs inside the request's transaction: work done here commits or rolls back with it.

    :return: nothing
    """


@hookspec
def kyklos_record_before_delete(request, entity_type, record):
    """Called before a record is deleted (or soft-deleted).

    Raise :class:`kyklos.entities.RecordError` to refuse the delete.

    :return: nothing
    """


@hookspec
def kyklos_record_after_delete(request, entity_type, record, soft):
    """Called after a record was deleted; ``soft`` tells whether it can be restored.

    :return: nothing
    """


# --- Security -------------------------------------------------------------------------


@hookspec
def kyklos_principals(request, user):
    """Extra principals for ``user`` (e.g. ``"territory:7"``), used by permission checks.

    :return: an iterable of strings, or ``None``
    """


# --- Web UI ---------------------------------------------------------------------------


@hookspec
def kyklos_menu_items(request):
    """Contribute entries to the main menu beyond the registered entity types.

    :return: a list of :class:`kyklos.ui.MenuItem` (shown only if the user holds
        its ``permission``), or ``None``
    """


@hookspec
def kyklos_record_actions(request, entity_type, record):
    """Buttons on a record's detail page (e.g. "Convert lead").

    :return: a list of :class:`kyklos.ui.Action`, or ``None``
    """


@hookspec
def kyklos_record_panels(request, entity_type, record):
    """Panels on a record's detail page, the 360° view (e.g. "Open opportunities").

    :return: a list of :class:`kyklos.ui.Panel`, or ``None``
    """


@hookspec
def kyklos_timeline_items(request, entity_type, record):
    """Items other plugins add to a record's timeline (calls, e-mails, stage changes).

    The core adds the record's own history; this hook adds everything else.

    :return: a list of :class:`kyklos.ui.TimelineItem`, or ``None``
    """
