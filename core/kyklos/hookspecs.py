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

#: the version of the hook contract this module declares, ``MAJOR.MINOR``. MINOR grows
#: when a hook or an argument is added (plugins written for an older minor keep
#: working); MAJOR when one is removed or renamed after its deprecation. A plugin names
#: the range it was written for in ``Plugin(requires_hooks=">=1.0,<2")``, checked at
#: start-up like ``requires_core``.
#: 1.1: kyklos_portal_pages; 1.2: kyklos_record_prepare; 1.3: kyklos_record_form_panels;
#: 1.4: kyklos_report_definitions
HOOK_CONTRACT = "1.4"

hookspec = pluggy.HookspecMarker("kyklos")
hookimpl = pluggy.HookimplMarker("kyklos")


# --- Record lifecycle -----------------------------------------------------------------
# Called on every write path alike: web forms, REST API, bulk actions, import and jobs.


@hookspec
def kyklos_record_prepare(request, entity_type, record, data, source):
    """Reshape the submitted ``data`` before its field types are checked (since hook
    contract 1.2).

    For values that are right but not yet in their field's shape, above all a file's
    cells: an import cell with several e-mails ("a@x ::: b@y") or a row with only an
    e-mail, which the type and required checks would refuse before
    ``kyklos_record_validate`` could help. Change ``data`` in place; refuse nothing here
    (validation does that).

    :param data: ``{field: value}`` as submitted (JSON values, not yet parsed)
    :param record: the existing record, or ``None`` on create
    :param source: "ui", "api", "import", "bulk" or "job"
    :return: nothing
    """


@hookspec
def kyklos_record_validate(request, entity_type, record, data, errors, source):
    """Validate ``data`` (a dict of the fields being written) before a create or update.

    Called once per record, after the field types were checked, on every write path.

    :param entity_type: the :class:`kyklos.entities.EntityType` being written
    :param record: the existing record, or ``None`` on create
    :param data: ``{field: value}`` of the fields being written, already deserialized
        (dates are ``datetime.date``, money is :class:`kyklos.entities.money.Money`)
    :param errors: a dict ``{field name: message}``; add to it to refuse the write.
        Name the field as it was submitted: when a value was derived from another
        submitted field (an address built from an import's address columns), report
        its refusal under that field, so that an import names the file's column
    :param source: where the write comes from: "ui", "api", "import", "bulk" or "job"
    :return: nothing
    """


@hookspec
def kyklos_record_before_save(request, entity_type, record, changes, created, source):
    """Called just before a record is flushed, after validation passed.

    Raise :class:`kyklos.entities.RecordError` to refuse the write.

    :param changes: ``{field: (old, new)}`` of what this write changes
    :param created: ``True`` for a new record
    :return: nothing; may adjust ``record`` in place
    """


@hookspec
def kyklos_record_after_save(request, entity_type, record, changes, created, source):
    """Called after a record was created or updated and flushed (ids are known).

    Runs inside the request's transaction: work done here commits or rolls back with it.

    :return: nothing
    """


@hookspec
def kyklos_records_saved(request, entity_type, records, changes, created, source):
    """Many records of ``entity_type`` were written together and flushed (an import
    batch): the batch form of ``kyklos_record_after_save``, for work that is cheaper
    once for many records (one query or one executemany instead of one per record).

    A plugin that implements this hook is **not** called with
    ``kyklos_record_after_save`` for these records: it handles them here. Plugins that
    implement only ``kyklos_record_after_save`` are still called once per record. Single
    writes (forms, API, jobs) call only ``kyklos_record_after_save``, so implement both.

    Runs inside the transaction of the write.

    :param records: the records, as after a flush (ids known, attributes and
        relationships readable)
    :param changes: a list parallel to ``records``: each ``{field: (old, new)}``
    :param created: ``True`` for new records
    :param source: where the write comes from ("import")
    :return: nothing
    """


@hookspec
def kyklos_record_before_delete(request, entity_type, record, source):
    """Called before a record is deleted (or soft-deleted).

    Raise :class:`kyklos.entities.RecordError` to refuse the delete.

    :return: nothing
    """


