"""What a filed document (DOCX, PDF) says, whatever its file format: a title, the
recording's facts in the reader's language with local times and their zone, then a
paragraph per speaker turn (per passage when nobody was told apart), each with its time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from kazru_stt.domain.languages import ENGLISH, KAZAKH, RUSSIAN
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.paper import A4, Paper
from kazru_stt.exporters.timefmt import short_clock
from kazru_stt.exporters.turns import speaker_turns
from kazru_stt.i18n import _, language_name, local_time, recognition, translations

PRODUCT = "KazRu-STT Pro"
# The document's language tag (a reader's spelling checker and screen reader use it).
LANGUAGE_TAGS = {KAZAKH: "kk-KZ", RUSSIAN: "ru-RU", ENGLISH: "en-GB"}


# Characters no document can hold (controls but tab/newline/CR, surrogates, U+FFFE/FFFF; XML
# 1.0 refuses them): one of them in a filename or an edited passage must not break the file.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    return _UNPRINTABLE.sub("", text)


@dataclass(frozen=True)
class Paragraph:
    clock: str  # "0:01:05", where it starts
    speaker: str | None  # the speaker's name, when speakers were told apart
    text: str


@dataclass(frozen=True)
class FiledDocument:
    title: str
    locale: str
    facts: list[tuple[str, str]]  # (label, value), both in the reader's language
    paragraphs: list[Paragraph]
    now: datetime
    paper: Paper


def filed_document(
    transcript: Transcript,
    *,
    title: str | None = None,
    locale: str = ENGLISH,
    created: datetime | None = None,
    timezone: str = "UTC",
    paper: Paper = A4,
    **_other: object,  # the export's options for other formats
) -> FiledDocument:
    gettext = translations(locale).gettext
    now = datetime.now(UTC)
    languages = ", ".join(language_name(c, locale) for c in transcript.languages) or "—"
    facts = [
        (_("Duration"), short_clock(transcript.duration)),
        (_("Languages"), languages),
        (_("Engine"), recognition(transcript.engine, transcript.model, locale)),
        (_("Speakers"), ", ".join(s.display for s in transcript.speakers) or "—"),
    ]
    if created is not None:
        facts.append((_("Created"), local_time(created, timezone, locale)))
    facts.append((_("Exported"), local_time(now, timezone, locale)))
    has_speakers = any(seg.speaker for seg in transcript.segments)
    paragraphs = [
        Paragraph(
            short_clock(part.start),
            printable(transcript.speaker_name(part.speaker) or "") if part.speaker else None,
            printable(part.text),
        )
        for part in (speaker_turns(transcript) if has_speakers else transcript.segments)
        if part.text  # left without text and not marked (inaudible_markers=false)
    ]
    return FiledDocument(
        title=printable(title or "") or gettext(_("Transcript")),
        locale=locale,
        facts=[(gettext(label), printable(value)) for label, value in facts],
        paragraphs=paragraphs,
        now=now,
        paper=paper,
    )
