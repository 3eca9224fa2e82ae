"""The core's printed documents (PDF, with fpdf2 like the quotes): one page layout
every document shares - the company's name, logo and details from ``/settings`` at the
top, a rule in the theme's colour, the title, and "Page 1 of 2" with the company name
in every footer.

Text is set in DejaVu Sans (``data/fonts``), which covers Greek, Polish and Romanian.
"""

from __future__ import annotations

import io
import math
from importlib import resources
from pathlib import Path

from fpdf import FPDF

from kyklos.i18n import _

FONT_DIR = Path(str(resources.files("kyklos"))) / "data" / "fonts"
FONT = "DejaVu"
INK = (17, 24, 39)
MUTED = (107, 114, 128)
RULE = (229, 231, 235)
ZEBRA = (246, 247, 249)


def rgb(colour: str, default=(13, 110, 253)) -> tuple[int, int, int]:
    """``#rrggbb`` or ``#rgb`` as a triple (the theme's colours are CSS values)."""
    c = (colour or "").strip().lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    try:
        return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)
    except (ValueError, IndexError):
        return default


def _setting(request, key: str):
    from kyklos import sitesettings

    value = sitesettings.get(request, key)
    if isinstance(value, str):
        value = value.strip()
    return value or None


def company_block(request) -> tuple[str, list[str]]:
    """The company: its name (the brand's when unset) and the lines under it."""
    tr = request.localizer.translate
    name = _setting(request, "company.name") or request.branding.brand_name
    lines: list[str] = []
    address = _setting(request, "company.address")
    if address:
        lines.extend(ln.strip() for ln in str(address).splitlines() if ln.strip())
    vat = _setting(request, "company.vat_number")
    if vat:
        lines.append(f"{tr(_('VAT number'))}: {vat}")
    contact = [
        str(v)
        for v in (
            _setting(request, "company.phone"),
            _setting(request, "company.email"),
            _setting(request, "company.website"),
        )
        if v
    ]
    if contact:
        lines.append(" · ".join(contact))
    return str(name), lines


def _logo(request) -> bytes | None:
    """The uploaded company logo when fpdf2 can draw it (PNG or JPEG, not SVG)."""
    from kyklos import sitesettings

    found = sitesettings.company_logo(request)
    if found and found[1] in ("image/png", "image/jpeg") and found[0]:
        return found[0]
    return None


class Document(FPDF):
    """An A4 page of the core layout; :func:`new_document` sets its top."""

    def __init__(self, request, footer_left: str, orientation: str = "P"):
        super().__init__(orientation=orientation, unit="mm", format="A4")
        tr = request.localizer.translate
        self.primary = rgb(request.branding.colour("--k-primary"))
        self.footer_left = footer_left
        self.page_label = tr(
            _("Page ${page} of ${pages}", mapping={"page": "{page}", "pages": "{nb}"})
        )
        #: (headings, widths, aligns) while a table runs over pages
        self.table = None
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(16, 16, 16)
        self.alias_nb_pages("{nb}")

    @property
    def width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def header(self):
        # A page a table continues on starts with its headings again.
        if self.page_no() > 1 and self.table is not None:
            self.table_head()

    def table_head(self):
        headings, widths, aligns = self.table
        self.set_fill_color(*self.primary)
        self.set_text_color(255, 255, 255)
        self.set_font(FONT, "B", 8)
        for h, w, a in zip(headings, widths, aligns, strict=True):
            self.cell(w, 7, self.fit(h, w), align=a, fill=True)
        self.ln()
        self.set_text_color(*INK)
        self.set_font(FONT, "", 8.5)

    def fit(self, text: str, width: float) -> str:
        """``text`` cut with an ellipsis to fit ``width`` in the current font."""
        text = str(text)
        if self.get_string_width(text) <= width - 2:
            return text
        while text and self.get_string_width(text + "…") > width - 2:
            text = text[:-1]
        return text + "…"

    def footer(self):
        self.set_y(-14)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 1, self.w - self.r_margin, self.get_y() - 1)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        half = self.width / 2
        self.cell(half, 5, self.fit(self.footer_left, half), align="L")
        self.cell(half, 5, self.page_label.replace("{page}", str(self.page_no())), align="R")

    def table_rows(self, headings, widths, aligns, rows, zebra=True):
        """A table of single-line cells (cut to fit) repeating its headings on every
        page; ``rows`` are lists of strings, a row whose first item is ``None`` is bold
        (a total)."""
        self.table = (headings, widths, aligns)
        self.table_head()
        x0 = self.l_margin
        for i, cells in enumerate(rows):
            bold = cells[0] is None
            cells = ["" if c is None else c for c in cells]
            if self.will_page_break(6.5):
                self.add_page()
            y0 = self.get_y()
            if zebra and i % 2 == 1:
                self.set_fill_color(*ZEBRA)
                self.rect(x0, y0, sum(widths), 6.5, style="F")
            self.set_font(FONT, "B" if bold else "", 8.5)
            for text, w, a in zip(cells, widths, aligns, strict=True):
                self.cell(w, 6.5, self.fit(text, w), align=a)
            self.ln()
            self.set_draw_color(*RULE)
            self.set_line_width(0.2)
            self.line(x0, self.get_y(), x0 + sum(widths), self.get_y())
        self.table = None


