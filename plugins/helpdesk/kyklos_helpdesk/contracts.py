"""Support contracts and their bank of hours or call units (HD-07..10): a case takes the
customer's contract running the day it opens; time spent on the case consumes that
contract's bank; beyond the bank the contract's overage rule either marks the time as
extra (to bill) or refuses it. The contract's SLA policy, when it names one, is the
case's policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, or_, select

from kyklos_sdk import format_date, format_number, get_entity_type, visible_select

from . import _
from .models import Case, Contract, TimeEntry


def contract_for(db, account_id: int | None, on: dt.date) -> Contract | None:
    """The customer's contract running on ``on`` (the latest started, if several)."""
    if not account_id:
        return None
    q = (
        select(Contract)
        .where(
            Contract.account_id == account_id,
            Contract.deleted_at.is_(None),
            Contract.starts_on <= on,
            or_(Contract.ends_on.is_(None), Contract.ends_on >= on),
        )
        .order_by(Contract.starts_on.desc(), Contract.id.desc())
        .limit(1)
    )
    return db.execute(q).scalar()


def _merged(record, data, name):
    return data[name] if name in data else getattr(record, name, None)


def validate_case_contract(request, record, data, errors) -> None:
    """A case's contract is one of its customer's; a new case without one takes the
    customer's contract running today."""
    db = request.dbsession
    account_id = _merged(record, data, "account_id")
    if data.get("contract_id"):
        contract = db.get(Contract, data["contract_id"])
        if contract is None or contract.deleted_at is not None:
            errors["contract_id"] = _("No such contract.")
        elif account_id and contract.account_id != account_id:
            errors["contract_id"] = _("This contract is another customer's.")
    elif record is None and "contract_id" not in data and account_id:
        found = contract_for(db, account_id, dt.date.today())
        if found is not None:
            data["contract_id"] = found.id


def validate_contract(record, data, errors) -> None:
    starts, ends = _merged(record, data, "starts_on"), _merged(record, data, "ends_on")
    if starts and ends and ends < starts:
        errors["ends_on"] = _("The end comes before the start.")
    quantity = data.get("quantity")
    if quantity is not None and quantity < 0:
        errors["quantity"] = _("Give a number of zero or more.")


def validate_entry(request, record, data, errors) -> None:
    """Time spent: above zero, on a case the user may see; beyond the bank of a
    contract that refuses overage, refused with what is left."""
    quantity = _merged(record, data, "quantity")
    if quantity is not None and quantity <= 0:
        errors["quantity"] = _("Give the time spent, above zero.")
        return
    case_id = _merged(record, data, "case_id")
    if not case_id:
        return
    et = get_entity_type(request, "case")
    case = request.dbsession.execute(visible_select(request, et).where(Case.id == case_id)).scalar()
    if case is None:
        errors["case_id"] = _("No such case, or you may not see it.")
        return
    if case.contract_id and quantity is not None:
        contract = request.dbsession.get(Contract, case.contract_id)
        before = record.quantity if record is not None else Decimal(0)
        left = contract.balance + (before or Decimal(0))
        if contract.overage == "refuse" and quantity > left:
            errors["quantity"] = _(
                "Only ${left} left in the contract's bank.",
                mapping={"left": format_number(request, max(left, Decimal(0)))},
            )


def before_entry_save(db, entry: TimeEntry, changes) -> None:
    for field in ("case_id", "quantity"):
        if field in changes:
            setattr(entry, field, changes[field][1])
    case = db.get(Case, entry.case_id)
    entry.contract_id = case.contract_id if case is not None else None
    if entry.contract_id:
        contract = db.get(Contract, entry.contract_id)
        own = db.execute(
            select(func.coalesce(func.sum(TimeEntry.quantity), 0)).where(
                TimeEntry.contract_id == contract.id,
                TimeEntry.id != (entry.id or 0),
            )
        ).scalar()
        entry.overage = Decimal(own) + entry.quantity > contract.quantity
    else:
        entry.overage = False


def refresh_used(db, contract_id: int | None) -> None:
    """The contract's used hours: the sum of its time entries."""
    if not contract_id:
        return
    db.flush()
    contract = db.get(Contract, contract_id)
    if contract is None:
        return
    contract.used = db.execute(
        select(func.coalesce(func.sum(TimeEntry.quantity), 0)).where(
            TimeEntry.contract_id == contract_id
        )
    ).scalar()


