"""The entity registry: a plugin declares an entity type once with
``config.add_entity_type`` (or the ``@entity_type`` decorator and ``config.scan()``),
and the core derives the REST API, OpenAPI, web pages, history, attachments, tags,
search, import and export from that declaration.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field

import venusian
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    inspect,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from kyklos.db import IdMixin, JSONType, TimestampMixin, UTCDateTime
from kyklos.i18n import FIELD_TITLES, _

#: "assign" lets a user set or change a record's owner (mass-assignment protection)
VERBS = ("read", "create", "update", "delete", "export", "import", "assign")
#: fields no client may write: the server owns them (mass-assignment protection)
SYSTEM_FIELDS = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "created_by_id",
        "updated_by_id",
        "deleted_at",
        "custom",
    }
)


class RecordError(Exception):
    """A write was refused. ``errors`` maps field names to messages."""

    def __init__(self, errors: dict | None = None, title=None, status: int = 400):
        super().__init__(title or "invalid record")
        self.errors = errors or {}
        self.title = title or _("Invalid data")
        self.status = status


class EntityMixin(IdMixin, TimestampMixin):
    """Columns every entity has: identity, optimistic-lock version, ownership, audit
    stamps, and the ``custom`` JSON document that holds custom-field values."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    custom: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)

    @declared_attr
    def owner_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("kyklos_user.id", ondelete="SET NULL"))

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("kyklos_user.id", ondelete="SET NULL"))

    @declared_attr.directive
    def __mapper_args__(cls):
        # SQLAlchemy bumps ``version`` on every UPDATE and fails a stale one: a second
        # writer can never silently overwrite the first.
        return {"version_id_col": cls.__table__.c.version}


class SoftDeleteMixin:
    """Deleted records keep their row (restorable) until purged."""

    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


def owner_count_index(model) -> Index:
    """``(deleted_at, owner_id)`` on a soft-deleting entity's table: a list's exact count
    under an ``own``/``team``/``department``/``subtree`` record rule (``deleted_at IS
    NULL AND owner_id IN (...)``, ``NOT IN``, ``IS NOT NULL``) reads this index alone,
    as the administrator's count reads the ``deleted_at`` one, instead of every wide row
    (1-2 ms against 9-14 ms at 10 000 people, docs/performance.md). Declared by the
    plugin beside its model (module level) with a revision that creates it: entity
    tables are the plugins'."""
    table = model.__table__.name
    return Index(f"ix_{table}_deleted_owner", model.deleted_at, model.owner_id)


@dataclass
class FieldInfo:
    """A field as the API, forms, filters and exports see it."""

    name: str
    title: object
    type: str  # string text richtext integer decimal money date datetime boolean
    #            choice multichoice email phone url reference json
    required: bool = False
    readonly: bool = False
    max_length: int | None = None
    choices: list[tuple[str, object]] | None = None
    reference: str | None = None  # entity type name for type == "reference"
    filterable: bool = False
    sortable: bool = False
    searchable: bool = False
    custom: bool = False  # a custom field (kept in the ``custom`` document)
    description: object = ""
    default: object = None
    #: for ``type == "money"``: the column holding the ISO 4217 currency code; for a
    #: ``decimal``, a column of the record naming the currency its amount is in (several
    #: amounts sharing one currency): pages show it as money, the API as a number
    currency_field: str | None = None
    #: not a column: read and written through the model attribute of the same name
    #: (a Python property, e.g. a person's list of typed phones kept in a child table);
    #: never filtered, sorted or selected in SQL projections
    virtual: bool = False
    #: shown in record forms, on detail pages and in the column picker; ``False`` for an
    #: API and import convenience (a type given by its code): still read, written,
    #: documented and imported
    form: bool = True
    #: how people read and enter the value beyond its type: the name of a display kind
    #: registered with ``config.add_display_kind`` (e.g. ``"phones"`` for a typed list of
    #: numbers kept as JSON); empty for the type's own rendering
    display: str = ""
    #: numbers only: ``False`` for values such as a year or a code, never written "2,026"
    grouping: bool = True
    #: dates only: the year may be unknown (a birthday from a vCard ``BDAY:--0203``).
    #: Stored with the year :data:`kyklos.entities.values.NO_YEAR`; read "3 February",
    #: entered as day and month drop-downs with an optional year, written ``--02-03`` in
    #: the API and data exports (ISO 8601:2000's reduced form, as vCard writes it)
    year_optional: bool = False
    #: dates only: the name of an indexed integer column the model keeps equal to
    #: ``month * 100 + day`` of this date; the day-of-the-year filter (birthdays between
    #: two days, any year) then reads that index instead of a date function per row
    day_of_year: str = ""
    #: rich text only: the editor also offers an "HTML source" view (mail templates,
    #: whose authors paste designed HTML the editor's own blocks cannot hold)
    html_source: bool = False


