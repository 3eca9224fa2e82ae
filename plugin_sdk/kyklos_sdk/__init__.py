"""The stable API for Kyklos plugins. Plugins import this package, never ``kyklos.*``.

Everything listed in ``__all__`` is covered by the SDK's compatibility promise: names are
only added; a removal is announced one minor version ahead (see docs/plugin-authors/).
Configuration directives are not imported: they are methods of the Pyramid
``config`` a plugin's ``includeme`` receives (docs/plugin-authors/directives.md).
"""

from pyramid.i18n import TranslationString, TranslationStringFactory

from kyklos.dashboard import CHART_SCRIPTS, ChartData, Series, Widget, render_chart
from kyklos.db import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime, bulk_insert, utcnow
from kyklos.demo import DEMO_USERS
from kyklos.directives import Permission, RoleDecl
from kyklos.documents import new_document
from kyklos.duplicates import allow_duplicates
from kyklos.entities import (
    SYSTEM_FIELDS,
    VERBS,
    EntityMixin,
    EntityType,
    FieldInfo,
    RecordError,
    RelatedList,
    SoftDeleteMixin,
    entity_type,
    openapi,
    owner_count_index,
)
from kyklos.entities.api import read_json
from kyklos.entities.attachments import (
    CurrentAttachment,
    StoredFile,
    attachments_of,
    current_attachments,
    delete_stored_file,
    read_attachment,
    stored_file_path,
    stored_file_response,
)
from kyklos.entities.attachments import store_upload as store_attachment
from kyklos.entities.display import (
    display_badge,
    display_list,
    display_text,
    display_value,
    record_title,
    record_titles,
    reference_titles,
)
from kyklos.entities.history import record_change
from kyklos.entities.money import (
    Money,
    MoneyError,
    NoRate,
    base_currency,
    convert,
    currency_groups,
    is_currency,
    rate_date,
    set_rate,
    stale_rates,
)
from kyklos.entities.query import OPS as FILTER_OPS
from kyklos.entities.query import parse_list_params, run_list
from kyklos.entities.richtext import from_text as rich_text_from_plain
from kyklos.entities.richtext import merge_source as rich_text_merge_source
from kyklos.entities.richtext import sanitise as sanitise_rich_text
from kyklos.entities.richtext import to_text as rich_text_to_plain
from kyklos.entities.service import (
    StaleRecord,
    create_record,
    default_record_schema,
    delete_record,
    field_access,
    get_entity_type,
    get_record,
    insert_new,
    new_children,
    record_created,
    serialize,
    update_record,
    visible_select,
)
from kyklos.entities.tags import add_tag, all_tags, record_tag_ids, tags_for
from kyklos.entities.translations import in_language as text_in_language
from kyklos.entities.widgets import (
    PickerWidget,
    RowColumn,
    Rows,
    RowsWidget,
    rich_text_input,
    rows_input,
)
from kyklos.errors import ConfigError
from kyklos.exports import neutralise
from kyklos.home import HomeSection
from kyklos.hooks import collect
from kyklos.hookspecs import HOOK_CONTRACT, hookimpl
from kyklos.i18n import (
    LANGUAGES,
    format_date,
    format_datetime,
    format_money,
    format_month,
    format_number,
    format_time,
    translate,
    translate_for,
)
from kyklos.jobs.runner import job_request as request_as
from kyklos.mail import MailConnection, MailError, send_mail
from kyklos.mail import build_message as build_mail
from kyklos.mail import deliver as deliver_mail
from kyklos.plugins import Plugin, Theme
from kyklos.portal import PortalPage
from kyklos.problem import Problem
from kyklos.reports import ShippedReport, shipped_report_id
from kyklos.security import find_user
from kyklos.security.encryption import decrypt_secret, encrypt_secret
from kyklos.security.models import Department, User
from kyklos.security.org import subtree_ids as department_subtree
from kyklos.security.roles import user_ids_with_roles
from kyklos.security.rules import can_access, territories_of, visibility_clause
from kyklos.segments import segment_select, segments_containing, visible_segments
from kyklos.text import fold, similarity
from kyklos.web import Action, MenuItem, Panel, TimelineItem, safe_redirect_target
from kyklos.web.branding import Branding, render_branded
from kyklos.workflow import MANAGE as MANAGE_WORKFLOWS

SDK_VERSION = "0.1.0"

#: the field types of :class:`FieldInfo` ``type``, as forms, filters and the API know them
FIELD_TYPES = (
    "string",
    "text",
    "richtext",
    "integer",
    "decimal",
    "money",
    "date",
    "datetime",
    "boolean",
    "choice",
    "multichoice",
    "email",
    "phone",
    "url",
    "reference",
    "json",
)


