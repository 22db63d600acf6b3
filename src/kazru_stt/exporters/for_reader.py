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


def speaker_names(transcript: Transcript, locale: str) -> dict[str, str]:
    """Every speaker label of the transcript and what a reader sees for it: the name given,
    else its title ("Спикер 2"); a label no speaker entry has gets a title too."""
    named = {sp.label: sp.name for sp in transcript.speakers}
    for seg in transcript.segments:
        if seg.speaker and seg.speaker not in named:
            named[seg.speaker] = None
    return {label: name or speaker_title(label, locale) for label, name in named.items()}


def for_reader(transcript: Transcript, locale: str, *, inaudible_markers: bool) -> Transcript:
    names = speaker_names(transcript, locale)
    entries = {sp.label: sp for sp in transcript.speakers}
    speakers = [replace(entries.get(label, Speaker(label)), name=n) for label, n in names.items()]
    transcript = replace(transcript, speakers=speakers)
    if inaudible_markers:
        word = translations(locale).gettext(INAUDIBLE)
        transcript = with_inaudible_markers(transcript, word)
    return transcript