@hookspec
def kyklos_record_after_delete(request, entity_type, record, soft, source):
    """Called after a record was deleted; ``soft`` tells whether it can be restored.

    :return: nothing
    """


# --- Security -------------------------------------------------------------------------


@hookspec
def kyklos_principals(request, user):
    """Extra principals for ``user`` in this request.

    A principal ``"role:<name>"`` grants the permissions of the role ``<name>`` for this
    request only, without storing a role membership: a plugin can give "on call" rights
    during a rota week, or portal rights to a customer's login. Other strings are kept
    on ``request.identity.principals`` for plugins' own checks.

    :return: an iterable of strings, or ``None``
    """


@hookspec
def kyklos_visibility_restrictions(request, entity_type, action):
    """Narrow which records of ``entity_type`` the user may ``action``, beyond roles.

    Called by the one visibility filter (lists, detail, related lists, search, export,
    reports, API): the criteria returned are ANDed with the record rules. Use it for
    rules that depend on the record itself, e.g. private activities visible only to
    their participants.

    :param action: ``"read"``, ``"update"``, ``"delete"``, ...
    :return: a list of SQLAlchemy criteria on ``entity_type.model``, or ``None``
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

    :return: a list of :class:`kyklos.ui.Panel` (``kyklos_sdk.Panel``; one with a
        ``permission`` is shown only to users holding it), or ``None``
    """


@hookspec
def kyklos_record_summary(request, entity_type, record):
    """Open items of a record for the summary panel at the top of its 360° page
    (CON-14): open opportunities, cases, complaints, requests, activities due.

    The plugin that owns the page (e.g. contacts for people and accounts) renders them
    together; each contributing plugin counts only what is still open.

    :return: a list of :class:`kyklos.ui.Panel` whose ``count`` is the number of open
        items and ``items`` the first few ``(title, url, detail)``; or ``None``
    """


@hookspec
def kyklos_timeline_items(request, entity_type, record):
    """Items other plugins add to a record's timeline (calls, e-mails, stage changes).

    The core adds the record's own history; this hook adds everything else.

    :return: a list of :class:`kyklos.ui.TimelineItem`, or ``None``
    """


# --- Workflow and automation ----------------------------------------------------------


@hookspec
def kyklos_workflow_transition(request, entity_type, record, transition, before, after):
    """Called after a workflow transition was applied to ``record`` (status written,
    audit entry and timeline event added), inside the same transaction.

    Also called when an approved transition is finally applied.

    :param transition: the :class:`kyklos.workflow.Transition` that ran
    :param before: the state the record left
    :param after: the state it reached
    :return: nothing
    """


@hookspec
def kyklos_workflow_constraints(request, entity_type, workflow):
    """Problems a workflow would cause to the rules a plugin keeps on ``entity_type``
    (a status set, an action that writes the status field, a field derived from others).

    Called when an administrator saves a workflow (page or API), before anything is
    written; a non-empty answer refuses the save and each problem is shown as a reason.

    :param workflow: the candidate :class:`kyklos.workflow.Workflow` (already valid in
        itself: known states, reachable, known roles)
    :return: a list of translation strings, one sentence per problem, or ``None``
    """


@hookspec
def kyklos_message_channels():
    """Channels automation rules and notifications can send through (e-mail is built
    in; a plugin adds SMS, chat, ...).

    A channel is an object with ``id`` (str), ``title`` and
    ``send(request, recipient, subject, body)``; ``recipient`` is a
    :class:`kyklos.security.models.User` or an address string. ``send`` runs inside a
    job's transaction; deliver after commit where the channel can, and raise to have
    the job retried.

    :return: a list of channels, or ``None``
    """