def site_setting(request, key: str, default=None):
    """A site setting the administrator sets on the settings page (``/settings``), else
    its .ini default, else ``default``. Keys: ``company.name``, ``company.address``,
    ``company.vat_number``, ``company.email``, ``company.phone``, ``company.website``,
    ``company.bank_details``, ``currency.default``, ``currency.in_use`` (list),
    ``country.default`` (ISO 3166 alpha-2, or ""), ``timezone.default`` (IANA),
    ``base_url``, ``languages`` (list). Read once per request (one query)."""
    from kyklos import sitesettings

    return sitesettings.get(request, key, default)


def company_logo(request):
    """The company logo from the settings as ``(bytes, content_type)``, or ``None``."""
    from kyklos import sitesettings

    return sitesettings.company_logo(request)


def territory_choices(request) -> list[tuple[int, str]]:
    """Every territory as ``(id, name)`` by name, for a drop-down (territories are the
    administrator's, and their names say nothing about records)."""
    from sqlalchemy import select

    from kyklos.security.models import Territory

    return [
        (row.id, row.name)
        for row in request.dbsession.execute(
            select(Territory.id, Territory.name).order_by(Territory.name)
        )
    ]


def permission_name(plugin: str, entity: str, verb: str) -> str:
    """``permission_name("fleet", "vehicle", "read")`` -> ``"fleet.vehicle.read"``."""
    return f"{plugin}.{entity}.{verb}"


def entity_permissions(plugin: str, entity: str, verbs=VERBS) -> dict[str, str]:
    """The permissions ``config.add_entity_type`` declares for an entity, by verb:
    ``{"read": "fleet.vehicle.read", ...}``; handy for ``config.add_role``."""
    return {verb: permission_name(plugin, entity, verb) for verb in verbs}


__all__ = [
    "segment_select",
    "segments_containing",
    "territories_of",
    "territory_choices",
    "record_tag_ids",
    "all_tags",
    "default_record_schema",
    "visible_segments",
    "record_change",
    "record_created",
    "bulk_insert",
    "insert_new",
    "new_children",
    "openapi",
    "allow_duplicates",
    "department_subtree",
    "fold",
    "similarity",
    "DEMO_USERS",
    "CHART_SCRIPTS",
    "FIELD_TYPES",
    "FILTER_OPS",
    "LANGUAGES",
    "SDK_VERSION",
    "HOOK_CONTRACT",
    "SYSTEM_FIELDS",
    "VERBS",
    "Action",
    "Base",
    "Branding",
    "ChartData",
    "CurrentAttachment",
    "Department",
    "EntityMixin",
    "EntityType",
    "FieldInfo",
    "HomeSection",
    "IdMixin",
    "JSONType",
    "MailConnection",
    "MailError",
    "MenuItem",
    "Money",
    "MoneyError",
    "NoRate",
    "Panel",
    "Permission",
    "Plugin",
    "PortalPage",
    "ShippedReport",
    "shipped_report_id",
    "Problem",
    "RecordError",
    "RelatedList",
    "RoleDecl",
    "Series",
    "SoftDeleteMixin",
    "owner_count_index",
    "StaleRecord",
    "Theme",
    "TimelineItem",
    "TimestampMixin",
    "TranslationString",
    "TranslationStringFactory",
    "UTCDateTime",
    "User",
    "Widget",
    "add_tag",
    "attachments_of",
    "current_attachments",
    "read_attachment",
    "StoredFile",
    "stored_file_path",
    "stored_file_response",
    "delete_stored_file",
    "encrypt_secret",
    "MANAGE_WORKFLOWS",
    "decrypt_secret",
    "ConfigError",
    "store_attachment",
    "tags_for",
    "text_in_language",
    "base_currency",
    "can_access",
    "collect",
    "convert",
    "create_record",
    "delete_record",
    "display_badge",
    "display_list",
    "display_text",
    "rich_text_from_plain",
    "rich_text_input",
    "rich_text_merge_source",
    "rich_text_to_plain",
    "sanitise_rich_text",
    "display_value",
    "record_title",
    "record_titles",
    "reference_titles",
    "entity_permissions",
    "entity_type",
    "find_user",
    "user_ids_with_roles",
    "format_date",
    "format_datetime",
    "format_month",
    "format_money",
    "format_number",
    "format_time",
    "field_access",
    # a CSV cell made inert for spreadsheets (formula injection), as exports do
    "neutralise",
    "get_entity_type",
    "get_record",
    "hookimpl",
    "is_currency",
    "currency_groups",
    "parse_list_params",
    "permission_name",
    "read_json",
    "render_branded",
    "render_chart",
    "run_list",
    "safe_redirect_target",
    "send_mail",
    "build_mail",
    "deliver_mail",
    "serialize",
    "set_rate",
    "rate_date",
    "site_setting",
    "company_logo",
    "stale_rates",
    "translate",
    "translate_for",
    "update_record",
    "utcnow",
    "visibility_clause",
    "visible_select",
    "request_as",
    "PickerWidget",
    "RowColumn",
    "Rows",
    "RowsWidget",
    "rows_input",
    "new_document",
]
