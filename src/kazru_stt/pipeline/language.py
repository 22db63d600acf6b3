"""Which language each speech region is in, among an allowed set (default Kazakh, Russian).

Whisper base's own detector rarely *names* Kazakh (../shared/eval/README.md: it says `lt`,
`ar`, `tr`, `ka`... for Kazakh speech), but it tells fairly well whether speech is Russian.
So Kazakh is decided as "not Russian", with the Russian decode as a second witness:

1. every region is decoded in Russian first (the primary language; at beam 1, as evidence
   only, in a window the detector does not call Russian); a region that this decode
   explains well (confident words, most of them in a Russian dictionary, no loop) is
   Russian, and that decode is its transcript (decoded again in full if it was evidence
   only): the common case costs nothing extra;
2. for the other regions Whisper's detector gives P(language) on the region's own audio;
   a logistic model over that and the Russian decode says Russian or not; not Russian is
   a third language the detector is sure of (when the operator allows one, and its decode
   is credible), or the most likely other allowed language, else Kazakh; the region is
   decoded again in that language;
3. a short region decided without a sure detector takes the language of the regions on
   both sides of it.

Decodes forced to Kazakh are not used as evidence: Whisper base writes Kazakh poorly, loops
on it, and at temperature > 0 it samples, so such evidence flips between runs. Constants
come from benchmarks/lid_passages.py (which holds whole sources out to report them).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from kazru_stt.pipeline.guards import is_loop

_CYRILLIC_WORD = re.compile(r"[а-яёәғқңөұүһі]+")
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)

# The first pass decodes at beam 1 (evidence only) a window whose detector gives Russian
# less than this (the detector's own even odds; not tuned): most such windows are not
# Russian, and the few that are get decoded again in full.
EVIDENCE_ONLY_BELOW = 0.5
# A Russian decode this confident, with this share of dictionary words, settles a region
# (chosen among six settings by the held-out score below, so that score is a little kind).
FAST_RU_MIN_LOGPROB = -0.45
FAST_RU_MIN_KNOWN = 0.80
# Russian or not, for a region the fast path left open: a logistic model over the evidence
# (log P(ru) and log P(kk) from the detector, the Russian decode's mean log word
# probability floored at -3, whether it looped). Fitted by benchmarks/lid_passages.py on
# 223 distinct passages of 43 sources (eval clips whole and cut into 0.5-2 s pieces), the
# evidence read as the first pass reads it (the decode at beam 1 where the window's
# detector says P(ru) < 0.5), each passage twice: with the detector read from its 30 s
# window and read from its own audio cut to its length (a passage that shared its window;
# whisper_local.detector_frames). With the fast path and whole sources held out (5 folds)
# it labelled 94.6% right on either read (window: kk 92.5%, ru 96.6%; own: kk 97.2%, ru
# 92.2%; passages <= 2 s 93.4%); fitted on the window's read alone, 94.2% there; Whisper's
# detector alone (P(ru) >= 0.4) 90.6% and 91.9%.
LID_WEIGHTS = (1.053, -1.379, 0.244, -0.09)
LID_BIAS = -8.578
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


_LATIN_WORD = re.compile(r"[a-z]{2,}", re.IGNORECASE)


def russian_known_share(text: str) -> float | None:
    """Share of the decode's words a Russian dictionary knows; Latin words count as unknown
    (a Russian decode of English speech can start in Cyrillic and go on in English: "Не
    скажи, что your country can do for you" is no Russian passage)."""
    words = _CYRILLIC_WORD.findall(text.lower())
    if not words:
        return None
    morph = _morph()
    latin = len(_LATIN_WORD.findall(text))
    return sum(morph.word_is_known(w) for w in words) / (len(words) + latin)


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


def supports_switch(code: str, words: list, detector: dict[str, float]) -> bool:
    """A credible decode in `code` of a passage first judged another language may take it
    over. For Russian, also: most of its words are in the dictionary (the fast path's
    share) and, with this decode as evidence, the rule calls the passage Russian. Whisper
    writes fluent, gate-passing Russian over other speech ("Я не знаю, что у меня есть."
    four times over an English meeting, invented names over Kazakh): passing the gates is
    not enough. (Other languages' decodes are no evidence here: see the module's note.)"""
    if code != "ru":
        return True
    ev = russian_evidence(words)
    ev.detector = detector
    return _known(ev) >= FAST_RU_MIN_KNOWN and p_russian(ev) >= 0.5


def settled_as_russian(ev: Evidence) -> bool:
    return not ev.loop and ev.logprob >= FAST_RU_MIN_LOGPROB and _known(ev) >= FAST_RU_MIN_KNOWN


def lid_features(ev: Evidence) -> tuple[float, float, float, float]:
    p = ev.detector
    logprob = max(ev.logprob, -3.0)  # -inf: nothing decoded
    return (
        math.log(max(p.get("ru", 0.0), 1e-4)),
        math.log(max(p.get("kk", 0.0), 1e-4)),
        logprob,
        float(ev.loop),
    )


def p_russian(ev: Evidence, weights=LID_WEIGHTS, bias: float = LID_BIAS) -> float:
    z = bias + sum(w * x for w, x in zip(weights, lid_features(ev), strict=True))
    return 1.0 / (1.0 + math.exp(-z))


def choose(ev: Evidence, allowed: list[str], third: list[str] = ()) -> str:
    """The language of an unsettled region, from the detector and the Russian decode;
    `third`: languages outside the set a region may still be clearly in."""
    p = ev.detector
    if "ru" in allowed and p_russian(ev) >= 0.5:
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


# A passage this short, decided without a sure detector (or settled by its own Russian
# decode), between passages of one language (each within NEIGHBOUR_GAP_S) takes their
# language: a 0.6 s word between two Kazakh sentences is almost surely Kazakh, whatever two
# syllables sound like alone. (2 s, the "short": at 1.2 s, jfk's 1.9 s "ask not"
# between English passages came out Russian on a CPU without AVX2.)
SHORT_PASSAGE_S = 2.0
NEIGHBOUR_GAP_S = 3.0
SURE_DETECTOR = 0.8


def is_sure(ev: Evidence, code: str) -> bool:
    return ev.detector.get(code, 0.0) >= SURE_DETECTOR


def smooth_short(
    spans: list[tuple[float, float]], chosen: list[str], sure: list[bool]
) -> list[str]:
    out = list(chosen)
    for i, (start, end) in enumerate(spans):
        if sure[i] or end - start > SHORT_PASSAGE_S:
            continue
        near = []
        if i > 0 and start - spans[i - 1][1] <= NEIGHBOUR_GAP_S:
            near.append(chosen[i - 1])
        if i + 1 < len(spans) and spans[i + 1][0] - end <= NEIGHBOUR_GAP_S:
            near.append(chosen[i + 1])
        if near and len(set(near)) == 1 and near[0] != chosen[i]:
            out[i] = near[0]
    return out
