"""Guards against Whisper's known failure modes: repetition loops and invented text."""

from __future__ import annotations

import re
import zlib

_WORD = re.compile(r"\w+", re.UNICODE)


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_loop(text: str, *, max_repeats: int = 3) -> bool:
    """True when a word or short phrase repeats back to back more than `max_repeats` times,
    or the text compresses like a loop does (Whisper's own 2.4 gate)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(text) > 40 and compression_ratio(text) > 2.4:
        return True
    for n in (1, 2, 3):
        run = 1
        for i in range(n, len(words) - n + 1, n):
            if words[i : i + n] == words[i - n : i]:
                run += 1
                if run > max_repeats:
                    return True
            else:
                run = 1
    return False


def trim_loop(words: list, max_repeats: int = 3) -> list:
    """Drop the tail of a word list where one word repeats more than `max_repeats` times."""
    out, run, prev = [], 0, None
    for w in words:
        key = w.text.strip().lower().strip(".,!?;:")
        run = run + 1 if key == prev else 1
        prev = key
        if run > max_repeats:
            continue
        out.append(w)
    return out


def looks_invented(avg_logprob: float, no_speech_prob: float) -> bool:
    """Whisper's own silence rule, applied after the fact: a segment the model thinks is
    probably not speech and is unsure of is dropped."""
    return no_speech_prob > 0.6 and avg_logprob < -0.7
