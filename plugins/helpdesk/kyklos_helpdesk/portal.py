"""The customer portal's side of the helpdesk: "My cases" lists the cases of the portal
user's customer with their state and type in words, shows one case (its description
and state), and opens a new case (channel "portal") through the record service, so the
record rules, the field permissions and the assignment rules apply as on every path."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from sqlalchemy import select

from kyklos_sdk import (
    PortalPage,
    RecordError,
    create_record,
    display_text,
    format_datetime,
    get_entity_type,
    get_record,
    hookimpl,
    visible_select,
)

from . import PERMISSIONS, _
from .models import Case, CaseType, Contract

#: what a customer reads of their cases; internal fields (team, assignee, priority,
#: serial number, the e-mail's headers) stay with the staff
CASE_FIELDS = (
    "number",
    "subject",
    "description",
    "type_id",
    "status",
    "channel",
    "product_id",
    "account_id",
    "person_id",
    "created_at",
    "updated_at",
)
#: what a customer fills in when opening a case; channel, account and contact are the
#: server's (see :func:`portal_defaults`)
CASE_WRITABLE = ("subject", "description", "type_id", "product_id")
CASES_LIMIT = 200
PRODUCTS_LIMIT = 500


def is_portal(request) -> bool:
    ident = request.identity
    return ident is not None and getattr(ident, "portal", None) is not None


def portal_defaults(request, data: dict) -> None:
    """A case a portal user opens (page or API) comes through the portal, from them, for
    their company: never another channel, contact or customer."""
    link = request.identity.portal
    data["channel"] = "portal"
    data["person_id"] = link.record_id
    data["account_id"] = link.customer_id


def _type_choices(request) -> list[tuple[int, str]]:
    rows = request.dbsession.execute(
        select(CaseType.id, CaseType.name)
        .where(CaseType.active.is_(True))
        .order_by(CaseType.position, CaseType.name)
    ).all()
    return [(i, request.localizer.translate(_(name))) for i, name in rows]


def _product_choices(request) -> list[tuple[int, str]]:
    """Products (stock items: not services or hours) a case may be about, through the
    user's rules."""
    et = get_entity_type(request, "product")
    rows = request.dbsession.execute(
        visible_select(request, et)
        .where(et.model.active.is_(True), et.model.kind == "stock")
        .order_by(et.model.name, et.model.id)
        .limit(PRODUCTS_LIMIT)
    ).scalars()
    return [(p.id, p.name) for p in rows]


def cases_view(request):
    et = get_entity_type(request, "case")
    rows = request.dbsession.execute(
        visible_select(request, et)
        .where(Case.merged_into_id.is_(None))
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .limit(CASES_LIMIT)
    ).scalars()
    items = [
        {
            "number": c.number or "",
            "subject": c.subject,
            "status": display_text(request, et, "status", c.status),
            "type": display_text(request, et, "type_id", c.type_id) if c.type_id else "",
            "changed": format_datetime(request, c.updated_at or c.created_at),
            "url": request.route_url("helpdesk.portal.case", id=c.id),
        }
        for c in rows
    ]
    return {"title": _("My cases"), "items": items}


def case_view(request):
    et = get_entity_type(request, "case")
    case = get_record(request, et, int(request.matchdict["id"]))
    if case.merged_into_id is not None:
        # a merged case lives on in the one it was merged into
        raise HTTPNotFound()
    details = [
        (_("Status"), display_text(request, et, "status", case.status)),
        (_("Type"), display_text(request, et, "type_id", case.type_id) if case.type_id else ""),
        (
            _("Product"),
            display_text(request, et, "product_id", case.product_id) if case.product_id else "",
        ),
        (_("Opened"), format_datetime(request, case.created_at)),
        (_("Last change"), format_datetime(request, case.updated_at or case.created_at)),
    ]
    return {
        "title": case.subject,
        "case": case,
        "details": [(k, v) for k, v in details if v],
    }


CONTRACT_FIELDS = (
    "name",
    "account_id",
    "starts_on",
    "ends_on",
    "renewal",
    "unit",
    "quantity",
    "used",
)


def contracts_view(request):
    """ "My contracts": the customer's support contracts, their term and what is left of
    the bank, in words."""
    from kyklos_sdk import format_date

    from .contracts import balance_words

    et = get_entity_type(request, "supportcontract")
    rows = request.dbsession.execute(
        visible_select(request, et).order_by(Contract.starts_on.desc(), Contract.id.desc())
    ).scalars()
    items = [
        {
            "name": c.name,
            "starts": format_date(request, c.starts_on),
            "ends": format_date(request, c.ends_on) if c.ends_on else "",
            "renewal": display_text(request, et, "renewal", c.renewal),
            "balance": balance_words(request, c),
        }
        for c in rows
    ]
    return {"title": _("My contracts"), "items": items}


