"""DOCX: a title, the recording's facts, then one paragraph per speaker turn with its time."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document
from docx.shared import Pt, RGBColor

from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.timefmt import short_clock
from kazru_stt.exporters.turns import speaker_turns

_LANGUAGE_NAMES = {"kk": "қазақша", "ru": "русский", "en": "English"}


def to_docx(transcript: Transcript, *, title: str | None = None, **_: object) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    heading = title or "Transcript"
    doc.core_properties.title = heading
    doc.core_properties.comments = "KazRu-STT Pro"
    doc.add_heading(heading, level=1)

    languages = ", ".join(_LANGUAGE_NAMES.get(c, c) for c in transcript.languages) or "—"
    facts = [
        ("Duration", short_clock(transcript.duration)),
        ("Languages", languages),
        (
            "Engine",
            f"{transcript.engine} ({transcript.model})" if transcript.model else transcript.engine,
        ),
        ("Speakers", ", ".join(s.display for s in transcript.speakers) or "—"),
        ("Created", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    table = doc.add_table(rows=0, cols=2)
    for key, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = key, value
    doc.add_paragraph()

    for turn in speaker_turns(transcript):
        para = doc.add_paragraph()
        stamp = para.add_run(f"[{short_clock(turn.start)}] ")
        stamp.font.color.rgb = RGBColor(0x70, 0x70, 0x70)
        if turn.speaker:
            who = para.add_run(f"{transcript.speaker_name(turn.speaker)}: ")
            who.bold = True
        para.add_run(turn.text)

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
