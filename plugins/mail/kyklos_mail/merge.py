"""E-mail templates' merge fields: ``{first_name}`` and the like, filled from the person
or account one writes from and from the writer. Only these names exist; a template
naming another is refused when saved, so a customer never reads a raw ``{...}``. The
text is plain (sent as text/plain), so a value can inject no markup."""

from __future__ import annotations

import re

from kyklos_sdk import get_entity_type, record_titles, visible_select

from . import _
from .models import Template

FIELD = re.compile(r"\{(\w+)\}")
FIELDS = ("first_name", "last_name", "name", "account_name", "my_name", "my_email")


def unknown_fields(text: str) -> list[str]:
    return sorted({f for f in FIELD.findall(text or "") if f not in FIELDS})


def validate_template(request, record, data, errors) -> None:
    for key in ("subject", "body"):
        if key in data and data[key] is not None:
            bad = unknown_fields(data[key])
            if bad:
                errors[key] = _(
                    "Unknown merge fields: ${names}",
                    mapping={"names": ", ".join("{" + b + "}" for b in bad)},
                )
    subject = data.get("subject")
    if subject is not None and any(ord(c) < 32 for c in subject):
        errors["subject"] = _("A subject is one line of at most 900 characters.")


def values_for(request, entity: str | None, record) -> dict[str, str]:
    user = request.identity.user
    out = dict.fromkeys(FIELDS, "")
    out["my_name"], out["my_email"] = user.name or "", user.email or ""
    if record is None:
        return out
    if entity == "person":
        out["first_name"] = record.first_name or ""
        out["last_name"] = record.last_name or ""
        out["name"] = record_titles(request, get_entity_type(request, "person"), [record]).get(
            record.id, ""
        )
        if record.account_id:
            from kyklos_contacts.models import Account

            aet = get_entity_type(request, "account")
            out["account_name"] = (
                request.dbsession.execute(
                    visible_select(request, aet)
                    .with_only_columns(Account.name)
                    .where(Account.id == record.account_id)
                ).scalar()
                or ""
            )
    elif entity == "account":
        out["name"] = out["account_name"] = record.name or ""
    return out


def fill(text: str, values: dict[str, str]) -> str:
    return FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")


def offered(request, language: str | None = None) -> list[Template]:
    """Active templates the user may read, those in ``language`` first."""
    et = get_entity_type(request, "mailtemplate")
    rows = (
        request.dbsession.execute(
            visible_select(request, et).where(Template.active.is_(True)).order_by(Template.name)
        )
        .scalars()
        .all()
    )
    return sorted(rows, key=lambda t: (t.language != language, t.name.casefold()))


def rendered(request, template: Template, entity: str | None, record) -> dict:
    values = values_for(request, entity, record)
    return {
        "subject": fill(template.subject, values),
        "body": fill(template.body, values),
        "language": template.language,
    }