@hookspec
def kyklos_automation_actions():
    """Action types automation rules can use beyond the built-in ones (set a field,
    send an e-mail or message, call a webhook, start an approval, run a transition,
    move a parent, notify), e.g. "create_activity" from the activities plugin.

    An action type is an object with ``type`` (str), ``title``,
    ``validate(registry, entity_type, config) -> list[str]`` (problems; empty when
    valid), ``describe(request, entity_type, record, config) -> str`` (for dry runs) and
    ``run(request, entity_type, record, config, run) -> dict`` (the result kept in the
    run log; ``run.id`` identifies the firing, for idempotency). ``run`` executes in a
    job, inside its transaction, as the rule's author (no user if the author is gone).

    For the rule builder (``/admin/automation``) an action type also has
    ``params(request, entity_type)`` (the settings to ask for:
    ``kyklos.workflow.actions.Param`` objects or dicts with ``name``, ``title``,
    ``kind``, ``choices``, ``required``, ``help``, ``of``, ``default``) and
    ``summary(request, entity_type, config)`` (the action in words, e.g. "create a task
    “Hand over” for its owner"); a type without ``params`` is offered by the API only.
    An exception from ``run`` fails the run, and the run log shows its message.

    :return: a list of action types, or ``None``
    """


# --- Administration -------------------------------------------------------------------


@hookspec
def kyklos_admin_items(request):
    """Entries of the administration page (``/admin``) beyond the core's own.

    :return: a list of :class:`kyklos.ui.MenuItem` (shown only if the user holds its
        ``permission``), or ``None``
    """


# --- Dashboard ------------------------------------------------------------------------


@hookspec
def kyklos_dashboard_widgets(request):
    """Tiles for the dashboard, the home page every user lands on (RPT-02).

    Called on every home page view for the logged-in user, so keep each widget to one
    or two aggregate queries, and filter them through the record rules
    (``visible_select`` / ``visibility_clause``): a widget must never count records the
    user could not open.

    :param request: the current request (``request.identity`` is the user)
    :return: a list of :class:`kyklos.dashboard.Widget` (``kyklos_sdk.Widget``): ``id``
        (unique, used in element ids), ``title``, ``html`` (markup the plugin rendered
        with its own template) and/or ``chart`` (a :class:`kyklos.dashboard.ChartData`,
        drawn with Chart.js above a table of the same numbers), ``size`` (``sm``,
        ``md``, ``lg``, ``full``), ``order`` (ascending), ``permission`` (the tile is
        shown only to users holding it) and ``url`` (a page with more); or ``None``.
        A contributor that raises is logged and left out; the other tiles still show.
    """


# --- Import, duplicates -----------------------------------------------------------------


@hookspec
def kyklos_import_formats():
    """File formats the importer reads beyond CSV and XLSX (e.g. vCard, iCalendar).

    :return: a list of ``(format, parse)`` pairs, or ``None``. ``format`` is the file
        suffix (``"vcf"``); ``parse(data: bytes)`` returns rows of strings, the header
        first, and raises ``ValueError`` (with a message naming the place) on bad input.
    """


@hookspec
def kyklos_record_merge(request, entity_type, winner, loser):
    """Two records of ``entity_type`` are being merged: ``loser`` into ``winner``.

    Foreign keys to the type's table are re-pointed by the core; re-point here any
    reference the core cannot see (ids in JSON, text keys). Runs in the merge's
    transaction, before the loser is deleted.
    """


# --- Home page ----------------------------------------------------------------------------


@hookspec
def kyklos_home_sections(request):
    """Sections of the user's home page ("my day"), shown above the dashboard's KPI
    widgets: today's agenda, overdue and due tasks, upcoming meetings, invitations...

    Called on every home page view for the logged-in user (``request.identity``): keep
    each section to one or two indexed queries and filter them through the record rules
    (``visible_select`` / ``visibility_clause``).

    :param request: the current request
    :return: a list of :class:`kyklos.home.HomeSection` (``kyklos_sdk.HomeSection``):
        ``id`` (unique, used in element ids), ``title``, ``order`` (ascending; the
        core's "Recent records" is 900, KPI charts always come after every section),
        the content as ``html`` (markup the plugin rendered and escaped) or
        ``template`` (asset spec) + ``values`` (rendered by the core with ``request``),
        ``count`` (items listed; ``0`` shows ``empty`` instead of the content),
        ``empty`` (a sentence saying what to do when there is nothing), ``actions``
        (:class:`kyklos_sdk.Action` buttons, shown even when empty), ``url`` (the full
        list), ``size`` (``"full"`` or ``"half"``) and ``permission``; or ``None``.
        A contributor that raises is logged and left out; the other sections still show.
    """


# --- Record forms ---------------------------------------------------------------------------


