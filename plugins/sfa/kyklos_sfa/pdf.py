"""Quote PDFs (SFA-10) with fpdf2: the seller's company block and logo from the site
settings, in the active theme's colours (and its raster logo when the site has none).

fpdf2 cannot draw SVG logos, so a theme provides ``static/logo_pdf.png`` (or a PNG or
JPEG ``logo`` in its manifest); without one the brand name alone heads the page. Text
is set in DejaVu Sans (vendored under ``static/fonts``, with its licence), which covers
Greek, Polish and Romanian.
"""

from __future__ import annotations

import io
import unicodedata
from decimal import Decimal
from importlib import resources
from pathlib import Path

from babel import Locale
from fpdf import FPDF
from sqlalchemy import select

import kyklos_sdk

from . import _, quoting

FONT_DIR = Path(str(resources.files("kyklos_sfa"))) / "static" / "fonts"
RASTER = (".png", ".jpg", ".jpeg")


def pdf_logo(request) -> Path | None:
    """A raster logo of the theme chain (the last theme that has one wins)."""
    for t in reversed(request.registry.kyklos_theme_chain):
        try:
            root = Path(str(resources.files(t.package)))
        except (ModuleNotFoundError, TypeError):
            continue
        candidates = [root / "static" / "logo_pdf.png"]
        logo = getattr(t.manifest, "logo", None)
        if logo and logo.lower().endswith(RASTER):
            candidates.append(root / logo)
        for path in candidates:
            if path.is_file():
                return path
    return None


def caps(text: str) -> str:
    """Capitals as each script writes them: Greek capitals drop their accents
    ("Πελάτης" -> "ΠΕΛΑΤΗΣ"); Polish "ó" keeps its own ("Ó")."""
    out = []
    for ch in unicodedata.normalize("NFD", text.upper()):
        if ch == "\u0301" and out and "\u0370" <= out[-1] <= "\u03ff":
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _rgb(colour: str) -> tuple[int, int, int]:
    c = (colour or "").strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    try:
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    except (ValueError, IndexError):
        return 13, 110, 253


INK = (17, 24, 39)
MUTED = (107, 114, 128)
RULE = (229, 231, 235)
ZEBRA = (246, 247, 249)


def _setting(request, key: str):
    """A site setting (the administration's company details), ``None`` when unset."""
    value = kyklos_sdk.site_setting(request, key)
    if isinstance(value, str):
        value = value.strip()
    return value or None


def company_logo(request) -> bytes | None:
    """The company logo an administrator uploaded, as bytes fpdf2 can draw (PNG or
    JPEG; an SVG logo is left to the theme's raster one)."""
    found = kyklos_sdk.company_logo(request)
    if not found:
        return None
    data, content_type = found
    if content_type in ("image/png", "image/jpeg") and data:
        return data
    return None


def company_block(request) -> tuple[str, list[str]]:
    """The seller: its name and the lines under it (address, VAT number, contacts)."""
    tr = request.localizer.translate
    name = _setting(request, "company.name") or request.branding.brand_name
    lines: list[str] = []
    address = _setting(request, "company.address")
    if address:
        lines.extend(ln.strip() for ln in str(address).splitlines() if ln.strip())
    vat = _setting(request, "company.vat_number")
    if vat:
        lines.append(f"{tr(_('VAT number'))}: {vat}")
    contact = [v for v in (_setting(request, "company.phone"), _setting(request, "company.email"),
                           _setting(request, "company.website")) if v]
    if contact:
        lines.append(" · ".join(str(v) for v in contact))
    return str(name), lines


def country_name(request, code: str | None) -> str:
    if not code:
        return ""
    try:
        return Locale.parse(request.locale_name or "en").territories.get(code.upper(), code)
    except (ValueError, TypeError):
        return code