@dataclass
class RelatedList:
    """A reverse relation shown on the detail page: records of ``entity`` whose
    ``field`` points at this record."""

    entity: str
    field: str
    title: object = None
    columns: tuple[str, ...] = ()


@dataclass
class EntityType:
    name: str
    plugin: str
    model: type
    title: object
    plural: object
    slug: str
    title_field: str
    fields: dict[str, FieldInfo]
    list_columns: tuple[str, ...]
    default_sort: str = "-id"
    related: tuple[RelatedList, ...] = ()
    icon: str = ""
    menu_group: str = ""
    menu_order: int = 100
    permissions: dict[str, str] = field(default_factory=dict)
    soft_delete: bool = False
    schema_factory: object = None  # callable(request, entity_type, record) -> colander schema
    #: filterable paths into related entities, e.g. {"account.country": "account_id"}
    related_filters: dict[str, str] = field(default_factory=dict)
    #: what places a record in a territory, for ``territory`` record rules: a column
    #: (``"country"``), a column of a referenced record (``"account.country"``), or
    #: several in order of precedence (``("account.country", "country")``: the account's
    #: country, the record's own when it has no account)
    territory_field: str | tuple[str, ...] | None = None
    description: object = ""
    #: the few filters a list page shows first; the rest sit under "more filters"
    primary_filters: tuple[str, ...] = ()
    #: the field shown as a second line under the title in pickers and search results
    #: (e.g. a person's account), a reference or plain field
    subtitle_field: str | None = None
    #: a list of values (types, statuses, stages, reasons...): anyone who may write a
    #: record that refers to it may pick from it, and its title is shown in the user's
    #: language (the plugin's catalog for seeded values, per-language titles for others)
    lookup: bool = False
    #: other records (activities and, later, e-mails or cases) can be about records of
    #: this type: their pages get the panel and quick actions that those plugins offer
    about: bool = False
    #: False: the type's records are parts of others (a list's members, a quote's
    #: lines): its list still searches them, but global search leaves them out, where
    #: they would crowd out the records people look for
    global_search: bool = True
    #: a JSON field of ``{language: title}`` (display kind ``title_translations``) kept
    #: beside the title field, e.g. a product's name in other languages: a reader of
    #: one of them sees that title wherever the record is named (references, pickers)
    title_translations: str | None = None

    def permission(self, verb: str) -> str:
        return self.permissions[verb]

    @property
    def territory_paths(self) -> tuple[str, ...]:
        """The territory field's paths in order of precedence (empty: none declared)."""
        tf = self.territory_field
        if not tf:
            return ()
        return (tf,) if isinstance(tf, str) else tuple(tf)

    @property
    def filterable(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.filterable]

    @property
    def sortable(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.sortable]

    @property
    def searchable(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.searchable]

    def writable_fields(self) -> list[FieldInfo]:
        return [f for f in self.fields.values() if not f.readonly and f.name not in SYSTEM_FIELDS]

    def record_title(self, record) -> str:
        value = getattr(record, self.title_field, None)
        return str(value) if value not in (None, "") else f"#{record.id}"


_TYPE_MAP = [
    (Boolean, "boolean"),
    (DateTime, "datetime"),
    (UTCDateTime, "datetime"),
    (Date, "date"),
    (Integer, "integer"),
    (Numeric, "decimal"),
    (Text, "text"),
    (String, "string"),
    (JSONType, "json"),
    (Enum, "choice"),
]


def _field_type(column) -> str:
    t = column.type
    for cls, name in _TYPE_MAP:
        if isinstance(t, cls):
            return name
    pytype = getattr(t, "python_type", str)
    return {int: "integer", decimal.Decimal: "decimal", bool: "boolean", dt.date: "date"}.get(
        pytype, "string"
    )


