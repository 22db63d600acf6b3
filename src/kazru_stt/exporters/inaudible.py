"""Where the model could not read a passage, a document says so ("[неразборчиво
0:00:12–0:00:18]") instead of leaving it out: a reader of a court or call record must know
something was said there. JSON keeps the passage as it is (empty, `low_confidence`)."""

from __future__ import annotations

from dataclasses import replace

from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.timefmt import short_clock
from kazru_stt.i18n import _

# The word a transcript puts where speech could not be made out (the catalogues translate it).
INAUDIBLE = _("inaudible")


def with_inaudible_markers(transcript: Transcript, word: str) -> Transcript:
    segments = [
        seg
        if seg.text.strip()
        else replace(
            seg, text=f"[{word} {short_clock(seg.start)}–{short_clock(seg.end)}]", words=[]
        )
        for seg in transcript.segments
    ]
    return replace(transcript, segments=segments)
