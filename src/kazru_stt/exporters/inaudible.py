"""Where the model could not read a passage, a document says so ("[неразборчиво
0:00:12–0:00:18]") instead of leaving it out: a reader of a court or call record must know
something was said there. In the reader's language; JSON keeps the passage as it is (empty,
`low_confidence`)."""

from __future__ import annotations

from dataclasses import replace

from kazru_stt.domain.languages import ENGLISH, KAZAKH, RUSSIAN
from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.timefmt import short_clock

# The word a transcript puts where speech could not be made out, per reader's language.
INAUDIBLE = {KAZAKH: "түсініксіз", RUSSIAN: "неразборчиво", ENGLISH: "inaudible"}


def reader_language(wanted: str | None, transcript: Transcript) -> str:
    """The language markers are written in: the one asked for, else the transcript's own
    (Kazakh or Russian), else English."""
    for code in (wanted, transcript.language):
        if code in INAUDIBLE:
            return code
    return ENGLISH


def with_inaudible_markers(transcript: Transcript, language: str) -> Transcript:
    word = INAUDIBLE.get(language, INAUDIBLE[ENGLISH])
    segments = [
        seg
        if seg.text.strip()
        else replace(
            seg, text=f"[{word} {short_clock(seg.start)}–{short_clock(seg.end)}]", words=[]
        )
        for seg in transcript.segments
    ]
    return replace(transcript, segments=segments)
