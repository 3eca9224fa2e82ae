"""The mass notice of expiring contracts (HD-08): the contracts ending in a month (next
month by default) are listed with checkboxes; a message per language (each contact
gets it in their own) is previewed, then sent: one e-mail per contact of the customer
with an address, queued through the core's mail (it leaves when the transaction
commits), and logged as a done e-mail activity on the customer's timeline.

The activity's idempotency key names the contract, its end date and the contact: sending
again (a double click, a second manager) mails nobody twice for the same period, and a
contract extended to a new end date is noticed again before that one."""

from __future__ import annotations

import datetime as dt
import re
from string import Template

from babel.dates import format_date as babel_date
from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from kyklos_sdk import (
    LANGUAGES,
    Problem,
    format_date,
    get_entity_type,
    hookimpl,
    read_json,
    record_created,
    record_title,
    translate_for,
    utcnow,
    visible_select,
)

from . import PERMISSIONS, _
from .mailing import Recipient, recipient_language, send_notice
from .models import Contract
from .statements import month_end, month_words

DEFAULT_SUBJECT = _("Your support contract “${contract}” ends on ${date}")
DEFAULT_BODY = _(
    "Dear ${person},\n\n"
    "the support contract “${contract}” of ${customer} ends on ${date}. "
    "Reply to this message and we will renew it for you.\n\n"
    "Kind regards"
)


