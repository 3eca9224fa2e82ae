"""Parts and costs of the service history (HD-12): a part of the catalog used on a
case or on a maintenance visit, its quantity and unit cost (the product's cost unless
given), and the labour (hours at a rate).

The warranty state of the unit (found by the serial number: the case's unless given)
on the day the part was used decides whether the line is billable: under warranty,
the customer pays nothing for it. The line's total (quantity x unit cost + hours x
rate) is kept on it, in the unit cost's currency.

What a part cost the company is for the roles that may see what products cost: the
catalog hides ``cost`` from sales people, so the part's costs are hidden from them too
(field permissions an administrator may change like any other).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Numeric, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Base,
    EntityMixin,
    entity_permissions,
    get_entity_type,
    hookimpl,
    visible_select,
)

from . import _
from .models import Case

PERMS = entity_permissions("helpdesk", "partusage")
#: the fields that tell what the company paid: hidden where the catalog hides cost
COST_FIELDS = ("unit_cost", "labour_rate", "total")
WARRANTY = {
    "under": _("Under warranty"),
    "out": _("Out of warranty"),
    "unknown": _("No warranty date on file"),
}


class PartUsage(EntityMixin, Base):
    __tablename__ = "helpdesk_partusage"

    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="CASCADE"), index=True
    )
    #: a maintenance visit (an activity of the contract, kyklos_helpdesk.visits)
    visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities_activity.id", ondelete="CASCADE"), index=True
    )
    #: the customer (the case's or the visit's): places the line in a territory
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    serial_number: Mapped[str | None] = mapped_column(String(100), index=True)
    used_on: Mapped[dt.date] = mapped_column(
        Date, nullable=False, index=True, default=dt.date.today
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False, default=1)
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    unit_cost_currency: Mapped[str | None] = mapped_column(String(3))
    labour_hours: Mapped[Decimal] = mapped_column(Numeric(8, 2), nullable=False, default=0)
    labour_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    labour_rate_currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    total_currency: Mapped[str | None] = mapped_column(String(3))
    warranty: Mapped[str] = mapped_column(String(10), nullable=False, default="unknown")
    billable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    note: Mapped[str | None] = mapped_column(String(250))


def _value(record, data: dict, name: str):
    if name in data:
        return data[name]
    return getattr(record, name, None) if record is not None else None


def _money(record, data: dict, name: str):
    """``(amount, currency)`` of a money field, the submitted value over the stored."""
    if name in data:
        v = data[name]
        return (v.amount, v.currency) if v is not None else (None, None)
    if record is None:
        return None, None
    return getattr(record, name), getattr(record, f"{name}_currency")


def _visit(request, visit_id):
    et = request.registry.kyklos_entities.get("activity")
    if et is None:
        return None
    return request.dbsession.execute(
        visible_select(request, et).where(et.model.id == visit_id)
    ).scalar()


def validate_part(request, record, data: dict, errors: dict) -> None:
    """A case or a visit (one of them, one the user may see), a quantity above zero,
    hours not below zero, a rate with hours, and one currency for the line."""
    case_id, visit_id = _value(record, data, "case_id"), _value(record, data, "visit_id")
    if not case_id and not visit_id:
        errors["case_id"] = _("Choose the case or the visit the part was used on.")
    elif case_id and visit_id:
        errors["visit_id"] = _("Choose the case or the visit, not both.")
    elif case_id and ("case_id" in data or record is None):
        et = get_entity_type(request, "case")
        if (
            request.dbsession.execute(
                visible_select(request, et).where(Case.id == case_id)
            ).scalar()
            is None
        ):
            errors["case_id"] = _("No such case, or you may not see it.")
    elif visit_id and ("visit_id" in data or record is None) and _visit(request, visit_id) is None:
        errors["visit_id"] = _("No such visit, or you may not see it.")
    quantity = _value(record, data, "quantity")
    if quantity is not None and quantity <= 0:
        errors["quantity"] = _("Give the quantity, above zero.")
    hours = _value(record, data, "labour_hours") or Decimal(0)
    if hours < 0:
        errors["labour_hours"] = _("Give the hours, zero or more.")
    cost, cost_cur = _money(record, data, "unit_cost")
    if cost is not None and cost < 0:
        errors["unit_cost"] = _("Give a cost, zero or more.")
    rate, rate_cur = _money(record, data, "labour_rate")
    if rate is not None and rate < 0:
        errors["labour_rate"] = _("Give a rate, zero or more.")
    elif hours and rate is None:
        errors["labour_rate"] = _("Give the rate of the hours.")
    if cost_cur is None and record is None and data.get("product_id"):
        cost_cur = _product_cost(request, data["product_id"])[1]
    if rate is not None and cost_cur and rate_cur and rate_cur != cost_cur:
        errors["labour_rate"] = _(
            "Give the rate in ${currency}, the currency of the unit cost.",
            mapping={"currency": cost_cur},
        )


def _product_cost(request, product_id) -> tuple[Decimal | None, str | None]:
    from kyklos_catalog.models import Product

    product = request.dbsession.get(Product, product_id)
    if product is None:
        return None, None
    return product.cost, product.cost_currency


def warranty_on(db, serial: str | None, day: dt.date) -> str:
    """ "under", "out" or "unknown": the warranty of the unit with ``serial`` on ``day``."""
    from kyklos_contacts.models.accounts import InstalledProduct

    serial = (serial or "").strip()
    if not serial:
        return "unknown"
    until = db.execute(
        select(InstalledProduct.warranty_until)
        .where(func.lower(InstalledProduct.serial_number) == serial.lower())
        .order_by(InstalledProduct.id)
        .limit(1)
    ).scalar()
    if until is None:
        return "unknown"
    return "under" if until >= day else "out"


def before_part_save(request, record: PartUsage, changes: dict, created: bool) -> None:
    """Fill what follows from the rest: the unit cost from the product (when not
    given), the serial number and customer from the case or visit, the warranty state,
    whether it is billable and the total."""
    db = request.dbsession
    # the core writes an update's new values after this hook: work on them now
    for name in (
        "case_id",
        "visit_id",
        "product_id",
        "serial_number",
        "used_on",
        "quantity",
        "labour_hours",
    ):
        if name in changes:
            setattr(record, name, changes[name][1])
    for name in ("unit_cost", "labour_rate"):
        if name in changes:
            new = changes[name][1]
            setattr(record, name, new.amount if new is not None else None)
            setattr(record, f"{name}_currency", new.currency if new is not None else None)
    if record.used_on is None:
        record.used_on = dt.date.today()
    if created and record.unit_cost is None:
        record.unit_cost, record.unit_cost_currency = _product_cost(request, record.product_id)
    case = db.get(Case, record.case_id) if record.case_id else None
    if case is not None:
        record.account_id = case.account_id
        if not record.serial_number and case.serial_number:
            record.serial_number = case.serial_number
    elif record.visit_id:
        from kyklos_activities.models import Activity

        visit = db.get(Activity, record.visit_id)
        record.account_id = visit.account_id if visit is not None else None
    record.warranty = warranty_on(db, record.serial_number, record.used_on)
    record.billable = record.warranty != "under"
    quantity = Decimal(record.quantity or 0)
    parts = quantity * Decimal(record.unit_cost or 0)
    labour = Decimal(record.labour_hours or 0) * Decimal(record.labour_rate or 0)
    record.total = (parts + labour).quantize(Decimal("0.01"))
    record.total_currency = record.unit_cost_currency or record.labour_rate_currency
    if record.total_currency is None:
        from kyklos_sdk import site_setting

        record.total_currency = site_setting(request, "currency.default") or "EUR"


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name == "partusage":
            validate_part(request, record, data, errors)

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "partusage":
            before_part_save(request, record, changes, created)

    @hookimpl
    def kyklos_record_defaults(self, request, entity_type, parent_type, parent):
        """A part added from a case starts with its serial number; the unit cost is
        the product's (filled on saving when left empty)."""
        if entity_type.name != "partusage":
            return None
        out = {"used_on": dt.date.today().isoformat()}
        if parent_type.name == "case" and parent.serial_number:
            out["serial_number"] = parent.serial_number
        return out


