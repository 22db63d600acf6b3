"""DOCX for a case file (document.py says what is in it): A4 (or Letter, paper.py), Word's
spelling language set to the reader's."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from kazru_stt.domain.languages import ENGLISH
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.document import LANGUAGE_TAGS, PRODUCT, filed_document
from kazru_stt.exporters.paper import SIZES_MM, Paper


def _page(doc, locale: str, paper: Paper) -> None:
    section = doc.sections[0]
    width, height = SIZES_MM[paper]
    section.page_width, section.page_height = Mm(width), Mm(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), LANGUAGE_TAGS.get(locale, LANGUAGE_TAGS[ENGLISH]))
    normal.element.get_or_add_rPr().append(lang)


def to_docx(transcript: Transcript, **options: Any) -> bytes:
    filed = filed_document(transcript, **options)
    locale = filed.locale
    doc = Document()
    _page(doc, locale, filed.paper)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = filed.title, PRODUCT, PRODUCT
    props.comments, props.language = PRODUCT, LANGUAGE_TAGS.get(locale, "")
    props.created = props.modified = filed.now.replace(tzinfo=None)  # python-docx writes UTC
    doc.add_heading(filed.title, level=1)
    table = doc.add_table(rows=0, cols=2)
    for label, value in filed.facts:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].text = value
    doc.add_paragraph()
    for part in filed.paragraphs:
        para = doc.add_paragraph()
        stamp = para.add_run(f"[{part.clock}] ")
        stamp.font.color.rgb = RGBColor(0x70, 0x70, 0x70)
        if part.speaker:
            para.add_run(f"{part.speaker}: ").bold = True
        para.add_run(part.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