def customer_block(request, account, person_name: str | None) -> list[str]:
    """The customer's lines: account name, its billing (or primary) address, VAT number
    and tax office, and whom the quote is for."""
    tr = request.localizer.translate
    out: list[str] = []
    if account is not None:
        out.append(account.name)
        addr = _billing_address(request, account.id)
        if addr is not None:
            if addr.street:
                out.append(addr.street)
            place = " ".join(v for v in (addr.postcode, addr.city) if v)
            if place:
                out.append(place)
            if addr.country:
                out.append(country_name(request, addr.country))
        elif account.city or account.country:
            out.append(", ".join(v for v in (account.city, country_name(request, account.country))
                                 if v))
        if account.vat_number:
            vat = f"{tr(_('VAT number'))}: {account.vat_number}"
            if account.tax_office:
                vat += f" · {account.tax_office}"
            out.append(vat)
    if person_name:
        out.append(f"{tr(_('Attention of'))}: {person_name}")
    return out


def _billing_address(request, account_id: int):
    from kyklos_contacts.models import Address

    rows = request.dbsession.execute(
        select(Address).where(Address.account_id == account_id)
    ).scalars().all()
    rows.sort(key=lambda a: (a.kind != "billing", not a.is_primary, a.id))
    return rows[0] if rows else None


class QuotePDF(FPDF):
    def __init__(self, primary, footer_left: str, page_label: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.primary = primary
        self.footer_left = footer_left
        #: "Page ${page} of ${pages}" translated, with {page} and {nb} left to fill
        self.page_label = page_label
        self.table = None  # (headings, widths, aligns) while the lines table runs
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(16, 16, 16)

    def header(self):
        # A page the lines table continues on starts with its headings again.
        if self.page_no() > 1 and self.table is not None:
            self.table_head()

    def table_head(self):
        headings, widths, aligns = self.table
        self.set_fill_color(*self.primary)
        self.set_text_color(255, 255, 255)
        self.set_font("DejaVu", "B", 8)
        for h, w, a in zip(headings, widths, aligns, strict=True):
            self.cell(w, 7, h, align=a, fill=True)
        self.ln()
        self.set_text_color(*INK)
        self.set_font("DejaVu", "", 8.5)

    def footer(self):
        self.set_y(-14)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1, self.w - self.r_margin, self.get_y() - 1)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*MUTED)
        width = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(width, 5, self.footer_left, align="L")
        self.cell(width, 5, self.page_label.replace("{page}", str(self.page_no())), align="R")


