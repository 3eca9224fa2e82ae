"""Demo sales literature: a brochure of the olive oil per language and a software
datasheet, each a small real PDF made with fpdf2, plus last year's price sheet (expired),
so the library, the product page and the quote's offer have something to show."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from kyklos_sdk import Problem, get_entity_type, store_attachment

from .literature import Literature

#: a font with Greek, Romanian and Polish letters: Debian's DejaVu (fpdf2's built-in
#: fonts are Latin-1 only); without it the brochures are written in English
FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),)

BROCHURES = {
    "en": ("Extra virgin olive oil — brochure", "Cold pressed in Crete. Tins of 1 l and 5 l."),
    "el": (
        "Εξαιρετικό παρθένο ελαιόλαδο — φυλλάδιο",
        "Ψυχρής έκθλιψης από την Κρήτη. Δοχεία 1 l και 5 l.",
    ),
    "ro": (
        "Ulei de măsline extravirgin — broșură",
        "Presat la rece în Creta. Cutii de 1 l și 5 l.",
    ),
    "pl": (
        "Oliwa z oliwek extra virgin — broszura",
        "Tłoczona na zimno na Krecie. Puszki 1 l i 5 l.",
    ),
}


def pdf(title: str, body: str) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    font = next((f for f in FONTS if f.is_file()), None)
    if font is not None:
        doc.add_font("DejaVu", "", str(font))
        doc.set_font("DejaVu", size=18)
    else:
        doc.set_font("helvetica", size=18)
        title, body = (
            title.encode("latin-1", "replace").decode(),
            body.encode("latin-1", "replace").decode(),
        )
    doc.multi_cell(0, 10, title)
    doc.set_font_size(12)
    doc.ln(4)
    doc.multi_cell(0, 7, body)
    return bytes(doc.output())


def demo_literature(request, products: dict, owner) -> list[int]:
    """Create the documents and their files; the ids made (none without file storage)."""
    db = request.dbsession
    et = get_entity_type(request, "literature")
    today = dt.date.today()
    oil = products["OIL-EV-1L"]
    items = [
        (title, "brochure", lang, oil.id, None, body, f"olive-oil-{lang}.pdf")
        for lang, (title, body) in BROCHURES.items()
    ]
    items.append(
        (
            f"Price sheet {today.year - 1}",
            "pricesheet",
            "en",
            oil.id,
            dt.date(today.year - 1, 12, 31),
            "Prices valid until the end of the year.",
            f"price-sheet-{today.year - 1}.pdf",
        )
    )
    added = []
    try:
        for title, kind, lang, pid, until, body, filename in items:
            doc = Literature(
                title=title,
                kind=kind,
                language=lang,
                product_id=pid,
                valid_until=until,
                owner_id=owner,
                custom={},
            )
            db.add(doc)
            db.flush()
            added.append(doc)
            store_attachment(request, et, doc, io.BytesIO(pdf(title, body)), filename)
    except Problem:  # no file storage configured: a document without its file is noise
        for doc in added:
            db.delete(doc)
        db.flush()
        return []
    return [d.id for d in added]
