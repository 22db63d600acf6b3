"""Guards against Whisper's known failure modes: repetition loops and invented text."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from kazru_stt.domain.text_compare import normalize

_WORD = re.compile(r"\w+", re.UNICODE)
# One to three letters over and over inside a word: Whisper's loop within one word, which no
# word-level rule sees ("СПППППППППППППППППППП" for a melody, on a CPU with AVX-512;
# "үрүрүрүрүрүрү", six times, for another melody on another CPU). No Kazakh or Russian word
# repeats such a unit six times back to back; laughter ("хахахахахаха") is no text either.
_LETTER_LOOP = re.compile(r"([^\W\d_]{1,3})\1{5,}")


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_letter_loop(text: str) -> bool:
    """True when a unit of one to three letters repeats six times or more back to back."""
    return _LETTER_LOOP.search(text.lower()) is not None


def is_loop(text: str, *, max_repeats: int = 3) -> bool:
    """True when a word or short phrase repeats back to back more than `max_repeats` times,
    letters loop inside a word, or the text compresses like a loop does (Whisper's own 2.4
    gate)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if (len(text) > 40 and compression_ratio(text) > 2.4) or is_letter_loop(text):
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


REPLACEMENT_CHAR = "\ufffd"  # what a byte sequence cut mid-letter decodes to
MIN_WORD_S = 0.04  # no word is shorter: a zero-length word cannot be played or highlighted
# A repeated unit whose copies each last at least this per word, are about as long as each
# other and were decoded with this probability was really said that many times.
SPOKEN_MIN_S_PER_WORD = 0.12
SPOKEN_MIN_LENGTH_RATIO = 0.5
SPOKEN_MIN_PROBABILITY = 0.5


def clean_text(text: str) -> str:
    """Text without the halves of letters a token cap can leave behind."""
    return text.replace(REPLACEMENT_CHAR, "")


def really_spoken(copies: list[list]) -> bool:
    lengths = [c[-1].end - c[0].start for c in copies]
    words = sum(len(c) for c in copies)
    probability = sum(w.probability for c in copies for w in c) / words
    return (
        min(lengths) >= SPOKEN_MIN_S_PER_WORD * len(copies[0])
        and min(lengths) >= SPOKEN_MIN_LENGTH_RATIO * max(lengths)
        and probability >= SPOKEN_MIN_PROBABILITY
    )


def collapse_repeats(
    words: list,
    *,
    min_copies: int = 3,
    max_unit: int = 4,
    spoken: Callable[[list[list]], bool] = really_spoken,
) -> list:
    """A unit of one to `max_unit` words repeated `min_copies` or more times in a row keeps
    one copy (and loses a cut-off copy right after it), unless `spoken` (by default:
    the timing and confidence of the copies) says the audio really repeats it."""
    keys = [normalize(w.text) for w in words]
    out: list = []
    i = 0
    while i < len(words):
        collapsed = False
        for n in range(1, max_unit + 1):
            unit = keys[i : i + n]
            if len(unit) < n or not all(unit):
                break
            copies = 1
            while keys[i + copies * n : i + (copies + 1) * n] == unit:
                copies += 1
            if copies < min_copies:
                continue
            spans = [words[i + k * n : i + (k + 1) * n] for k in range(copies)]
            if spoken(spans):
                continue
            out += spans[0]
            i += copies * n
            # A last copy cut short by the token cap: a prefix of the unit.
            joined = " ".join(unit)
            tail = i
            while (
                tail < len(words)
                and tail - i < n
                and joined.startswith(" ".join(keys[i : tail + 1]))
            ):
                tail += 1
            i = tail
            collapsed = True
            break
        if not collapsed:
            out.append(words[i])
            i += 1
    return out


def looks_invented(avg_logprob: float, no_speech_prob: float) -> bool:
    """Whisper's own silence rule with its own thresholds, applied after the fact: a segment
    the model thinks is probably not speech and is unsure of is dropped. (A stricter -0.7
    dropped real spontaneous Kazakh, kk_cs/kzaudio_19: no_speech 0.68, log-prob -0.75.)"""
    return no_speech_prob > 0.6 and avg_logprob < -1.0
