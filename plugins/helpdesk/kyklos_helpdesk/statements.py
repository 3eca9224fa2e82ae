"""The monthly billing statement (HD-09/10): per customer and month, the time consumed on
each of its support contracts, what the bank includes, what was used before, in and after
the month, and the overage to bill by the contract's rule. As a page, a PDF and a CSV per
customer, and for all customers of a month at once (one CSV, or a ZIP of the PDFs) for
the invoicing plugin, which can also call :func:`statements_for` directly.

A contract's bank covers its whole term, not a month: the month's overage is what the
month's time took beyond the bank (time before the month used it first)."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from pyramid.httpexceptions import HTTPForbidden
from pyramid.response import Response
from sqlalchemy import or_, select

from kyklos_sdk import (
    Problem,
    field_access,
    format_date,
    format_number,
    get_entity_type,
    hookimpl,
    new_document,
    record_title,
    visible_select,
)

from . import PERMISSIONS, _
from .models import Case, Contract, TimeEntry

ZERO = Decimal(0)
#: the contract fields a statement shows: a user whose field rules hide them gets none
FIELDS = ("quantity", "used", "overage", "unit")


@dataclass
class Entry:
    spent_on: dt.date
    case_number: str
    case_subject: str
    note: str
    quantity: Decimal
    #: the part of this entry beyond the bank
    over: Decimal


@dataclass
class Line:
    """One contract in one month."""

    contract: Contract
    included: Decimal
    before: Decimal
    month: Decimal
    after: Decimal
    #: beyond the bank in this month, billable when the contract's rule bills overage
    over: Decimal
    entries: list[Entry] = field(default_factory=list)

    @property
    def billable(self) -> Decimal:
        return self.over if self.contract.overage == "bill" else ZERO

    @property
    def left(self) -> Decimal:
        return self.included - self.after


@dataclass
class Statement:
    account_id: int
    account: str
    first: dt.date
    last: dt.date
    lines: list[Line]

    @property
    def month_total(self) -> Decimal:
        return sum((ln.month for ln in self.lines), ZERO)

    @property
    def billable_total(self) -> Decimal:
        return sum((ln.billable for ln in self.lines), ZERO)


def parse_month(value: str | None, today: dt.date | None = None) -> dt.date:
    """``"2026-11"`` as its first day; empty: last month (the one to bill). Raises
    ``ValueError`` on anything else."""
    if not value:
        today = today or dt.date.today()
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1)
    year, _sep, month = value.partition("-")
    if not (len(year) == 4 and year.isdigit() and month.isdigit() and len(month) == 2):
        raise ValueError(value)
    return dt.date(int(year), int(month), 1)


def month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def may_read_figures(request) -> bool:
    et = get_entity_type(request, "supportcontract")
    readable, _w = field_access(request, et)
    return set(FIELDS) <= readable


def _contracts(request, first: dt.date, last: dt.date, account_id: int | None):
    """The visible contracts running in the month, or with time logged in it."""
    et = get_entity_type(request, "supportcontract")
    logged = select(TimeEntry.contract_id).where(
        TimeEntry.spent_on >= first, TimeEntry.spent_on <= last
    )
    q = visible_select(request, et).where(
        or_(
            (Contract.starts_on <= last)
            & (or_(Contract.ends_on.is_(None), Contract.ends_on >= first)),
            Contract.id.in_(logged),
        )
    )
    if account_id is not None:
        q = q.where(Contract.account_id == account_id)
    return list(request.dbsession.execute(q.order_by(Contract.starts_on, Contract.id)).scalars())


def _line(request, contract: Contract, first: dt.date, last: dt.date) -> Line:
    db = request.dbsession
    included = Decimal(contract.quantity or 0)
    rows = db.execute(
        select(TimeEntry, Case.id, Case.number, Case.subject)
        .join(Case, Case.id == TimeEntry.case_id)
        .where(TimeEntry.contract_id == contract.id, TimeEntry.spent_on <= last)
        .order_by(TimeEntry.spent_on, TimeEntry.id)
    ).all()
    # the contract's time counts whole, but a case the reader may not see is not named
    # (the statement is one more path where record rules apply)
    case_ids = {case_id for _e, case_id, _n, _s in rows}
    visible = set()
    if case_ids:
        visible = set(
            db.execute(
                visible_select(request, get_entity_type(request, "case"))
                .with_only_columns(Case.id)
                .where(Case.id.in_(case_ids))
            ).scalars()
        )
    before = month = ZERO
    entries = []
    for entry, case_id, number, subject in rows:
        if case_id not in visible:
            number = subject = ""
        q = Decimal(entry.quantity)
        if entry.spent_on < first:
            before += q
            continue
        used = before + month
        # the part of this entry beyond what the bank had left
        over = max(ZERO, used + q - included) - max(ZERO, used - included)
        month += q
        entries.append(Entry(entry.spent_on, number or "", subject, entry.note or "", q, over))
    after = before + month
    over = max(ZERO, after - included) - max(ZERO, before - included)
    return Line(contract, included, before, month, after, over, entries)


def statements_for(request, first: dt.date, account_id: int | None = None) -> list[Statement]:
    """The statements of the month starting ``first``: one per customer with a visible
    contract running in the month (or time logged on one), by customer name."""
    last = month_end(first)
    db = request.dbsession
    by_account: dict[int, list[Line]] = {}
    for contract in _contracts(request, first, last, account_id):
        by_account.setdefault(contract.account_id, []).append(_line(request, contract, first, last))
    account_et = get_entity_type(request, "account")
    out = []
    for acc_id, lines in by_account.items():
        account = db.get(account_et.model, acc_id)
        name = record_title(request, account_et, account) if account is not None else ""
        out.append(Statement(acc_id, name, first, last, lines))
    out.sort(key=lambda s: (s.account.casefold(), s.account_id))
    return out


# --- in words, numbers and files -------------------------------------------------------


def unit_words(request, contract: Contract) -> str:
    from kyklos_sdk import display_text

    return display_text(request, "supportcontract", "unit", contract.unit)


def overage_words(request, contract: Contract) -> str:
    from kyklos_sdk import display_text

    return display_text(request, "supportcontract", "overage", contract.overage)


def month_words(request, first: dt.date) -> str:
    """ "November 2026" in the user's language."""
    from babel.dates import format_date as babel_date

    return babel_date(first, "LLLL y", locale=request.locale_name or "en")