@hookspec
def kyklos_record_defaults(request, entity_type, parent_type, parent):
    """Values a new record starts with when it is created "from" another record
    (``/{slug}/new?from=<parent type>:<id>``, e.g. a new activity from a person's page,
    a quote from an opportunity).

    The core has already filled every reference field of the new record that points at
    the parent's type; add what else the parent knows (the person's account, the
    opportunity's contact and currency...). Only called when the user may read the
    parent; the user can still change every value before saving, and only fields they
    may write are shown.

    :param entity_type: the :class:`kyklos.entities.EntityType` of the new record
    :param parent_type: the entity type of the record the user came from
    :param parent: that record
    :return: ``{field name: value}`` with values as the API takes them (ids, ISO dates,
        ``{"amount", "currency"}``), or ``None``. Invalid values are ignored. When two
        plugins set the same field, the first registered wins.
    """


@hookspec
def kyklos_record_form_panels(request, entity_type, record, mode):
    """Panels beside a record's form, the generated new and edit pages
    (``/{slug}/new``, ``/{slug}/{id}/edit``), since hook contract 1.3: help or context
    a plugin adds to another plugin's form, e.g. knowledge-base articles suggested
    while a case is typed, or the customer's open cases on a case's edit page.

    Called on every rendering of the form: the first one, and again when a save is
    refused (invalid values, someone else's newer change). A panel is not part of the
    form: nothing in it is submitted with the record.

    :param entity_type: the :class:`kyklos.entities.EntityType` of the form
    :param record: the record being edited, or ``None`` on a new record
    :param mode: ``"new"`` or ``"edit"``
    :return: a list of :class:`kyklos.ui.Panel` (``kyklos_sdk.Panel``): ``title``
        (escaped by the core), ``html`` (markup the plugin rendered and escaped itself)
        and/or ``items`` (``(title, url, detail)``, escaped by the core), ``id`` (the
        element id; prefix it with the plugin id), ``permission`` (shown only to users
        holding it), ``hidden`` (drawn hidden, for a plugin script to show) and
        ``order`` (ascending); or ``None``. A contributor that raises is logged and
        left out: the form still shows.
    """


# --- Reports ------------------------------------------------------------------------------


@hookspec
def kyklos_report_definitions(request):
    """Saved reports a plugin ships to the report builder (``/reports``), since hook
    contract 1.4.

    Each definition becomes one saved report (once: its ``key`` is kept on the row),
    created the first time someone opens the list of reports or the API's. It is a
    report like the others: shown through the viewer's own record rules and field
    permissions, with its chart and its numbers linking to the records behind them;
    shared with the definition's ``shared_roles`` (administrators see every report).
    Its name is shown in the viewer's language. An administrator may change or delete
    it; a deleted one comes back on the next visit (remove it from the roles instead).

    :param request: the current request
    :return: a list of :class:`kyklos.reports.ShippedReport` (``kyklos_sdk.ShippedReport``):
        ``key`` (unique, ``"<plugin>.<name>"``), ``name`` (a translation string),
        ``spec`` (a report specification as the API takes it, docs/reports.md) and
        ``shared_roles``; or ``None``
    """


# --- Customer portal --------------------------------------------------------------------------


@hookspec
def kyklos_portal_pages(request):
    """Pages of the customer portal (``/portal``): its home shows a card per page and
    its navigation bar a link, in ``order``.

    Called for a logged-in portal user (``request.identity.portal`` holds their record
    and customer) on the portal's home and on every portal page (the navigation bar).
    Return cheap descriptions; the page itself is the plugin's own view under
    ``/portal/<plugin>/...`` with ``permission="kyklos.portal.use"``, rendered in the
    portal layout (``request.portal_layout.macro``), reading records only through the
    record rules (``visible_select``, ``get_record``), which give a portal user the
    records of their customer alone.

    :param request: the current request
    :return: a list of :class:`kyklos.portal.PortalPage` (``kyklos_sdk.PortalPage``):
        ``id`` (unique), ``title``, ``url``, ``description`` (one sentence on the
        card), ``icon`` (a Bootstrap icon name), ``order`` (ascending), ``count``
        (a number shown on the card, or ``None``) and ``permission`` (shown only if the
        portal user holds it); or ``None``
    """
