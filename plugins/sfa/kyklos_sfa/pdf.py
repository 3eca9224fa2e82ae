"""Quote PDFs (SFA-10) with fpdf2, in the active theme's brand: its name, its primary
colour, and its logo when the theme ships a raster one.

fpdf2 cannot draw SVG logos, so a theme provides ``static/logo_pdf.png`` (or a PNG or
JPEG ``logo`` in its manifest); without one the brand name alone heads the page. Text
is set in DejaVu Sans (vendored under ``static/fonts``, with its licence), which covers
Greek, Polish and Romanian.
"""

from __future__ import annotations

from decimal import Decimal
from importlib import resources
from pathlib import Path

from fpdf import FPDF

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


def _rgb(colour: str) -> tuple[int, int, int]:
    c = (colour or "").strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    try:
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    except (ValueError, IndexError):
        return 13, 110, 253


class QuotePDF(FPDF):
    def __init__(self, brand_name: str, primary, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.brand_name = brand_name
        self.primary = primary
        self.footer_text = footer_text
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(16, 16, 16)

    def footer(self):
        self.set_y(-14)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(107, 114, 128)
        self.cell(0, 5, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="C")


def render_quote(request, quote, lines, account_name: str | None, person_name: str | None
                 ) -> bytes:
    """The quote as PDF bytes."""
    tr = request.localizer.translate
    b = request.branding
    primary = _rgb(b.colour("--k-primary"))
    pdf = QuotePDF(b.brand_name, primary, b.brand_name)
    pdf.alias_nb_pages()
    pdf.add_page()
    logo = pdf_logo(request)
    x0 = pdf.l_margin
    if logo is not None:
        pdf.image(str(logo), x=x0, y=12, h=12)
        pdf.set_xy(x0 + 40, 14)
    pdf.set_font("DejaVu", "B", 16)
    pdf.set_text_color(*_rgb(b.colour("--k-navbar-bg")))
    pdf.cell(0, 8, b.brand_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*primary)
    pdf.set_line_width(0.8)
    y = max(pdf.get_y(), 26) + 2
    pdf.line(x0, y, pdf.w - pdf.r_margin, y)
    pdf.set_y(y + 4)

    pdf.set_text_color(17, 24, 39)
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 7, f"{tr(_('Quote'))} {quote.label}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    meta = []
    if account_name:
        meta.append((tr(_("Customer")), account_name))
    if person_name:
        meta.append((tr(_("Attention of")), person_name))
    meta.append((tr(_("Date")), request.format_date(quote.created_at.date())))
    if quote.valid_until:
        meta.append((tr(_("Valid until")), request.format_date(quote.valid_until)))
    meta.append((tr(_("Currency")), quote.currency))
    for label, value in meta:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(35, 6, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    headings = [tr(_("#")), tr(_("Description")), tr(_("Quantity")), tr(_("Unit price")),
                tr(_("Discount (%)")), tr(_("Tax rate (%)")), tr(_("Line total"))]
    widths = [8, 70, 18, 24, 18, 18, 26]
    aligns = ["R", "L", "R", "R", "R", "R", "R"]
    pdf.set_fill_color(*primary)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("DejaVu", "B", 8)
    for h, w, a in zip(headings, widths, aligns, strict=True):
        pdf.cell(w, 7, h, border=0, align=a, fill=True)
    pdf.ln()
    pdf.set_text_color(17, 24, 39)
    pdf.set_font("DejaVu", "", 8)
    cur = quote.currency

    def money(v):
        return request.format_money(Decimal(v), cur)

    for i, ln in enumerate(lines, start=1):
        cells = [
            str(i), ln.description, request.format_number(ln.quantity),
            money(ln.unit_price), request.format_number(ln.discount_percent),
            request.format_number(ln.tax_rate), money(ln.line_total),
        ]
        # The description wraps; the row is as tall as its lines.
        used = pdf.multi_cell(widths[1], 5, cells[1], dry_run=True, output="LINES")
        height = 5 * max(1, len(used))
        if pdf.will_page_break(height):
            pdf.add_page()
        y0 = pdf.get_y()
        x = pdf.l_margin
        pdf.set_xy(x + widths[0], y0)
        pdf.multi_cell(widths[1], 5, cells[1], align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(x, y0)
        pdf.cell(widths[0], height, cells[0], align="R")
        pdf.set_x(x + widths[0] + widths[1])
        for text, w, a in zip(cells[2:], widths[2:], aligns[2:], strict=True):
            pdf.cell(w, height, text, align=a)
        pdf.set_y(y0 + height)
        pdf.set_draw_color(229, 231, 235)
        pdf.set_line_width(0.2)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    net, tax, total = quoting.totals(lines)
    pdf.ln(3)
    for label, value, bold in ((tr(_("Net total")), net, False), (tr(_("Tax")), tax, False),
                               (tr(_("Total")), total, True)):
        pdf.set_font("DejaVu", "B" if bold else "", 10)
        pdf.cell(sum(widths[:-2]), 6, "")
        pdf.cell(widths[-2], 6, label, align="R")
        pdf.cell(widths[-1], 6, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    if quote.notes:
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 5, quote.notes)
    return bytes(pdf.output())