def headings(request) -> list[str]:
    tr = request.localizer.translate
    return [
        tr(_("Customer")),
        tr(_("Contract")),
        tr(_("Counted in")),
        tr(_("Included")),
        tr(_("Used before")),
        tr(_("Used this month")),
        tr(_("Left")),
        tr(_("Overage")),
        tr(_("Overage rule")),
        tr(_("To bill")),
    ]


def line_cells(request, statement: Statement, line: Line) -> list[str]:
    n = lambda v: format_number(request, v)  # noqa: E731
    return [
        statement.account,
        line.contract.name,
        unit_words(request, line.contract),
        n(line.included),
        n(line.before),
        n(line.month),
        n(line.left),
        n(line.over),
        overage_words(request, line.contract),
        n(line.billable),
    ]


def _neutral(text: str) -> str:
    # a cell a spreadsheet would run as a formula is kept as text
    return (
        "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text
    )


def _number(text: str) -> bool:
    return text.lstrip("-").replace(",", "").replace(".", "").replace("\u00a0", "").isdigit()


def csv_bytes(request, statements: list[Statement]) -> bytes:
    """One row per contract and month; UTF-8 with a BOM for spreadsheet programs."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    tr = request.localizer.translate
    writer.writerow([tr(_("Month")), *headings(request)])
    for st in statements:
        for line in st.lines:
            cells = [month_words(request, st.first), *line_cells(request, st, line)]
            writer.writerow([_neutral(c) for c in cells])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def pdf_bytes(request, statement: Statement) -> bytes:
    from kyklos_sdk import format_date as fd

    tr = request.localizer.translate
    n = lambda v: format_number(request, v)  # noqa: E731
    title = tr(_("Statement of support time"))
    subtitle = " · ".join(
        [
            statement.account,
            month_words(request, statement.first),
            f"{fd(request, statement.first)} – {fd(request, statement.last)}",
        ]
    )
    pdf = new_document(request, title, subtitle)
    for line in statement.lines:
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(
            pdf.width, 7, pdf.fit(line.contract.name, pdf.width), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("DejaVu", "", 9)
        summary = [
            (tr(_("Counted in")), unit_words(request, line.contract)),
            (tr(_("Included")), n(line.included)),
            (tr(_("Used before")), n(line.before)),
            (tr(_("Used this month")), n(line.month)),
            (tr(_("Left")), n(line.left)),
            (tr(_("Overage")), n(line.over)),
            (tr(_("Overage rule")), overage_words(request, line.contract)),
            (tr(_("To bill")), n(line.billable)),
        ]
        for label, value in summary:
            pdf.cell(50, 5, label)
            pdf.cell(pdf.width - 50, 5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        if line.entries:
            widths = [24, 32, pdf.width - 24 - 32 - 22 - 22, 22, 22]
            pdf.table_rows(
                [tr(_("Date")), tr(_("Case")), tr(_("Note")), tr(_("Time")), tr(_("Overage"))],
                widths,
                ["L", "L", "L", "R", "R"],
                [
                    [
                        format_date(request, e.spent_on, "short"),
                        e.case_number,
                        e.note or e.case_subject,
                        n(e.quantity),
                        n(e.over) if e.over else "",
                    ]
                    for e in line.entries
                ]
                + [[None, tr(_("Total")), "", n(line.month), n(line.over) if line.over else ""]],
            )
        else:
            pdf.set_text_color(107, 114, 128)
            pdf.cell(
                pdf.width, 6, tr(_("No time logged this month.")), new_x="LMARGIN", new_y="NEXT"
            )
            pdf.set_text_color(17, 24, 39)
        pdf.ln(5)
    return bytes(pdf.output())


def file_stem(request, statement: Statement | None, first: dt.date) -> str:
    base = f"statement-{first:%Y-%m}"
    return f"{base}-{statement.account_id}" if statement is not None else base


def as_json(statement: Statement) -> dict:
    """Machine values (decimal strings, ISO dates) for the API and the invoicing plugin."""
    return {
        "account_id": statement.account_id,
        "account": statement.account,
        "month": f"{statement.first:%Y-%m}",
        "month_total": str(statement.month_total),
        "billable_total": str(statement.billable_total),
        "contracts": [
            {
                "contract_id": ln.contract.id,
                "name": ln.contract.name,
                "unit": ln.contract.unit,
                "overage_rule": ln.contract.overage,
                "included": str(ln.included),
                "used_before": str(ln.before),
                "used_in_month": str(ln.month),
                "left": str(ln.left),
                "overage": str(ln.over),
                "billable": str(ln.billable),
                "entries": [
                    {
                        "spent_on": e.spent_on.isoformat(),
                        "case": e.case_number,
                        "note": e.note,
                        "quantity": str(e.quantity),
                        "overage": str(e.over),
                    }
                    for e in ln.entries
                ],
            }
            for ln in statement.lines
        ],
    }


# --- views -----------------------------------------------------------------------------


def _params(request):
    """``(first day of the month, account id or None)`` from the query, or a problem
    naming each bad parameter."""
    errors = {}
    first = account_id = None
    try:
        first = parse_month(request.GET.get("month"))
    except ValueError:
        errors["month"] = _("Give a month as YYYY-MM.")
    raw = request.GET.get("account_id") or ""
    if raw:
        if raw.isdigit() and 0 < int(raw) < 2**63:
            account_id = int(raw)
        else:
            errors["account_id"] = _("Choose a customer.")
    return first, account_id, errors


def _checked(request):
    first, account_id, errors = _params(request)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    if not may_read_figures(request):
        raise HTTPForbidden()
    return first, account_id


def api_statements(request):
    """``GET /api/v1/helpdesk/statements?month=2026-11[&account_id=7]``."""
    first, account_id = _checked(request)
    return {
        "month": f"{first:%Y-%m}",
        "statements": [as_json(s) for s in statements_for(request, first, account_id)],
    }


def statement_page(request):
    first, account_id, errors = _params(request)
    if not may_read_figures(request):
        raise HTTPForbidden()
    statements = [] if errors else statements_for(request, first, account_id)
    if errors:
        request.response.status = 400
        first = first or parse_month(None)
    picked = None
    if account_id is not None:
        et = get_entity_type(request, "account")
        acc = request.dbsession.execute(
            visible_select(request, et).where(et.model.id == account_id)
        ).scalar()
        if acc is not None:
            picked = (acc.id, record_title(request, et, acc))
    query = {"month": f"{first:%Y-%m}"}
    if account_id is not None:
        query["account_id"] = str(account_id)
    return {
        "title": _("Monthly statements"),
        "month": f"{first:%Y-%m}",
        "month_title": month_words(request, first),
        "statements": statements,
        "errors": errors,
        "picked": picked,
        "lookup_url": request.route_url("entity.lookup", slug="accounts"),
        "csv_url": request.route_url("helpdesk.statements.file", ext="csv", _query=query),
        "zip_url": request.route_url(
            "helpdesk.statements.file", ext="zip", _query={"month": query["month"]}
        ),
        "pdf_url": lambda st: request.route_url(
            "helpdesk.statements.file",
            ext="pdf",
            _query={"month": query["month"], "account_id": str(st.account_id)},
        ),
        "n": lambda v: format_number(request, v),
        "fd": lambda d: format_date(request, d, "short"),
        "unit_words": lambda c: unit_words(request, c),
        "overage_words": lambda c: overage_words(request, c),
        "contract_url": lambda c: request.route_url(
            "entity.detail", slug="support-contracts", id=c.id
        ),
    }


def statement_file(request):
    """``/helpdesk/statements.{csv,pdf,zip}?month=…[&account_id=…]``: a CSV of one or
    all customers, one customer's PDF, or a ZIP of every customer's PDF and the CSV."""
    first, account_id = _checked(request)
    ext = request.matchdict["ext"]
    if ext == "pdf" and account_id is None:
        raise Problem(400, _("Invalid parameters"), errors={"account_id": _("Choose a customer.")})
    statements = statements_for(request, first, account_id)
    if ext == "csv":
        body, ctype = csv_bytes(request, statements), "text/csv"
        name = file_stem(request, None, first) + (f"-{account_id}" if account_id else "") + ".csv"
    elif ext == "pdf":
        if not statements:
            raise Problem(
                404, _("No statement"), detail=_("This customer has no contract in that month.")
            )
        body, ctype = pdf_bytes(request, statements[0]), "application/pdf"
        name = file_stem(request, statements[0], first) + ".pdf"
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(file_stem(request, None, first) + ".csv", csv_bytes(request, statements))
            for st in statements:
                zf.writestr(file_stem(request, st, first) + ".pdf", pdf_bytes(request, st))
        body, ctype = buf.getvalue(), "application/zip"
        name = file_stem(request, None, first) + ".zip"
    resp = Response(body=body, content_type=ctype)
    if ctype == "text/csv":
        resp.charset = "utf-8"
    resp.content_disposition = f'attachment; filename="{name}"'
    return resp


class StatementHooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        from kyklos_sdk import MenuItem

        return [
            MenuItem(
                _("Monthly statements"),
                request.route_path("helpdesk.statements"),
                PERMISSIONS["supportcontract"]["read"],
                "receipt",
                order=46,
            )
        ]


STATEMENTS_OPENAPI = {
    "/api/v1/helpdesk/statements": {
        "get": {
            "operationId": "helpdesk_statements",
            "tags": ["Helpdesk"],
            "summary": "Monthly statements of support time per customer and contract",
            "parameters": [
                {
                    "name": "month",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                },
                {
                    "name": "account_id",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "responses": {
                "200": {
                    "description": "{month, statements: [{account, contracts: [...]}]}",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": {
                    "description": "bad month or customer",
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
    read = PERMISSIONS["supportcontract"]["read"]
    export = PERMISSIONS["supportcontract"]["export"]
    config.add_openapi_paths(lambda request: STATEMENTS_OPENAPI)
    config.add_route("helpdesk.api.statements", "/api/v1/helpdesk/statements", request_method="GET")
    config.add_view(
        api_statements, route_name="helpdesk.api.statements", permission=read, renderer="json"
    )
    config.add_route("helpdesk.statements", "/helpdesk/statements")
    config.add_view(
        statement_page,
        route_name="helpdesk.statements",
        permission=read,
        renderer="kyklos_helpdesk:templates/statements.pt",
    )
    config.add_route("helpdesk.statements.file", r"/helpdesk/statements.{ext:(csv|pdf|zip)}")
    config.add_view(statement_file, route_name="helpdesk.statements.file", permission=export)
    config.add_hooks(StatementHooks(), name="kyklos_helpdesk.statements")