def derive_fields(
    model, overrides: dict | None, filters, sort, search, readonly, entity_names: dict[str, str]
) -> dict[str, FieldInfo]:
    """Fields from the model's columns, adjusted by the declaration's overrides.

    ``entity_names`` maps table names to entity type names so a foreign key to another
    entity's table becomes a ``reference`` field.
    """
    overrides = overrides or {}
    out: dict[str, FieldInfo] = {}
    columns = {col.key: col for col in inspect(model).columns}
    # A Numeric column ``x`` with a String column ``x_currency`` beside it is one money
    # field (kyklos.entities.money); the currency column is part of it, not a field.
    money = {
        name
        for name, col in columns.items()
        if isinstance(col.type, Numeric)
        and isinstance(getattr(columns.get(f"{name}_currency"), "type", None), String)
    }
    companions = {f"{name}_currency" for name in money}
    for col in columns.values():
        name = col.key
        # ``custom`` stores the custom fields' values; each is a field of its own.
        if name == "custom" or name in companions:
            continue
        # ``{"internal": True}``: a column the model maintains for itself (an index key
        # derived from other fields) is not a field: not shown, written or filtered.
        if overrides.get(name, {}).get("internal"):
            continue
        ftype = "money" if name in money else _field_type(col)
        ref = None
        if col.foreign_keys:
            fk = next(iter(col.foreign_keys))
            target = fk.column.table.name
            if target == "kyklos_user":
                ftype, ref = "reference", "user"
            elif target in entity_names:
                ftype, ref = "reference", entity_names[target]
        choices = None
        if isinstance(col.type, Enum):
            choices = [(v, v) for v in col.type.enums]
        info = FieldInfo(
            name=name,
            title=FIELD_TITLES.get(name) or _(name.replace("_", " ").capitalize()),
            type=ftype,
            required=not col.nullable
            and col.default is None
            and not col.primary_key
            and col.server_default is None
            and ftype != "boolean",
            readonly=name in SYSTEM_FIELDS or name in readonly or col.primary_key,
            max_length=getattr(col.type, "length", None),
            choices=choices,
            reference=ref,
            filterable=name in filters,
            sortable=name in sort,
            searchable=name in search,
            currency_field=f"{name}_currency" if name in money else None,
        )
        for key, value in overrides.get(name, {}).items():
            setattr(info, key, value)
        out[name] = info
    # An override naming no column but giving a type declares a virtual field.
    for name, over in overrides.items():
        if name in out or name in columns or "type" not in over:
            continue
        if not isinstance(getattr(model, name, None), property):
            raise ValueError(f"{model.__name__}.{name}: a virtual field needs a property")
        info = FieldInfo(name=name, title=_(name.replace("_", " ").capitalize()), type="json")
        for key, value in over.items():
            setattr(info, key, value)
        info.virtual = True
        info.filterable = info.sortable = info.searchable = False
        out[name] = info
    return out


