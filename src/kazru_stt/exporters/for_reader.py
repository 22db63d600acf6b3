"""A document (TXT, SRT, VTT, DOCX, PDF) is written for its reader, in the reader's language:
speakers nobody named are "Сөйлеуші 1" / "Спикер 1" / "Speaker 1", unreadable passages are
marked (inaudible.py), and the DOCX and PDF labels follow. JSON, read by programs, keeps labels."""

from __future__ import annotations

from dataclasses import replace

from kazru_stt.domain.languages import ENGLISH
from kazru_stt.domain.transcript import Speaker, Transcript
from kazru_stt.exporters.inaudible import INAUDIBLE, with_inaudible_markers
from kazru_stt.i18n import LOCALES, speaker_title, translations


def reader_language(wanted: str | None, transcript: Transcript) -> str:
    """The language a document is written in: the one asked for, else the transcript's own
    (Kazakh or Russian), else English."""
    for code in (wanted, transcript.language):
        if code in LOCALES:
            return code
    return ENGLISH


def for_reader(transcript: Transcript, locale: str, *, inaudible_markers: bool) -> Transcript:
    named = {sp.label: sp for sp in transcript.speakers}
    for seg in transcript.segments:  # a label no speaker entry has still gets a title
        if seg.speaker and seg.speaker not in named:
            named[seg.speaker] = Speaker(seg.speaker)
    speakers = [
        replace(sp, name=sp.name or speaker_title(sp.label, locale)) for sp in named.values()
    ]
    transcript = replace(transcript, speakers=speakers)
    if inaudible_markers:
        word = translations(locale).gettext(INAUDIBLE)
        transcript = with_inaudible_markers(transcript, word)
    return transcript
