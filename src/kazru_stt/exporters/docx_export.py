"""DOCX for a case file: A4, a title, the recording's facts in the reader's language with
local times and their zone, then a paragraph per speaker turn (per passage when nobody was
told apart), each with its time."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from kazru_stt.domain.languages import ENGLISH, KAZAKH, RUSSIAN
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.timefmt import short_clock
from kazru_stt.exporters.turns import speaker_turns
from kazru_stt.i18n import _, language_name, recognition, translations

PRODUCT = "KazRu-STT Pro"
# The language Word checks the spelling in, per reader's language.
WORD_LANGUAGE = {KAZAKH: "kk-KZ", RUSSIAN: "ru-RU", ENGLISH: "en-GB"}
# Day first where the reader's language writes it so.
DATE_FORMAT = {KAZAKH: "%d.%m.%Y %H:%M", RUSSIAN: "%d.%m.%Y %H:%M", ENGLISH: "%Y-%m-%d %H:%M"}

# Characters XML 1.0 cannot hold (controls but tab/newline/CR, surrogates, U+FFFE/FFFF):
# one of them in a filename or an edited segment would make the document unwritable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def local_time(moment: datetime, zone: str, locale: str) -> str:
    """`moment` as a clock in `zone` reads it, with the zone: "07.12.2026 11:50 (Asia/Almaty,
    UTC+05:00)". A naive moment is UTC (the database's)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    here = moment.astimezone(ZoneInfo(zone))
    clock = here.strftime(DATE_FORMAT.get(locale, DATE_FORMAT[ENGLISH]))
    offset = here.strftime("%z")
    if zone == "UTC":
        return f"{clock} (UTC)"
    return f"{clock} ({zone}, UTC{offset[:3]}:{offset[3:]})"


def _page(doc, locale: str) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), WORD_LANGUAGE.get(locale, WORD_LANGUAGE[ENGLISH]))
    normal.element.get_or_add_rPr().append(lang)


def to_docx(
    transcript: Transcript,
    *,
    title: str | None = None,
    locale: str = ENGLISH,
    created: datetime | None = None,
    timezone: str = "UTC",
    **_options: object,
) -> bytes:
    gettext = translations(locale).gettext
    doc = Document()
    _page(doc, locale)
    heading = _xml_safe(title or "") or gettext(_("Transcript"))
    now = datetime.now(UTC)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = heading, PRODUCT, PRODUCT
    props.comments, props.language = PRODUCT, WORD_LANGUAGE.get(locale, "")
    props.created = props.modified = now.replace(tzinfo=None)  # python-docx writes UTC
    doc.add_heading(heading, level=1)

    languages = ", ".join(language_name(c, locale) for c in transcript.languages) or "—"
    speakers = ", ".join(s.display for s in transcript.speakers) or "—"
    facts = [
        (_("Duration"), short_clock(transcript.duration)),
        (_("Languages"), languages),
        (_("Engine"), recognition(transcript.engine, transcript.model, locale)),
        (_("Speakers"), speakers),
    ]
    if created is not None:
        facts.append((_("Created"), local_time(created, timezone, locale)))
    facts.append((_("Exported"), local_time(now, timezone, locale)))
    table = doc.add_table(rows=0, cols=2)
    for key, value in facts:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(gettext(key)).bold = True
        cells[1].text = _xml_safe(value)
    doc.add_paragraph()

    has_speakers = any(seg.speaker for seg in transcript.segments)
    for turn in speaker_turns(transcript) if has_speakers else transcript.segments:
        if not turn.text:
            continue  # left without text and not marked (inaudible_markers=false)
        para = doc.add_paragraph()
        stamp = para.add_run(f"[{short_clock(turn.start)}] ")
        stamp.font.color.rgb = RGBColor(0x70, 0x70, 0x70)
        if turn.speaker:
            who = para.add_run(_xml_safe(f"{transcript.speaker_name(turn.speaker)}: "))
            who.bold = True
        para.add_run(_xml_safe(turn.text))

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