def add_entity_type(
    config,
    model,
    name: str,
    plugin: str | None = None,
    *,
    title=None,
    plural=None,
    slug: str | None = None,
    title_field: str = "name",
    list_columns=(),
    filters=(),
    sort=(),
    search=(),
    readonly=(),
    fields: dict | None = None,
    related=(),
    icon: str = "",
    menu_group: str = "",
    menu_order: int = 100,
    permissions=None,
    default_sort: str | None = None,
    schema=None,
    related_filters=None,
    territory_field: str | tuple[str, ...] | None = None,
    description="",
    primary_filters=(),
    subtitle_field: str | None = None,
    lookup: bool = False,
    about: bool = False,
    global_search: bool = True,
    title_translations: str | None = None,
):
    """Register an entity type. See docs/plugin-authors/entities.md.

    :param model: the SQLAlchemy model (must use :class:`EntityMixin`)
    :param name: unique type name, e.g. ``"person"``
    :param plugin: the declaring plugin's id (default: the package name without ``kyklos_``)
    :param slug: URL segment, default ``name + "s"`` (``/api/v1/persons``)
    :param list_columns: default list columns; ``filters``, ``sort``, ``search`` are the
        allow-lists of filterable, sortable and free-text-searchable fields
    :param fields: per-field overrides of the derived :class:`FieldInfo`, e.g.
        ``{"email": {"type": "email"}}``
    :param related: :class:`RelatedList` items shown on the detail page
    :param permissions: verb -> permission name; default ``<plugin>.<name>.<verb>``
    :param primary_filters: the filters a list shows first (the rest under "more filters")
    :param subtitle_field: a second line under the title in pickers and search results
    :param lookup: a list of values, picked by anyone who may write a referring record and
        shown in the user's language
    :param about: activities (and other plugins' records) can be about this type's records
    :param global_search: False leaves the type out of global search (its list's own
        search still finds its records): for records that are parts of others
    :param title_translations: a JSON field of the title in other languages (display kind
        ``title_translations``): readers of those languages see it as the record's title
    :param territory_field: what places a record in a territory: a column, a
        ``"reference.column"`` path, or a tuple of them in order of precedence (the first
        whose own column is set decides)
    """
    if plugin is None:
        pkg = (config.package_name or "kyklos").split(".")[0]
        plugin = pkg[len("kyklos_") :] if pkg.startswith("kyklos_") else pkg
    slug = slug or f"{name}s"
    perms = {v: f"{plugin}.{name}.{v}" for v in VERBS}
    perms.update(permissions or {})
    for verb, perm in perms.items():
        config.declare_permission(perm, f"{verb.capitalize()} {name}")
    soft = hasattr(model, "deleted_at")
    intr = config.introspectable(
        "kyklos entity types", name, str(title or name), "kyklos entity type"
    )

    def register():
        reg = config.registry
        tables = {et.model.__table__.name: et.name for et in reg.kyklos_entities.values()}
        tables[model.__table__.name] = name
        finfo = derive_fields(
            model,
            fields,
            set(filters) | {"id"},
            set(sort) | {"id"},
            set(search),
            set(readonly),
            tables,
        )
        et = EntityType(
            name=name,
            plugin=plugin,
            model=model,
            title=title or name.capitalize(),
            plural=plural or f"{name.capitalize()}s",
            slug=slug,
            title_field=title_field,
            fields=finfo,
            list_columns=tuple(list_columns) or (title_field,),
            default_sort=default_sort or ("-id"),
            related=tuple(related),
            icon=icon,
            menu_group=menu_group,
            menu_order=menu_order,
            permissions=perms,
            soft_delete=soft,
            schema_factory=schema,
            related_filters=dict(related_filters or {}),
            territory_field=territory_field,
            description=description,
            primary_filters=tuple(primary_filters),
            subtitle_field=subtitle_field,
            lookup=lookup,
            about=about,
            global_search=global_search,
            title_translations=title_translations,
        )
        for col in et.list_columns:
            if col not in finfo:
                raise ValueError(f"entity type {name}: list column {col!r} is not a field")
        for col in et.primary_filters:
            if col not in finfo or not finfo[col].filterable:
                raise ValueError(f"entity type {name}: primary filter {col!r} is not a filter")
        if subtitle_field is not None and subtitle_field not in finfo:
            raise ValueError(f"entity type {name}: subtitle field {subtitle_field!r} is unknown")
        if title_translations is not None and (
            title_translations not in finfo
            or finfo[title_translations].display != "title_translations"
        ):
            raise ValueError(
                f"entity type {name}: title translations {title_translations!r} is not a"
                " field of display kind title_translations"
            )
        for path in et.territory_paths:
            head = path.split(".", 1)[0]
            local = et.related_filters.get(path) or (f"{head}_id" if "." in path else head)
            if local not in finfo or ("." in path and not finfo[local].reference):
                raise ValueError(f"entity type {name}: territory field {path!r} is unknown")
        if lookup:
            from kyklos.entities.translations import install

            install(et)  # its per-language titles: a ``title_translations`` field
        reg.kyklos_entities[name] = et
        reg.kyklos_entity_slugs[slug] = et
        intr["entity_type"] = et
        intr["plugin"] = plugin
        # The types registered before this one may point at it (a case at the contract
        # type declared after it): their foreign keys become references now. An action
        # run once "after every type" cannot do it, as each plugin is committed apart.
        resolve_late_references(reg, et)

    # order=10: after permissions, before anything that needs to look entity types up
    config.action(("kyklos.entity_type", name), register, introspectables=(intr,), order=10)
    config.action(("kyklos.entity_slug", slug), None)


