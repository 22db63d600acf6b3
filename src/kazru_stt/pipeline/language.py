"""Which language each speech region is in, among an allowed set (default Kazakh, Russian).

Whisper base's own detector rarely *names* Kazakh (../shared/eval/README.md: it says `lt`,
`ar`, `fr`, `en`... for Kazakh speech), but it is very good at telling whether speech is
Russian: on ../shared/eval every Russian region got P(ru) >= 0.59 (most > 0.85) and every
Kazakh region P(ru) <= 0.17. So Kazakh is decided as "not Russian", with the Russian decode
as a second witness:

1. every region is decoded in Russian first (the primary language); a region that decode
   explains well (confident words, most of them in a Russian dictionary, no loop) is
   Russian, and that decode is its transcript: the common case costs nothing extra;
2. for the other regions Whisper's detector gives P(language) on the region's own audio;
   a region is Russian when P(ru) is high, or moderate while the Russian decode is good;
   otherwise the most likely other allowed language (Kazakh when nothing else is clearly
   more likely), and the region is decoded again in that language.

Decodes forced to Kazakh are not used as evidence: Whisper base writes Kazakh poorly, loops
on it, and at temperature > 0 it samples, so such evidence flips between runs.
Thresholds are named constants fitted on ../shared/eval (benchmarks/eval_pipeline.py).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from kazru_stt.pipeline.guards import is_loop

_CYRILLIC_WORD = re.compile(r"[а-яёәғқңөұүһі]+")
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)

# A Russian decode this confident, with this share of dictionary words, settles a region.
FAST_RU_MIN_LOGPROB = -0.30
FAST_RU_MIN_KNOWN = 0.80
# ...on a region this long: a word or two of noise decodes as confident Russian ("Медленно."
# over every pause of an English meeting), so short regions always ask the detector too.
FAST_RU_MIN_S = 1.0
# Detector thresholds: P(ru) at or above SURE is Russian; at or above MAYBE it is Russian
# when the Russian decode is also decent (log-prob and dictionary share below).
DETECTOR_RU_SURE = 0.40
DETECTOR_RU_MAYBE = 0.15
DECENT_RU_MIN_LOGPROB = -0.45
DECENT_RU_MIN_KNOWN = 0.70
# Another allowed language (not kk/ru), or a third language outside the set, wins when the
# detector gives it at least this (a third language must then also decode credibly).
DETECTOR_OTHER_MIN = 0.50


@dataclass
class Evidence:
    logprob: float  # mean log word probability of the Russian decode; -inf: nothing decoded
    text: str
    loop: bool
    known_share: float | None = None
    detector: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        top = sorted(self.detector.items(), key=lambda kv: -kv[1])[:3]
        return {
            "ru_logprob": None if math.isinf(self.logprob) else round(self.logprob, 3),
            "ru_loop": self.loop,
            "ru_known_share": None if self.known_share is None else round(self.known_share, 3),
            "detector": {k: round(v, 3) for k, v in top},
        }


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


def russian_known_share(text: str) -> float | None:
    words = _CYRILLIC_WORD.findall(text.lower())
    if not words:
        return None
    morph = _morph()
    return sum(morph.word_is_known(w) for w in words) / len(words)


def russian_evidence(words: list, looped: bool = False) -> Evidence:
    """`looped`: a loop was already cut out of these words (still evidence against)."""
    text = " ".join(w.text.strip() for w in words).strip()
    if not words:
        return Evidence(-math.inf, "", looped)
    logprob = sum(math.log(max(w.probability, 1e-6)) for w in words) / len(words)
    return Evidence(logprob, text, looped or is_loop(text), russian_known_share(text))


def _known(ev: Evidence) -> float:
    """A Russian decode without one Cyrillic word wrote another language (Whisper does
    that for English): no Russian evidence at all. Digits alone prove nothing either way."""
    if ev.known_share is not None:
        return ev.known_share
    return 1.0 if ev.text and not _LATIN.search(ev.text) else 0.0


def settled_as_russian(ev: Evidence, seconds: float) -> bool:
    return (
        seconds >= FAST_RU_MIN_S
        and not ev.loop
        and ev.logprob >= FAST_RU_MIN_LOGPROB
        and _known(ev) >= FAST_RU_MIN_KNOWN
    )


def _decent_russian(ev: Evidence) -> bool:
    return not ev.loop and ev.logprob >= DECENT_RU_MIN_LOGPROB and _known(ev) >= DECENT_RU_MIN_KNOWN


def choose(ev: Evidence, allowed: list[str], third: list[str] = ()) -> str:
    """The language of an unsettled region, from the detector and the Russian decode;
    `third`: languages outside the set a region may still be clearly in."""
    p = ev.detector
    if "ru" in allowed:
        p_ru = p.get("ru", 0.0)
        if p_ru >= DETECTOR_RU_SURE or (p_ru >= DETECTOR_RU_MAYBE and _decent_russian(ev)):
            return "ru"
    if third:
        best = max(third, key=lambda code: p.get(code, 0.0))
        if p.get(best, 0.0) >= DETECTOR_OTHER_MIN:
            return best
    others = [code for code in allowed if code not in ("ru", "kk")]
    if others:
        best = max(others, key=lambda code: p.get(code, 0.0))
        if p.get(best, 0.0) >= DETECTOR_OTHER_MIN or "kk" not in allowed:
            return best
    if "kk" in allowed:
        return "kk"
    return allowed[0]
