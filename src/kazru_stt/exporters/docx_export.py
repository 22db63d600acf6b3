"""DOCX: a title, the recording's facts, then one paragraph per speaker turn with its time."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from docx import Document
from docx.shared import Pt, RGBColor

from kazru_stt.domain.languages import NATIVE_NAMES
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.timefmt import short_clock
from kazru_stt.exporters.turns import speaker_turns

# Characters XML 1.0 cannot hold (controls but tab/newline/CR, surrogates, U+FFFE/FFFF):
# one of them in a filename or an edited segment would make the document unwritable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def to_docx(transcript: Transcript, *, title: str | None = None, **_: object) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    heading = _xml_safe(title or "") or "Transcript"
    doc.core_properties.title = heading
    doc.core_properties.comments = "KazRu-STT Pro"
    doc.add_heading(heading, level=1)

    languages = ", ".join(NATIVE_NAMES.get(c, c) for c in transcript.languages) or "—"
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
        cells[0].text, cells[1].text = key, _xml_safe(value)
    doc.add_paragraph()

    for turn in speaker_turns(transcript):
        if not turn.text:
            continue  # passages left without text (low confidence)
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