def add_entity_field(
    config,
    entity: str,
    name: str,
    *,
    type: str,  # noqa: A002 - the FieldInfo attribute it sets
    title,
    reference: str | None = None,
    choices=None,
    description="",
    filterable: bool = True,
    list_column: bool = False,
    optional=(),
    after: str | None = None,
):
    """Add a field to another plugin's entity type (one that the declaring plugin
    depends on), without touching that plugin or its table.

    The value lives in the record's ``custom`` JSON document, like a custom field's, so
    the API, forms, pickers, filters, exports and imports treat it like any field, and a
    deployment without the declaring plugin keeps its rows unchanged. ``name`` must not
    collide with a field of the type (a custom field's ``cf_`` prefix keeps those apart);
    prefix it with the plugin id (``catalog_product``).

    :param optional: fields of the type that become optional in forms and the API
        because this one can supply them; the declaring plugin then fills or requires
        them in its ``kyklos_record_prepare``/``kyklos_record_validate`` hooks
    :param list_column: also show it in the type's default list columns
    :param after: place it after this field in forms and on pages (default: last)
    """
    if type not in ("string", "integer", "decimal", "date", "boolean", "choice", "reference"):
        raise ValueError(f"add_entity_field {entity}.{name}: unsupported type {type!r}")
    intr = config.introspectable(
        "kyklos entity fields", (entity, name), name, "kyklos entity field"
    )

    def register():
        et = config.registry.kyklos_entities.get(entity)
        if et is None:
            raise ValueError(f"add_entity_field: no entity type {entity!r}")
        if name in et.fields:
            raise ValueError(f"add_entity_field: {entity} already has a field {name!r}")
        info = FieldInfo(
            name=name,
            title=title,
            type=type,
            reference=reference,
            choices=list(choices) if choices else None,
            description=description,
            custom=True,
            filterable=filterable,
            # a JSON path sorts like a column on both databases (not money or lists)
            sortable=filterable,
        )
        if after is not None and after not in et.fields:
            raise ValueError(f"add_entity_field: {entity} has no field {after!r}")
        fields = {}
        for key, value in et.fields.items():
            fields[key] = value
            if key == after:
                fields[name] = info
        fields[name] = info
        for other in optional:
            if other not in fields:
                raise ValueError(f"add_entity_field: {entity} has no field {other!r}")
            fields[other].required = False
        et.fields = fields
        if list_column:
            et.list_columns = (*et.list_columns, name)
        intr["entity"] = entity
        intr["field"] = info

    # order=10 with the entity types, after them: actions of one order run in the order
    # the plugins were included, and a dependency is always included first
    config.action(
        ("kyklos.entity_field", entity, name), register, introspectables=(intr,), order=10
    )


class entity_type:  # noqa: N801 - a decorator, named like Pyramid's view_config
    """Decorator twin of ``config.add_entity_type`` for a model class, found by
    ``config.scan()``."""

    venusian = venusian

    def __init__(self, name: str, **kw):
        self.name = name
        self.kw = kw

    def __call__(self, model):
        def callback(context, _name, ob):
            config = context.config.with_package(info.module)
            config.add_entity_type(ob, self.name, **self.kw)

        info = self.venusian.attach(model, callback, category="kyklos")
        return model


def entity_menu(request):
    """Menu entries for the entity types the user may read."""
    from kyklos.web import MenuItem

    out = []
    for et in request.registry.kyklos_entities.values():
        if et.menu_group is None:
            continue
        out.append(
            MenuItem(
                title=et.plural,
                url=request.route_url("entity.list", slug=et.slug),
                permission=et.permission("read"),
                icon=et.icon,
                group=et.menu_group or et.plugin,
                order=et.menu_order,
            )
        )
    return out


class EntityTypes(dict):
    """The registered entity types by name. Names often come straight from a client's
    JSON (``{"entity": ...}``): a list or an object there is simply no entity type,
    never a TypeError deep inside a view."""

    def get(self, name, default=None):
        return super().get(name, default) if isinstance(name, str) else default

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and super().__contains__(name)


def includeme(config):
    config.registry.kyklos_entities = EntityTypes()
    config.registry.kyklos_entity_slugs = {}
    config.registry.kyklos_entity_menu = entity_menu
    config.add_directive("add_entity_type", add_entity_type)
    config.add_directive("add_entity_field", add_entity_field)
    from kyklos.entities import translations  # noqa: F401 - its model joins the metadata

    # add_display_kind, the core display kinds and per-language titles of lookup values
    config.include(".display")
    config.include(".service")
    config.include(".customfields")
    # Before .api: their routes (/api/v1/attachments/..., /api/v1/_search) must be
    # matched ahead of the generic /api/v1/{slug}/... routes.
    config.include(".attachments")
    config.include(".tags")
    config.include(".savedviews")
    config.include(".search")
    config.include(".api")
    config.include(".ui")
    config.include("kyklos.exports")
    config.include("kyklos.imports")
    config.include("kyklos.segments")
    config.include("kyklos.duplicates")
    config.include("kyklos.reports")


def resolve_late_references(registry, new=None) -> None:
    """A foreign key to an entity type registered after the type that holds it (an
    activity's type: activities are declared before their types) is a reference too;
    ``derive_fields`` could not know the target yet, so it is completed here each time a
    type registers. Without it the field is a bare number in forms, filters and lists."""
    if new is None:
        tables = {et.model.__table__.name: et.name for et in registry.kyklos_entities.values()}
    else:  # at a registration only the references to the new type can have appeared
        tables = {new.model.__table__.name: new.name}
    for et in registry.kyklos_entities.values():
        columns = {col.key: col for col in inspect(et.model).columns}
        for name, f in et.fields.items():
            col = columns.get(name)
            if f.type != "integer" or f.custom or col is None or not col.foreign_keys:
                continue
            target = next(iter(col.foreign_keys)).column.table.name
            if target in tables:
                f.type, f.reference = "reference", tables[target]