def next_month(today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    return month_end(today.replace(day=1)) + dt.timedelta(days=1)


def parse_month_or_next(value: str | None) -> dt.date:
    from .statements import parse_month

    return parse_month(value) if value else next_month()


def expiring(request, first: dt.date) -> list[Contract]:
    et = get_entity_type(request, "supportcontract")
    q = (
        visible_select(request, et)
        .where(Contract.ends_on >= first, Contract.ends_on <= month_end(first))
        .order_by(Contract.ends_on, Contract.id)
    )
    return list(request.dbsession.execute(q).scalars())


def contacts_of(db, account_id: int):
    from kyklos_contacts.models import Person

    q = (
        select(Person)
        .where(
            Person.account_id == account_id,
            Person.deleted_at.is_(None),
            Person.email.is_not(None),
            Person.email != "",
        )
        .order_by(Person.last_name, Person.id)
    )
    return list(db.execute(q).scalars())


def languages(request) -> list[str]:
    return list(LANGUAGES)


def default_templates(request) -> dict:
    return {
        lang: {
            "subject": translate_for(request, DEFAULT_SUBJECT, lang),
            "body": translate_for(request, DEFAULT_BODY, lang),
        }
        for lang in languages(request)
    }


def key_of(contract: Contract, person_id: int) -> str:
    return f"helpdesk:notice:{contract.id}:{contract.ends_on}:{person_id}"


def _fill(text: str, values: dict) -> str:
    # the manager's words with ${...} filled; anything else stays as typed
    return Template(text).safe_substitute(values)


def render_for(request, contract, person, templates: dict, lang: str) -> tuple[str, str]:
    """``(subject, body)`` of one contact's e-mail in ``lang`` (one of ``templates``)."""
    account_et = get_entity_type(request, "account")
    account = request.dbsession.get(account_et.model, contract.account_id)
    values = {
        "person": f"{person.first_name} {person.last_name}".strip(),
        "contract": contract.name,
        "customer": record_title(request, account_et, account) if account else "",
        # the date in the contact's language, not the sender's
        "date": babel_date(contract.ends_on, "long", locale=lang),
    }
    t = templates[lang]
    return _fill(t["subject"], values), _fill(t["body"], values)


def message_for(request, contract, person, templates: dict) -> tuple[str, str, str]:
    """``(language, subject, body)`` of one contact's e-mail (the preview's)."""
    lang = recipient_language(request, person.language, templates)
    return (lang, *render_for(request, contract, person, templates, lang))


def send_notices(request, contracts: list[Contract], templates: dict, progress=None) -> dict:
    """Mail each contact of each contract's customer once per contract and end date,
    in their language; each mail is logged as a done e-mail activity whose idempotency
    key (:func:`key_of`) tells who was told."""
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import Activity, ActivityType

    db = request.dbsession
    ensure_defaults(db)
    atype = db.execute(select(ActivityType).where(ActivityType.code == "email")).scalar()
    et_activity = get_entity_type(request, "activity")
    sender = request.authenticated_userid
    sender = sender if isinstance(sender, int) else None
    recipients = [
        Recipient(person.email, person.language, (contract, person))
        for contract in contracts
        for person in contacts_of(db, contract.account_id)
    ]

    def told(r: Recipient) -> bool:
        contract, person = r.about
        key = key_of(contract, person.id)
        return (
            db.execute(select(Activity.id).where(Activity.external_uid == key)).scalar() is not None
        )

    def render(r: Recipient, lang: str) -> tuple[str, str]:
        contract, person = r.about
        return render_for(request, contract, person, templates, lang)

    def record(r: Recipient, lang: str, subject: str, body: str) -> None:
        contract, person = r.about
        now = utcnow()
        act = Activity(
            type_id=atype.id,
            subject=subject[:300],
            description=body,
            status="sent",
            state="done",
            priority="normal",
            due_at=now,
            completed_at=now,
            span_start=now,
            span_end=now,
            private=False,
            responsible_id=sender,
            owner_id=sender,
            person_id=person.id,
            account_id=contract.account_id,
            about_type="supportcontract",
            about_id=contract.id,
            reminders=[],
            exdates=[],
            external_uid=key_of(contract, person.id),
        )
        db.add(act)
        db.flush()
        record_created(request, et_activity, act, source="notice")

    return send_notice(
        request, recipients, render, templates, told=told, record=record, progress=progress
    )


JOB = "helpdesk.contract_notices"


def notices_job(ctx, month: str, contract_ids: list, templates: dict) -> dict:
    """The notices sent in the background (``helpdesk.contract_notices``), as the user
    who asked: their contracts still ending in ``month`` among ``contract_ids`` (one
    extended meanwhile is left out), progress reported per contact. The mails leave
    when the job's transaction commits, with the activities that record them; a job
    run again tells only those not told (the activities' keys)."""
    from .statements import parse_month

    request = ctx.request
    first = parse_month(month)
    wanted = {int(i) for i in contract_ids}
    contracts = [c for c in expiring(request, first) if c.id in wanted]

    def progress(done: int, total: int) -> None:
        ctx.progress(
            100 * done / max(1, total),
            request.localizer.translate(
                _("${done} of ${total} contacts", mapping={"done": done, "total": total})
            ),
        )

    return send_notices(request, contracts, templates, progress=progress)


def start_notices(request, first: dt.date, contracts: list[Contract], templates: dict) -> str:
    """Queue the notices of ``contracts`` (checked by the caller); the job's id."""
    return request.enqueue_job(
        JOB,
        args={
            "month": f"{first:%Y-%m}",
            "contract_ids": [c.id for c in contracts],
            "templates": templates,
        },
    )


JOB_ID = re.compile(r"^[0-9a-f-]{36}$")


def job_panel(request, job_id: str | None) -> dict | None:
    """What the page needs to follow a notice job it started: the job's API address
    (a script polls it and says the result in words) and the jobs page."""
    if not job_id or not JOB_ID.match(job_id):
        return None
    loc = request.localizer
    return {
        "url": request.route_url("api.job", id=job_id),
        "jobs": request.route_url("jobs"),
        "done": loc.translate(
            _(
                "E-mails sent: ${sent}; already sent before: ${skipped}.",
                mapping={"sent": "{sent}", "skipped": "{skipped}"},
            )
        ),
        "failed": loc.translate(_("Sending the notices failed: {error}")),
    }


def _templates_from(raw, errors) -> dict:
    out = {}
    if not isinstance(raw, dict):
        errors["templates"] = _("Give a subject and a message per language.")
        return out
    for lang, t in raw.items():
        if not isinstance(t, dict) or not str(t.get("subject") or "").strip():
            errors[f"templates.{lang}.subject"] = _("Give a subject.")
            continue
        if not str(t.get("body") or "").strip():
            errors[f"templates.{lang}.body"] = _("Give a message.")
            continue
        out[lang] = {"subject": str(t["subject"]).strip(), "body": str(t["body"])}
    return out


def _chosen(request, first, ids, errors) -> list[Contract]:
    by_id = {c.id: c for c in expiring(request, first)}
    if not ids or not isinstance(ids, list):
        errors["contract_ids"] = _("Choose at least one contract.")
        return []
    chosen = []
    for cid in ids:
        cid = int(cid) if isinstance(cid, str) and cid.isdigit() else cid
        if isinstance(cid, bool) or not isinstance(cid, int) or cid not in by_id:
            errors["contract_ids"] = _("Choose contracts of the list.")
            return []
        chosen.append(by_id[cid])
    return chosen


def api_send(request):
    """``POST /api/v1/helpdesk/contract-notices`` ``{"month": "2027-01", "contract_ids":
    [..], "templates": {"en": {"subject", "body"}, ...}}`` (templates default to the
    built-in message in each language) → 202 ``{"job_id", "job_url"}``: the notices go
    out in a background job whose result (at ``job_url``) is ``{"sent", "skipped"}``."""
    body = read_json(request)
    errors: dict = {}
    try:
        first = parse_month_or_next(body.get("month"))
    except (ValueError, TypeError, AttributeError):
        errors["month"] = _("Give a month as YYYY-MM.")
        first = None
    templates = default_templates(request)
    if "templates" in body:
        templates.update(_templates_from(body["templates"], errors))
    chosen = _chosen(request, first, body.get("contract_ids"), errors) if first else []
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    job_id = start_notices(request, first, chosen, templates)
    request.response.status = 202
    return {"job_id": job_id, "job_url": request.route_url("api.job", id=job_id)}


def notices_page(request):
    errors: dict = {}
    try:
        first = parse_month_or_next(request.params.get("month"))
    except (ValueError, TypeError):
        errors["month"] = _("Give a month as YYYY-MM.")
        first = next_month()
    contracts = expiring(request, first)
    templates = default_templates(request)
    picked: set[int] = set()
    preview = []
    if request.method == "POST":
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["contract_ids"] = _("The form expired; send it again.")
        else:
            raw = {
                lang: {
                    "subject": request.POST.get(f"subject-{lang}", ""),
                    "body": request.POST.get(f"body-{lang}", ""),
                }
                for lang in templates
            }
            templates.update(_templates_from(raw, errors))
            chosen = _chosen(request, first, request.POST.getall("contract_id"), errors)
            picked = {c.id for c in chosen}
            if not errors and request.POST.get("action") == "send":
                job_id = start_notices(request, first, chosen, templates)
                return HTTPSeeOther(
                    request.route_url(
                        "helpdesk.notices", _query={"month": f"{first:%Y-%m}", "job": job_id}
                    )
                )
            elif not errors:
                for c in chosen:
                    for person in contacts_of(request.dbsession, c.account_id)[:3]:
                        lang, subject, body = message_for(request, c, person, templates)
                        preview.append((person.email, lang, subject, body))
        if errors:
            request.response.status = 400
    account_et = get_entity_type(request, "account")
    accounts = {
        c.account_id: record_title(
            request, account_et, request.dbsession.get(account_et.model, c.account_id)
        )
        for c in contracts
    }
    return {
        "title": _("Notice of expiring contracts"),
        "month": f"{first:%Y-%m}",
        "month_title": month_words(request, first),
        "contracts": contracts,
        "accounts": accounts,
        "contacts": {c.id: len(contacts_of(request.dbsession, c.account_id)) for c in contracts},
        "picked": picked,
        "templates": templates,
        "language_names": dict(LANGUAGES),
        "preview": preview,
        "job": job_panel(request, request.GET.get("job")),
        "errors": errors,
        "fd": lambda d: format_date(request, d),
        "hint": request.localizer.translate(
            _(
                "${a}, ${b}, ${c} and ${d} are filled in for each contact.",
                mapping={
                    "a": "${person}",
                    "b": "${customer}",
                    "c": "${contract}",
                    "d": "${date}",
                },
            )
        ),
    }


class NoticeHooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        from kyklos_sdk import MenuItem

        return [
            MenuItem(
                _("Notice of expiring contracts"),
                request.route_path("helpdesk.notices"),
                PERMISSIONS["supportcontract"]["update"],
                "envelope-exclamation",
                order=47,
            )
        ]


OPENAPI = {
    "/api/v1/helpdesk/contract-notices": {
        "post": {
            "operationId": "helpdesk_contract_notices",
            "tags": ["Helpdesk"],
            "summary": "E-mail the contacts of customers whose contracts end in a month",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["contract_ids"],
                            "properties": {
                                "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                                "contract_ids": {"type": "array", "items": {"type": "integer"}},
                                "templates": {"type": "object"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "202": {
                    "description": "{job_id, job_url}: the job's result is {sent, skipped}",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": {
                    "description": "bad month, contracts or templates",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                "403": {"description": "not allowed"},
            },
        }
    }
}


def includeme(config):
    perm = PERMISSIONS["supportcontract"]["update"]
    config.add_openapi_paths(lambda request: OPENAPI)
    config.add_route(
        "helpdesk.api.notices", "/api/v1/helpdesk/contract-notices", request_method="POST"
    )
    config.add_view(api_send, route_name="helpdesk.api.notices", permission=perm, renderer="json")
    config.add_route("helpdesk.notices", "/helpdesk/contract-notices")
    config.add_view(
        notices_page,
        route_name="helpdesk.notices",
        permission=perm,
        renderer="kyklos_helpdesk:templates/notices.pt",
    )
    config.add_job(JOB, notices_job, retries=2, title=_("Notice of expiring contracts"))
    config.add_hooks(NoticeHooks(), name="kyklos_helpdesk.notices")
