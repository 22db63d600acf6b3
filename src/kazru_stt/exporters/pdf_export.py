"""PDF for a case file (document.py says what is in it): A4 (or Letter, paper.py), Noto Sans
embedded (from PyPI: every Kazakh letter, Cyrillic and Latin; subset to the letters used),
the reader's language declared. One weight only: instancing the variable font's bold costs ~6 s a
document, so speakers' names stand out by colour."""

from __future__ import annotations

from typing import Any

import fontpkg
from fpdf import FPDF

from kazru_stt.domain.languages import ENGLISH
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.document import LANGUAGE_TAGS, PRODUCT, filed_document
from kazru_stt.exporters.paper import SIZES_MM

FONT = "Noto Sans"
GREY, INK, SPEAKER = (0x70, 0x70, 0x70), (0, 0, 0), (0x1F, 0x3F, 0x88)


def to_pdf(transcript: Transcript, **options: Any) -> bytes:
    filed = filed_document(transcript, **options)
    locale = filed.locale
    pdf = FPDF(format=SIZES_MM[filed.paper], unit="mm")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font(FONT, "", str(fontpkg.path(FONT)))
    pdf.set_title(filed.title)
    pdf.set_author(PRODUCT)
    pdf.set_creator(PRODUCT)
    pdf.set_lang(LANGUAGE_TAGS.get(locale, LANGUAGE_TAGS[ENGLISH]))
    pdf.set_creation_date(filed.now)
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.multi_cell(0, 8, filed.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, size=10)
    with pdf.table(col_widths=(45, 125), first_row_as_headings=False, borders_layout="NONE") as t:
        for label, value in filed.facts:
            row = t.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(4)
    pdf.set_font(FONT, size=11)
    for part in filed.paragraphs:
        pdf.set_text_color(*GREY)
        pdf.write(6, f"[{part.clock}] ")
        if part.speaker:
            pdf.set_text_color(*SPEAKER)
            pdf.write(6, f"{part.speaker}: ")
        pdf.set_text_color(*INK)
        pdf.write(6, part.text)
        pdf.ln(8)
    return bytes(pdf.output())