def new_case_view(request):
    et = get_entity_type(request, "case")
    values = {"subject": "", "description": "", "type_id": "", "product_id": ""}
    errors: dict = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        data: dict = {"subject": values["subject"][:250], "description": values["description"]}
        for key in ("type_id", "product_id"):
            raw = values[key]
            if raw:
                if not raw.isdigit() or len(raw) > 12:
                    errors[key] = _("Choose from the list.")
                else:
                    data[key] = int(raw)
        if request.identity.portal.customer_id is None:
            # the record rules would refuse it: say why instead
            errors[""] = _("Your login belongs to no company yet: please call us.")
        if not errors:
            try:
                case = create_record(request, et, data, source="portal")
            except RecordError as exc:
                errors = exc.errors
            else:
                number = case.number or case.subject
                request.session.flash(
                    _("Case ${number} is open: we will be in touch.", mapping={"number": number}),
                    "success",
                )
                return HTTPSeeOther(request.route_url("helpdesk.portal.case", id=case.id))
        request.response.status = 400
    return {
        "title": _("Open a new case"),
        "values": values,
        "errors": errors,
        "types": _type_choices(request),
        "products": _product_choices(request),
    }


class PortalHooks:
    @hookimpl
    def kyklos_visibility_restrictions(self, request, entity_type, action):
        # The portal reads products only to name one on a new case: the active stock
        # items the form offers, on every path (the API too).
        if entity_type.name == "product" and is_portal(request):
            return [entity_type.model.active.is_(True), entity_type.model.kind == "stock"]
        return None

    @hookimpl
    def kyklos_portal_pages(self, request):
        return [
            PortalPage(
                "helpdesk-cases",
                _("My cases"),
                request.route_url("helpdesk.portal.cases"),
                _("Your company's requests to our support, and a new one"),
                icon="life-preserver",
                order=30,
                permission=PERMISSIONS["case"]["read"],
            ),
            PortalPage(
                "helpdesk-contracts",
                _("My contracts"),
                request.route_url("helpdesk.portal.contracts"),
                _("Your support contracts and the hours left"),
                icon="file-earmark-check",
                order=31,
                permission=PERMISSIONS["supportcontract"]["read"],
            ),
        ]


def includeme(config):
    # a case belongs to its account's customer, else to its contact person's
    config.add_portal_access(
        "case", ("account_id", "person.account_id"), fields=CASE_FIELDS, writable=CASE_WRITABLE
    )
    perms = PERMISSIONS["case"]
    # read, export and create only: a customer neither edits nor moves a case once it is open
    config.extend_role(
        "portal",
        [
            perms["read"],
            perms["export"],
            perms["create"],
            PERMISSIONS["casetype"]["read"],
            "catalog.product.read",
        ],
    )
    config.add_record_rule("case", "portal", "read", "customer")
    # their support contracts and the balance of the bank (HD-10)
    config.add_portal_access("supportcontract", ("account_id",), fields=CONTRACT_FIELDS)
    config.extend_role("portal", [PERMISSIONS["supportcontract"]["read"]])
    config.add_record_rule("supportcontract", "portal", "read", "customer")
    # the rule a new case is checked against: it must be their customer's
    config.add_record_rule("case", "portal", "write", "customer")
    # the products a case may be about: the catalog is no secret (no field of it is
    # declared for the portal, so the API shows customers nothing of a product)
    config.add_record_rule("product", "portal", "read", "all")
    # the case types, to show a case's type in words and offer them on a new case
    config.add_record_rule("casetype", "portal", "read", "all")
    config.add_route("helpdesk.portal.cases", "/portal/helpdesk/cases", request_method="GET")
    config.add_view(
        cases_view,
        route_name="helpdesk.portal.cases",
        renderer="kyklos_helpdesk:templates/portal_cases.pt",
        permission="kyklos.portal.use",
    )
    config.add_route("helpdesk.portal.new", "/portal/helpdesk/cases/new")
    config.add_view(
        new_case_view,
        route_name="helpdesk.portal.new",
        renderer="kyklos_helpdesk:templates/portal_new_case.pt",
        permission="kyklos.portal.use",
    )
    config.add_route(
        "helpdesk.portal.case", r"/portal/helpdesk/cases/{id:\d+}", request_method="GET"
    )
    config.add_view(
        case_view,
        route_name="helpdesk.portal.case",
        renderer="kyklos_helpdesk:templates/portal_case.pt",
        permission="kyklos.portal.use",
    )
    config.add_route(
        "helpdesk.portal.contracts", "/portal/helpdesk/contracts", request_method="GET"
    )
    config.add_view(
        contracts_view,
        route_name="helpdesk.portal.contracts",
        renderer="kyklos_helpdesk:templates/portal_contracts.pt",
        permission="kyklos.portal.use",
    )
    config.add_hooks(PortalHooks(), name="kyklos_helpdesk.portal")
