"""Plain text: one line per segment (or per speaker turn), optionally with times."""

from __future__ import annotations

from kazru_stt.domain.transcript import Transcript
from kazru_stt.exporters.timefmt import short_clock
from kazru_stt.exporters.turns import speaker_turns


def to_txt(transcript: Transcript, *, timestamps: bool = False, **_: object) -> bytes:
    lines = []
    has_speakers = any(s.speaker for s in transcript.segments)
    if has_speakers:
        for turn in speaker_turns(transcript):
            if not turn.text:
                continue  # passages left without text (low confidence)
            who = transcript.speaker_name(turn.speaker) or "?"
            stamp = f"[{short_clock(turn.start)}] " if timestamps else ""
            lines.append(f"{stamp}{who}: {turn.text}")
    else:
        for seg in transcript.segments:
            if not seg.text:
                continue
            stamp = f"[{short_clock(seg.start)} - {short_clock(seg.end)}] " if timestamps else ""
            lines.append(f"{stamp}{seg.text}")
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
