"""The customer portal's side of contacts: portal users are people, their customer is
their account; "My company" shows the account and its people (read-only) and lets the
portal user update their own name, phones and e-mails."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from kyklos_sdk import (
    PortalPage,
    RecordError,
    display_value,
    get_entity_type,
    get_record,
    hookimpl,
    update_record,
    visible_select,
)

from . import _
from .models.choices import EMAIL_KINDS, PHONE_KINDS

ACCOUNT_FIELDS = (
    "name",
    "legal_form",
    "vat_number",
    "tax_office",
    "email",
    "phone",
    "website",
    "city",
    "country",
)
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "job_title",
    "department",
    "email",
    "phone",
    "phones",
    "emails",
    "account_id",
)
#: what a portal user may change of their own person record
SELF_FIELDS = ("first_name", "last_name", "phones", "emails")
PEOPLE_LIMIT = 200


def _rows(request, prefix: str, key: str, kinds) -> list[dict]:
    """The typed rows a form posted (``phone-0-number``, ``phone-0-type``, ...),
    blank ones dropped; the first is primary."""
    out = []
    for i in range(20):
        value = request.POST.get(f"{prefix}-{i}-{key}", "").strip()[:254]
        kind = request.POST.get(f"{prefix}-{i}-type", "")
        if not value:
            continue
        out.append({"type": kind if kind in dict(kinds) else kinds[0][0], key: value})
    for n, item in enumerate(out):
        item["primary"] = n == 0
    return out


def _me(request):
    link = request.identity.portal
    et = get_entity_type(request, "person")
    return et, get_record(request, et, link.record_id)


def company_view(request):
    link = request.identity.portal
    aet = get_entity_type(request, "account")
    pet = get_entity_type(request, "person")
    account = None
    if link.customer_id is not None:
        account = request.dbsession.execute(
            visible_select(request, aet).where(aet.model.id == link.customer_id)
        ).scalar_one_or_none()
    details = []
    people = []
    if account is not None:
        for name in ACCOUNT_FIELDS:
            value = getattr(account, name, None)
            if value not in (None, "", []):
                details.append((aet.fields[name].title, display_value(request, aet, name, value)))
        rows = request.dbsession.execute(
            visible_select(request, pet)
            .where(pet.model.account_id == account.id)
            .order_by(pet.model.last_name, pet.model.first_name, pet.model.id)
            .limit(PEOPLE_LIMIT)
        ).scalars()
        for p in rows:
            people.append(
                {
                    "name": pet.record_title(p),
                    "job_title": p.job_title or "",
                    "phones": display_value(request, pet, "phones", p.phones),
                    "emails": display_value(request, pet, "emails", p.emails),
                    "me": p.id == link.record_id,
                }
            )
    return {"title": _("My company"), "account": account, "details": details, "people": people}


def me_view(request):
    et, me = _me(request)
    errors = {}
    values = {
        "first_name": me.first_name,
        "last_name": me.last_name,
        "phones": me.phones,
        "emails": me.emails,
    }
    if request.method == "POST":
        values = {
            "first_name": request.POST.get("first_name", "").strip()[:100],
            "last_name": request.POST.get("last_name", "").strip()[:100],
            "phones": _rows(request, "phone", "number", PHONE_KINDS),
            "emails": _rows(request, "email", "email", EMAIL_KINDS),
        }
        try:
            update_record(request, et, me, dict(values), source="portal")
        except RecordError as exc:
            errors = exc.errors
            request.response.status = 400
        else:
            request.session.flash(_("Your details are saved."), "success")
            return HTTPSeeOther(request.route_url("contacts.portal.me"))
    return {
        "title": _("Update my details"),
        "values": values,
        "errors": errors,
        "phone_kinds": PHONE_KINDS,
        "email_kinds": EMAIL_KINDS,
    }


class PortalPages:
    @hookimpl
    def kyklos_portal_pages(self, request):
        return [
            PortalPage(
                "contacts-company",
                _("My company"),
                request.route_url("contacts.portal.company"),
                _("Your company's details and its people"),
                icon="building",
                order=10,
            ),
            PortalPage(
                "contacts-me",
                _("Update my details"),
                request.route_url("contacts.portal.me"),
                _("Your name, phone numbers and e-mail addresses"),
                icon="person-lines-fill",
                order=90,
            ),
        ]


def includeme(config):
    config.set_portal_identity("person", customer_field="account_id", email_field="email")
    config.add_portal_access("account", "id", fields=ACCOUNT_FIELDS)
    config.add_portal_access("person", "account_id", fields=PERSON_FIELDS, writable=SELF_FIELDS)
    config.extend_role(
        "portal",
        [
            "contacts.account.read",
            "contacts.account.export",
            "contacts.person.read",
            "contacts.person.export",
            "contacts.person.update",
        ],
    )
    config.add_record_rule("account", "portal", "read", "customer")
    config.add_record_rule("person", "portal", "read", "customer")
    # the portal user's own person record only: colleagues' details stay read-only
    config.add_record_rule("person", "portal", "write", "self")
    config.add_route("contacts.portal.company", "/portal/contacts/company", request_method="GET")
    config.add_view(
        company_view,
        route_name="contacts.portal.company",
        renderer="kyklos_contacts:templates/portal_company.pt",
        permission="kyklos.portal.use",
    )
    config.add_route("contacts.portal.me", "/portal/contacts/me")
    config.add_view(
        me_view,
        route_name="contacts.portal.me",
        renderer="kyklos_contacts:templates/portal_me.pt",
        permission="kyklos.portal.use",
    )
    config.add_hooks(PortalPages(), name="kyklos_contacts.portal")