def render_quote(
    request, quote, lines, account, person_name: str | None, variants=None
) -> bytes:
    """The quote as PDF bytes: the seller's block and logo, the customer's block, the
    lines in aligned columns, the totals, notes and payment details, and "Page 1 of 2"
    in every footer; money and dates as the user's language writes them.

    ``variants``: ``[(quote, lines), ...]`` of the offer's variants (this quote among
    them), presented side by side in one table instead of this quote's lines alone."""
    tr = request.localizer.translate
    b = request.branding
    primary = _rgb(b.colour("--k-primary"))
    seller, seller_lines = company_block(request)
    page_label = tr(_("Page ${page} of ${pages}", mapping={"page": "{page}", "pages": "{nb}"}))
    pdf = QuotePDF(primary, f"{seller} · {tr(_('Quote'))} {quote.label}", page_label)
    pdf.alias_nb_pages("{nb}")
    pdf.add_page()
    x0, right = pdf.l_margin, pdf.w - pdf.r_margin
    width = right - x0

    # --- the seller: logo left, company block right -----------------------------------
    top = 14
    logo_bytes = company_logo(request)
    logo_path = None if logo_bytes else pdf_logo(request)
    logo_w = 0
    if logo_bytes or logo_path:
        img = io.BytesIO(logo_bytes) if logo_bytes else str(logo_path)
        info = pdf.image(img, x=x0, y=top, h=16)
        logo_w = getattr(info, "rendered_width", 40)
    block_x = x0 + max(logo_w + 6, 0) if logo_w else x0
    pdf.set_xy(block_x, top)
    pdf.set_text_color(*_rgb(b.colour("--k-navbar-bg")))
    if logo_w:
        # name and address to the right, aligned on the right margin
        pdf.set_font("DejaVu", "B", 13)
        pdf.cell(right - block_x, 6, seller, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(*MUTED)
        for ln in seller_lines:
            pdf.set_x(block_x)
            pdf.cell(right - block_x, 4.2, ln, align="R", new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_font("DejaVu", "B", 15)
        pdf.cell(width, 7, seller, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(*MUTED)
        for ln in seller_lines:
            pdf.cell(width, 4.2, ln, new_x="LMARGIN", new_y="NEXT")
    y = max(pdf.get_y(), top + 18) + 3
    pdf.set_draw_color(*primary)
    pdf.set_line_width(0.8)
    pdf.line(x0, y, right, y)
    y += 6

    pdf.set_xy(x0, y)
    pdf.set_font("DejaVu", "B", 16)
    pdf.set_text_color(*primary)
    pdf.cell(width * 0.6, 8, f"{tr(_('Quote'))} {quote.number or ''}")
    if quote.title:
        pdf.set_font("DejaVu", "", 11)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width * 0.4, 8, quote.title, align="R", new_x="LMARGIN", new_y="NEXT")
    y = max(pdf.get_y(), y + 8) + 5

    # --- customer left, the quote's facts right -----------------------------------------
    col = width * 0.55
    pdf.set_xy(x0, y)
    pdf.set_text_color(*MUTED)
    pdf.set_font("DejaVu", "B", 8)
    pdf.cell(col, 5, caps(tr(_("Customer"))), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
    for i, ln in enumerate(customer_block(request, account, person_name)):
        pdf.set_font("DejaVu", "B" if i == 0 else "", 11 if i == 0 else 9.5)
        pdf.multi_cell(col - 4, 5.5 if i == 0 else 4.8, ln, new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()

    facts = [(tr(_("Number")), quote.number or "")]
    if quote.revision and quote.revision > 1:
        facts.append((tr(_("Revision")), str(quote.revision)))
    if variants:
        facts.append(
            (tr(_("Variants")), ", ".join(q.variant or tr(_("Original")) for q, _l in variants))
        )
    elif quote.variant:
        facts.append((tr(_("Variant")), quote.variant))
    facts.append((tr(_("Date")), request.format_date(quote.created_at)))
    if quote.valid_until:
        facts.append((tr(_("Valid until")), request.format_date(quote.valid_until)))
    if not variants:
        facts.append((tr(_("Currency")), quote.currency))
    fx = x0 + col
    label_w = 28
    pdf.set_xy(fx, y)
    for label, value in facts:
        pdf.set_x(fx)
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(label_w, 5.2, label)
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width - col - label_w, 5.2, value, align="R", new_x="LMARGIN",
                       new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 8)
    # the offer's opening words (from its template) come before the lines
    if quote.introduction:
        pdf.set_font("DejaVu", "", 9.5)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width, 5, quote.introduction, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)

    if variants:
        _variants_table(request, pdf, variants, primary)
        _closing_texts(request, pdf, quote)
        return bytes(pdf.output())

    # --- the lines ----------------------------------------------------------------------
    headings = [tr(_("#")), tr(_("Description")), tr(_("Qty")), tr(_("Unit price")),
                tr(_("Discount")), tr(_("Tax")), tr(_("Amount"))]
    widths = [8, 64, 16, 28, 18, 14, width - 8 - 64 - 16 - 28 - 18 - 14]
    aligns = ["R", "L", "R", "R", "R", "R", "R"]
    pdf.table = (headings, widths, aligns)
    pdf.table_head()
    cur = quote.currency

    def money(v):
        return request.format_money(Decimal(v or 0), cur)

    def num(v):
        return request.format_number(Decimal(v or 0).normalize())

    def pct(v):
        return f"{num(v)}\u00a0%"

    pad = 1.5
    for i, ln in enumerate(lines, start=1):
        # the details (a product's description) under the line's description
        text = ln.description + (f"\n{ln.details.strip()}" if (ln.details or "").strip() else "")
        cells = [str(i), text, num(ln.quantity), money(ln.unit_price),
                 pct(ln.discount_percent), pct(ln.tax_rate), money(ln.line_total)]
        # The description wraps; the row is as tall as its lines.
        used = pdf.multi_cell(widths[1] - 2, 4.6, cells[1], dry_run=True, output="LINES")
        height = 4.6 * max(1, len(used)) + 2 * pad
        if pdf.will_page_break(height):
            pdf.add_page()
        y0 = pdf.get_y()
        if i % 2 == 0:
            pdf.set_fill_color(*ZEBRA)
            pdf.rect(x0, y0, width, height, style="F")
        pdf.set_xy(x0 + widths[0] + 1, y0 + pad)
        pdf.multi_cell(widths[1] - 2, 4.6, cells[1], align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(x0, y0 + pad)
        pdf.cell(widths[0], 4.6, cells[0], align="R")
        pdf.set_x(x0 + widths[0] + widths[1])
        for text, w, a in zip(cells[2:], widths[2:], aligns[2:], strict=True):
            pdf.cell(w, 4.6, text, align=a)
        pdf.set_y(y0 + height)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        pdf.line(x0, pdf.get_y(), right, pdf.get_y())
    pdf.table = None

    # --- totals, aligned under the money columns ------------------------------------------
    net, tax, total = quoting.totals(lines)
    label_w = sum(widths[3:6])
    start = right - label_w - widths[-1]
    if pdf.will_page_break(24):
        pdf.add_page()
    pdf.ln(3)
    for label, value, bold in ((tr(_("Net total")), net, False), (tr(_("Tax")), tax, False),
                               (tr(_("Total")), total, True)):
        if bold:
            pdf.set_draw_color(*primary)
            pdf.set_line_width(0.5)
            pdf.line(start, pdf.get_y() + 0.5, right, pdf.get_y() + 0.5)
            pdf.ln(1.5)
        pdf.set_font("DejaVu", "B" if bold else "", 11 if bold else 9.5)
        pdf.set_x(start)
        pdf.cell(label_w, 6, label, align="R")
        pdf.cell(widths[-1], 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")

    _closing_texts(request, pdf, quote)
    return bytes(pdf.output())


def _closing_texts(request, pdf, quote) -> None:
    """Terms, notes and payment details under the lines."""
    tr = request.localizer.translate
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for heading, text in ((tr(_("Terms")), quote.terms), (tr(_("Notes")), quote.notes),
                          (tr(_("Payment details")), _setting(request, "company.bank_details"))):
        if not text:
            continue
        pdf.ln(5)
        pdf.set_font("DejaVu", "B", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(width, 5, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        pdf.set_text_color(*INK)
        pdf.multi_cell(width, 4.8, str(text), new_x="LMARGIN", new_y="NEXT")


def _line_key(ln):
    """Lines of two variants are the same row when they offer the same product (or, as
    free text, say the same)."""
    return ("p", ln.product_id) if ln.product_id else ("t", (ln.description or "").strip())


def _variants_table(request, pdf, variants, primary) -> None:
    """The variants side by side: a row per product or free-text line (in the order
    they first come), a column per variant with the line's amount and "quantity x unit
    price" in that variant's currency; then each variant's net, tax and total, and the
    exchange rate a converted variant used. A line a variant lacks is a dash."""
    tr = request.localizer.translate
    x0, right = pdf.l_margin, pdf.w - pdf.r_margin
    width = right - x0
    n = len(variants)
    desc_w = max(50.0, width - 34.0 * n) if n <= 4 else 46.0
    col_w = (width - desc_w) / n
    rows: dict = {}
    for i, (_q, lines) in enumerate(variants):
        for ln in lines:
            row = rows.setdefault(_line_key(ln), {"description": ln.description, "cells": {}})
            row["cells"].setdefault(i, []).append(ln)

    def money(v, cur):
        return request.format_money(Decimal(v or 0), cur)

    def num(v):
        return request.format_number(Decimal(v or 0).normalize())

    headings = [tr(_("Description"))] + [
        tr(_("Variant ${v}", mapping={"v": q.variant})) if q.variant else tr(_("Original"))
        for q, _l in variants
    ]
    widths = [desc_w] + [col_w] * n
    aligns = ["L"] + ["R"] * n
    pdf.table = (headings, widths, aligns)
    pdf.table_head()
    pad = 1.5
    for r, row in enumerate(rows.values(), start=1):
        used = pdf.multi_cell(desc_w - 2, 4.6, row["description"], dry_run=True, output="LINES")
        height = max(4.6 * max(1, len(used)), 4.6 * 2) + 2 * pad
        if pdf.will_page_break(height):
            pdf.add_page()
        y0 = pdf.get_y()
        if r % 2 == 0:
            pdf.set_fill_color(*ZEBRA)
            pdf.rect(x0, y0, width, height, style="F")
        pdf.set_xy(x0 + 1, y0 + pad)
        pdf.set_font("DejaVu", "", 8.5)
        pdf.multi_cell(desc_w - 2, 4.6, row["description"], align="L", new_x="RIGHT", new_y="TOP")
        for i, (q, _l) in enumerate(variants):
            cx = x0 + desc_w + i * col_w
            lns = row["cells"].get(i)
            pdf.set_xy(cx, y0 + pad)
            pdf.set_font("DejaVu", "B", 8.5)
            if not lns:
                pdf.set_text_color(*MUTED)
                pdf.cell(col_w - 1, 4.6, "—", align="R")
                pdf.set_text_color(*INK)
                continue
            amount = sum((Decimal(ln.line_total or 0) for ln in lns), Decimal(0))
            pdf.cell(col_w - 1, 4.6, money(amount, q.currency), align="R")
            pdf.set_xy(cx, y0 + pad + 4.6)
            pdf.set_font("DejaVu", "", 7)
            pdf.set_text_color(*MUTED)
            first = lns[0]
            detail = f"{num(first.quantity)} × {money(first.unit_price, q.currency)}"
            pdf.cell(col_w - 1, 4.2, detail, align="R")
            pdf.set_text_color(*INK)
        pdf.set_y(y0 + height)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        pdf.line(x0, pdf.get_y(), right, pdf.get_y())
    pdf.table = None
    # --- each variant's totals in its column ---------------------------------------------
    sums = [quoting.totals(lines) for _q, lines in variants]
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(2)
    for k, label in enumerate((tr(_("Net total")), tr(_("Tax")), tr(_("Total")))):
        bold = k == 2
        pdf.set_font("DejaVu", "B" if bold else "", 10 if bold else 9)
        pdf.set_x(x0)
        pdf.cell(desc_w, 6, label, align="R")
        for (q, _l), t in zip(variants, sums, strict=True):
            pdf.cell(col_w - 1, 6, money(t[k], q.currency), align="R")
            pdf.cell(1, 6, "")
        pdf.ln()
    # the rate a variant in another currency was converted at (SFA-11)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.set_text_color(*MUTED)
    for q, _l in variants:
        if q.rate_from and q.exchange_rate:
            text = tr(
                _(
                    "Variant ${v}: converted from ${from} at 1 ${from} = ${rate} ${to} "
                    "(rate of ${day})",
                    mapping={
                        "v": q.variant or tr(_("Original")),
                        "from": q.rate_from,
                        "rate": num(q.exchange_rate),
                        "to": q.currency,
                        "day": request.format_date(q.rate_date) if q.rate_date else "",
                    },
                )
            )
            pdf.multi_cell(width, 4.2, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