def balance_words(request, contract: Contract) -> str:
    """ "12.5 of 20 hours left", "3 calls over the bank" in the user's language."""
    loc = request.localizer
    left = contract.balance
    n = format_number(request, abs(left))
    total = format_number(request, contract.quantity)
    if contract.unit == "calls":
        if left >= 0:
            return loc.translate(_("${n} of ${total} calls left", mapping={"n": n, "total": total}))
        return loc.translate(_("${n} calls over the bank", mapping={"n": n}))
    if left >= 0:
        return loc.translate(_("${n} of ${total} hours left", mapping={"n": n, "total": total}))
    return loc.translate(_("${n} hours over the bank", mapping={"n": n}))


def contract_line(request, contract: Contract) -> str:
    words = balance_words(request, contract)
    if contract.ends_on:
        ends = request.localizer.translate(
            _("ends on ${date}", mapping={"date": format_date(request, contract.ends_on)})
        )
        return f"{words} · {ends}"
    return words


def burn_down(db, contract: Contract) -> list[tuple[dt.date, Decimal]]:
    """What was left of the bank after each day time was logged, from the start."""
    rows = db.execute(
        select(TimeEntry.spent_on, func.sum(TimeEntry.quantity))
        .where(TimeEntry.contract_id == contract.id)
        .group_by(TimeEntry.spent_on)
        .order_by(TimeEntry.spent_on)
    ).all()
    left = Decimal(contract.quantity or 0)
    out = [(contract.starts_on, left)]
    for day, spent in rows:
        left -= Decimal(spent)
        out.append((day, left))
    return out


def contracts_of_account(request, account_id: int) -> list[Contract]:
    et = get_entity_type(request, "supportcontract")
    q = (
        visible_select(request, et)
        .where(Contract.account_id == account_id)
        .order_by(Contract.starts_on.desc(), Contract.id.desc())
    )
    return list(request.dbsession.execute(q).scalars())


# --- renewal reminders (HD-08) --------------------------------------------------------

RENEWAL_JOB = "helpdesk.contract_renewals"


def due_for_renewal(db, today: dt.date, days: int) -> list[Contract]:
    """Contracts that renew (by request or automatically) ending within ``days``."""
    q = (
        select(Contract)
        .where(
            Contract.deleted_at.is_(None),
            Contract.renewal != "none",
            Contract.ends_on.is_not(None),
            Contract.ends_on >= today,
            Contract.ends_on <= today + dt.timedelta(days=days),
        )
        .order_by(Contract.ends_on, Contract.id)
    )
    return list(db.execute(q).scalars())


def remind_renewals(request, today: dt.date | None = None) -> int:
    """A task "Renew the contract …" for each contract's owner, once per end date: the
    activity's idempotency key names the contract and its end date, so a job run twice
    (a restart, a clock jump back) creates nothing new, and a contract extended to a
    new end date is reminded again before that one."""
    from kyklos_activities.automation import create_for
    from kyklos_activities.defaults import ensure_defaults

    from kyklos_sdk import User, translate_for

    db = request.dbsession
    today = today or dt.date.today()
    days = int(request.registry.settings.get("kyklos.helpdesk.renewal_notice_days") or 30)
    contracts = due_for_renewal(db, today, days)
    if not contracts:
        return 0
    ensure_defaults(db)
    et = get_entity_type(request, "supportcontract")
    made = 0
    for contract in contracts:
        owner = db.get(User, contract.owner_id) if contract.owner_id else None
        lang = getattr(owner, "locale", None)
        subject = translate_for(
            request,
            _(
                "Renew the support contract “${name}” (ends on ${date})",
                mapping={"name": contract.name, "date": format_date(request, contract.ends_on,
                                                                      locale=lang)},
            ),
            lang,
        )
        config = {
            "activity_type": "task",
            # the subject is final text: a "$" in a contract's name stays as it is
            "subject": subject.replace("$", "$$"),
            "due_in_days": max(0, (contract.ends_on - today).days - 7),
            "assignee": "owner",
        }
        result = create_for(request, et, contract, config, f"renewal:{contract.ends_on}")
        made += int(result["created"])
    return made


def renewal_job(ctx, now: str | None = None):
    """The daily job: ``now`` (ISO 8601 date) only for tests and replays."""
    today = dt.date.fromisoformat(now[:10]) if now else None
    return {"created": remind_renewals(ctx.request, today)}