def includeme(config):
    config.add_entity_type(
        PartUsage,
        "partusage",
        title=_("Part used"),
        plural=_("Parts used"),
        slug="parts-used",
        title_field="note",
        subtitle_field="product_id",
        territory_field=("account.country",),
        list_columns=(
            "used_on",
            "product_id",
            "quantity",
            "serial_number",
            "case_id",
            "visit_id",
            "total",
            "billable",
        ),
        filters=(
            "case_id",
            "visit_id",
            "account_id",
            "product_id",
            "serial_number",
            "used_on",
            "warranty",
            "billable",
        ),
        sort=("used_on", "created_at", "total"),
        search=("serial_number", "note"),
        # a part of another record: its own list finds it, global search leaves it out
        global_search=False,
        readonly=("account_id", "total", "warranty", "billable"),
        fields={
            "case_id": {"title": _("Case")},
            "visit_id": {"title": _("Maintenance visit")},
            "account_id": {"title": _("Customer")},
            "product_id": {"title": _("Part")},
            "serial_number": {
                "title": _("Serial number"),
                "description": _("Of the unit repaired; empty: the case's."),
            },
            "used_on": {"title": _("Date")},
            "quantity": {"title": _("Quantity")},
            "unit_cost": {
                "title": _("Unit cost"),
                "description": _("Empty: the product's cost."),
            },
            "labour_hours": {"title": _("Labour hours")},
            "labour_rate": {"title": _("Labour rate per hour")},
            "total": {"title": _("Total cost")},
            "warranty": {
                "title": _("Warranty"),
                "type": "choice",
                "choices": tuple(WARRANTY.items()),
            },
            "billable": {
                "title": _("Billable"),
                "description": _("Not billable when the unit was under warranty that day."),
            },
            "note": {"title": _("What was done")},
        },
        default_sort="-used_on",
        menu_order=46,
        icon="tools",
        description=_("Parts and labour used on cases and maintenance visits"),
    )
    work = [PERMS[v] for v in ("read", "create", "update", "export")]
    full = [PERMS[v] for v in ("read", "create", "update", "delete", "export", "import")]
    config.extend_role("agent", work)
    config.extend_role("helpdeskmanager", full)
    config.extend_role("manager", full)
    config.extend_role("sales", [PERMS["read"]])
    for action in ("read", "write"):
        config.add_record_rule("partusage", "agent", action, "team")
    for role in ("helpdeskmanager", "manager"):
        for action in ("read", "write", "delete"):
            config.add_record_rule("partusage", role, action, "all")
    config.add_record_rule("partusage", "sales", "read", "territory")
    # as the catalog hides what a product costs from sales people (INV-07)
    for field in COST_FIELDS:
        config.add_field_permission("partusage", "sales", field, "none")
    config.add_hooks(Hooks(), name="kyklos_helpdesk.parts")
