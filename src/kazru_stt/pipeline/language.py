"""Which language each speech region is in, among an allowed set (default Kazakh, Russian).

Whisper base's own detector calls most Kazakh speech Russian (../shared/eval/README.md), so
the decision rests on how well each language's decode explains the region:

* every region is decoded in the primary language (Russian) first; a region Russian
  explains well (confident words, most of them in a Russian dictionary, no loop) is Russian
  and costs nothing more: that decode is the transcript;
* the other regions are decoded in each other allowed language, and each decode is scored
  by its mean word log-probability, minus everything for a repetition loop (a loop is
  confident but says nothing);
* a Russian decode also scores by the share of its words a Russian dictionary knows
  (Kazakh speech decoded as Russian makes words like "алгогарой");
* a Kazakh decode gets a margin over the Russian one, since Whisper base writes Kazakh
  poorly and a Russian decode of Kazakh speech is usually fluent-looking and confident;
  less of it when the decode has none of the letters ә ғ қ ң ө ұ ү һ і (Russian speech
  forced to Kazakh often comes out as plain Russian text), none when it has no Cyrillic.

Weights and thresholds were fitted on ../shared/eval (benchmarks/eval_pipeline.py prints the
figures); the data is small, so they are named constants, easy to re-fit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from kazru_stt.pipeline.guards import is_loop

KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_CYRILLIC_WORD = re.compile(r"[а-яёәғқңөұүһі]+")

# A Russian decode this confident, with this share of dictionary words, settles a region.
FAST_RU_MIN_LOGPROB = -0.30
FAST_RU_MIN_KNOWN = 0.80
# Russian score: log-prob + weight x (dictionary share - pivot).
KNOWN_WEIGHT = 0.5
KNOWN_PIVOT = 0.8
# Kazakh score: log-prob + bonus x Kazakh-letter share + margin, less a penalty when the
# decode has (almost) no Kazakh letters.
KAZAKH_LETTER_BONUS = 0.30
KAZAKH_MARGIN = 0.19
MIN_KAZAKH_LETTERS = 0.03
NO_KAZAKH_LETTERS_PENALTY = 0.13


@dataclass
class Evidence:
    language: str
    logprob: float  # mean log word probability; -inf when nothing was decoded
    text: str
    loop: bool
    kazakh_letters: float = 0.0
    known_share: float | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "logprob": None if math.isinf(self.logprob) else round(self.logprob, 3),
            "loop": self.loop,
            "kazakh_letters": round(self.kazakh_letters, 3),
            "known_share": None if self.known_share is None else round(self.known_share, 3),
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


def kazakh_letter_share(text: str) -> float:
    letters = [c for c in text.lower() if c.isalpha()]
    return sum(c in KAZAKH_LETTERS for c in letters) / len(letters) if letters else 0.0


def evidence_for(language: str, words: list) -> Evidence:
    text = "".join(w.text for w in words).strip()
    if not words:
        return Evidence(language, -math.inf, "", False)
    logprob = sum(math.log(max(w.probability, 1e-6)) for w in words) / len(words)
    ev = Evidence(language, logprob, text, is_loop(text), kazakh_letter_share(text))
    if language == "ru":
        ev.known_share = russian_known_share(text)
    return ev


def settled_as_russian(ev: Evidence) -> bool:
    return (
        ev.language == "ru"
        and not ev.loop
        and ev.logprob >= FAST_RU_MIN_LOGPROB
        and (ev.known_share or 0.0) >= FAST_RU_MIN_KNOWN
    )


def score(ev: Evidence) -> float:
    if ev.loop or math.isinf(ev.logprob):
        return -math.inf
    s = ev.logprob
    if ev.language == "ru" and ev.known_share is not None:
        s += KNOWN_WEIGHT * (ev.known_share - KNOWN_PIVOT)
    elif ev.language == "kk":
        if not _CYRILLIC_WORD.search(ev.text.lower()):
            return -math.inf  # digits or Latin only: no evidence of Kazakh
        s += KAZAKH_LETTER_BONUS * ev.kazakh_letters + KAZAKH_MARGIN
        if ev.kazakh_letters < MIN_KAZAKH_LETTERS:
            s -= NO_KAZAKH_LETTERS_PENALTY
    return s


def choose(evidence: list[Evidence], primary: str) -> str:
    """The language whose decode explains the region best; the primary one on a tie."""
    best = max(evidence, key=lambda ev: (score(ev), ev.language == primary))
    if math.isinf(score(best)):
        return primary
    return best.language
