"""Mailbox rules (ACT-15): which rule applies to a message (the first active one of
its mailbox, by position, whose every given condition holds) and what it does: file it
to a chosen person or account, assign it to a user, keep it unfiled, make it private,
open a case through ``kyklos_mail_support_message``. A dry run shows what the rules
would have done to a mailbox's recent messages."""

from __future__ import annotations

import re

from sqlalchemy import select

from kyklos_sdk import get_entity_type, get_record

from . import _
from .models import Message, Rule

DRY_RUN = 50
CONDITIONS = (
    "from_contains",
    "to_contains",
    "subject_contains",
    "has_attachment",
    "body_contains",
    "header_name",
)
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,99}$")
ACTIONS = (
    "file_person_id",
    "file_account_id",
    "assign_to_id",
    "skip_filing",
    "make_private",
    "open_case",
)


def holds(
    rule: Rule,
    sender: str,
    recipients: str,
    subject: str,
    attachments: bool,
    body: str | None = "",
    headers: dict | None = None,
) -> bool:
    """Every condition the rule gives holds (case-insensitive "contains")."""
    for wanted, text in (
        (rule.from_contains, sender),
        (rule.to_contains, recipients),
        (rule.subject_contains, subject),
        (rule.body_contains, body),
    ):
        if wanted and wanted.strip().casefold() not in (text or "").casefold():
            return False
    if rule.has_attachment == "yes" and not attachments:
        return False
    if rule.has_attachment == "no" and attachments:
        return False
    if rule.header_name:
        return header_holds(rule, headers or {})
    return True


def header_holds(rule: Rule, headers: dict) -> bool:
    value = headers.get(rule.header_name.strip().lower())
    if value is None:
        return False
    wanted = (rule.header_value or "").strip().casefold()
    if rule.header_op == "equals":
        return " ".join(str(value).split()).casefold() == " ".join(wanted.split())
    if rule.header_op == "contains":
        return wanted in str(value).casefold()
    return True  # "present"


def rules_of(db, mailbox_id: int) -> list[Rule]:
    return (
        db.execute(
            select(Rule)
            .where(Rule.mailbox_id == mailbox_id, Rule.active.is_(True))
            .order_by(Rule.position, Rule.id)
        )
        .scalars()
        .all()
    )


def first_match(
    rules: list[Rule],
    message: Message,
    attachments: bool,
    body: str | None = None,
    headers: dict | None = None,
) -> Rule | None:
    """The rule that applies; ``body``/``headers`` of a message being stored (its record
    does not hold them yet), else the record's own."""
    body = message.body_text if body is None else body
    headers = message.headers if headers is None else headers
    for rule in rules:
        if holds(
            rule, message.sender, message.recipients, message.subject, attachments, body, headers
        ):
            return rule
    return None


def support_available(request) -> bool:
    return bool(request.registry.kyklos_pm.hook.kyklos_mail_support_message.get_hookimpls())


def validate_rule(request, record, data, errors) -> None:
    """Checks on every write path: a mailbox the user may change, one action at least,
    no contradiction, a case only where a plugin opens them."""
    for key in ("from_contains", "to_contains", "subject_contains", "body_contains"):
        if key in data and data[key] is not None:
            data[key] = data[key].strip() or None
    for key in ("header_name", "header_value"):
        if key in data and data[key] is not None:
            data[key] = data[key].strip().rstrip(":").strip() or None

    def merged(name):
        return data[name] if name in data else getattr(record, name, None)

    header, op, value = merged("header_name"), merged("header_op"), merged("header_value")
    if header and not HEADER_NAME.match(header):
        errors["header_name"] = _("A header name has letters, digits and hyphens only.")
    elif header and not op:
        errors["header_op"] = _("Choose how the header is compared.")
    elif header and op in ("contains", "equals") and not value:
        errors["header_value"] = _("Give the text the header is compared with.")
    elif not header and (value or op):
        errors["header_name"] = _("Name the header the condition is about.")

    box_id = merged("mailbox_id")
    if "mailbox_id" in data and box_id is not None:
        try:
            get_record(request, get_entity_type(request, "mailbox"), box_id, "update")
        except Exception:  # noqa: BLE001 - HTTPNotFound/Forbidden: not the user's to change
            errors["mailbox_id"] = _("Choose a mailbox you may change.")
    if not any(merged(a) for a in ACTIONS):
        errors.setdefault("skip_filing", _("Choose at least one thing the rule does."))
    if merged("skip_filing") and (
        merged("file_person_id") or merged("file_account_id") or merged("open_case")
    ):
        errors["skip_filing"] = _("A message the rule does not file cannot be filed by it.")
    if merged("open_case") and not support_available(request):
        errors["open_case"] = _("No plugin here opens cases from e-mail.")


def dry_run(request, rule: Rule, limit: int = DRY_RUN) -> list[dict]:
    """The mailbox's last ``limit`` received messages (those the user may see): does
    this rule match, and which rule would apply (an earlier one may win)."""
    from kyklos_sdk import visible_select

    et = get_entity_type(request, "mailmessage")
    msgs = (
        request.dbsession.execute(
            visible_select(request, et)
            .where(Message.mailbox_id == rule.mailbox_id, Message.direction == "in")
            .order_by(Message.sent_at.desc(), Message.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    rules = rules_of(request.dbsession, rule.mailbox_id)
    if rule not in rules:  # an inactive rule is tried as if it were the only one
        rules = [rule]
    out = []
    for m in msgs:
        files = bool(m.attachments)
        winner = first_match(rules, m, files)
        out.append(
            {
                "message": m,
                "matches": holds(
                    rule, m.sender, m.recipients, m.subject, files, m.body_text, m.headers
                ),
                "applies": winner,
            }
        )
    return out