def new_document(request, title: str, subtitle: str = "", orientation: str = "P") -> Document:
    """A document with its first page begun: the company's logo and details, a rule in
    the theme's colour, ``title`` and ``subtitle``; the cursor under them."""
    seller, lines = company_block(request)
    pdf = Document(request, f"{seller} · {title}", orientation)
    pdf.add_page()
    x0, right, width = pdf.l_margin, pdf.w - pdf.r_margin, pdf.width
    top = 14
    logo = _logo(request)
    logo_w = 0.0
    if logo:
        info = pdf.image(io.BytesIO(logo), x=x0, y=top, h=16)
        logo_w = getattr(info, "rendered_width", 40)
    navbar = rgb(request.branding.colour("--k-navbar-bg"), INK)
    if logo_w:
        block_x = x0 + logo_w + 6
        pdf.set_xy(block_x, top)
        pdf.set_text_color(*navbar)
        pdf.set_font(FONT, "B", 13)
        pdf.cell(right - block_x, 6, seller, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8.5)
        pdf.set_text_color(*MUTED)
        for ln in lines:
            pdf.set_x(block_x)
            pdf.cell(right - block_x, 4.2, ln, align="R", new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.set_xy(x0, top)
        pdf.set_text_color(*navbar)
        pdf.set_font(FONT, "B", 15)
        pdf.cell(width, 7, seller, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 8.5)
        pdf.set_text_color(*MUTED)
        for ln in lines:
            pdf.cell(width, 4.2, ln, new_x="LMARGIN", new_y="NEXT")
    y = max(pdf.get_y(), top + 18) + 3
    pdf.set_draw_color(*pdf.primary)
    pdf.set_line_width(0.8)
    pdf.line(x0, y, right, y)
    pdf.set_xy(x0, y + 5)
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(*pdf.primary)
    pdf.multi_cell(width, 8, title, new_x="LMARGIN", new_y="NEXT")
    if subtitle:
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(width, 5, subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_text_color(*INK)
    return pdf


def nice_ticks(lo: float, hi: float, count: int = 4, whole: bool = False) -> list[float]:
    """Round axis values (steps of 1, 2 or 5 times a power of ten) covering lo..hi;
    ``whole``: steps of at least 1 (counts have no halves)."""
    span = (hi - lo) or abs(hi) or 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(step, 1)
    first = math.floor(lo / step) * step
    ticks = []
    v = first
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def bar_chart(
    pdf: Document,
    labels: list[str],
    series: list[tuple[str, list]],
    fmt,
    title: str = "",
    height=70,
    whole: bool = False,
    colours: list[int] | None = None,
):
    """Vertical bars at the cursor: a group per label, a bar per series (values may be
    ``None``), a value axis from zero in round steps written by ``fmt``, the value over
    each bar when there is room, and a legend when there is more than one series.
    ``colours``: the palette index of each series (several charts of one document keep a
    series' colour); by default the series' position."""
    values = [float(v) for _n, vs in series for v in vs if v is not None]
    if not labels or not values:
        return
    if pdf.will_page_break(height + 22):
        pdf.add_page()
    x0, width = pdf.l_margin, pdf.width
    if title:
        pdf.set_font(FONT, "B", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width, 5, title, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 3
    axis_w = 24
    plot_x, plot_w = x0 + axis_w, width - axis_w
    ticks = nice_ticks(min(min(values), 0.0), max(max(values), 0.0), whole=whole)
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0

    def y_of(v: float) -> float:
        return top + height * (hi - v) / span

    base_y = y_of(0.0)
    palette = [pdf.primary, (220, 104, 3), (25, 135, 84), (111, 66, 193), (214, 51, 132)]
    palette += [(13, 202, 240), (102, 16, 242), (253, 126, 20), (32, 201, 151), (108, 117, 125)]
    colours = list(colours) if colours else list(range(len(series)))
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.set_font(FONT, "", 7)
    pdf.set_text_color(*MUTED)
    for v in ticks:
        y = y_of(v)
        pdf.line(plot_x, y, plot_x + plot_w, y)
        pdf.set_xy(x0, y - 2)
        pdf.cell(axis_w - 2, 4, fmt(v), align="R")
    slot = plot_w / len(labels)
    bar_w = max(min(slot * 0.8 / len(series), 14), 0.6)
    for i, label in enumerate(labels):
        gx = plot_x + i * slot + (slot - bar_w * len(series)) / 2
        for j, (_name, vs) in enumerate(series):
            v = vs[i]
            if v is None:
                continue
            pdf.set_fill_color(*palette[colours[j] % len(palette)])
            y1, y2 = sorted((y_of(float(v)), base_y))
            pdf.rect(gx + j * bar_w, y1, bar_w, max(y2 - y1, 0.2), style="F")
            if bar_w >= 9:
                pdf.set_text_color(*INK)
                pdf.set_xy(gx + j * bar_w - 3, y1 - 4.2)
                pdf.cell(bar_w + 6, 4, fmt(float(v)), align="C")
        if slot >= 6:
            pdf.set_text_color(*MUTED)
            pdf.set_xy(plot_x + i * slot, top + height + 1)
            pdf.cell(slot, 4, pdf.fit(label, slot), align="C")
    pdf.set_y(top + height + 7)
    if len(series) > 1:
        pdf.set_x(plot_x)
        for j, (name, _vs) in enumerate(series):
            pdf.set_fill_color(*palette[colours[j] % len(palette)])
            pdf.rect(pdf.get_x(), pdf.get_y() + 1, 3, 3, style="F")
            pdf.set_x(pdf.get_x() + 4)
            w = pdf.get_string_width(name) + 6
            pdf.cell(w, 5, name)
        pdf.ln(6)
    pdf.set_text_color(*INK)
