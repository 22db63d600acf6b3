"""Which language each speech passage is in, among an allowed set (default Kazakh, Russian).

One rule, from Whisper's own detector (P over all its languages, read on the passage):
Russian when P(ru) reaches a prior that favours it a little; else another allowed
language the detector is fairly sure of; else Kazakh (Whisper base rarely *names* Kazakh:
it says `lt`, `tr`, `ar`... for it, but it tells well whether speech is Russian). Every
passage with speech gets a language; whether its *text* is usable is another matter
(`low_confidence`).

Decodes are not evidence. Rules that weighed a Russian decode's confidence and dictionary
words against the detector were fitted on the eval folder's few voices and lost 10-35
points on voices they had not heard (a Kazakh "алма" or "чемодан" decodes as confident
Russian); the plain detector rule held on every unseen set (93.9% on 163 short clips of
new speakers). `benchmarks/lid_passages.py` prints the two side by side.

Two more rules, each with one number:
- a short passage between two passages of one language takes theirs while the detector is
  undecided on it (two syllables near the threshold are whatever their neighbours speak);
- a third language outside the set (English by default) only for a passage long enough
  to know (a Kazakh "сау бол" sounds like "so ball").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kazru_stt.domain.languages import KAZAKH, RUSSIAN

# The constants' reasons and figures: docs/decisions.md (language of a passage).
# Russian when the detector gives it at least this. Not fitted here: the rule
# "P(ru) >= 0.40 -> ru, else kk" was measured on 163 short clips of speakers outside the
# eval folder (93.9%: kk 75/83, ru 78/80), where the detector alone at even odds missed
# more Kazakh-accented Russian.
RUSSIAN_AT = 0.40
# The first pass decodes at beam 1 (evidence only) a window whose detector gives Russian
# less than the rule wants: most such windows are not Russian, and the few passages in
# them that are get decoded again in full.
EVIDENCE_ONLY_BELOW = RUSSIAN_AT
# Another language than kk/ru (allowed, or a third language outside the set) wins with at
# least even odds on the detector; a third language also needs a passage over
# SHORT_PASSAGE_S. Length is what separates: on 231 Kazakh and Russian passages over 2.5 s
# (clean, telephone, Opus) P(en) never passed 0.10, while 6 of 585 shorter ones reached
# 0.5 (a Kazakh "сау бол" heard as "so ball"); English passages over 2.5 s had P(en) >= 0.5
# in 53 of 55 (47 at 0.8, so "very sure" would lose far-field meetings).
DETECTOR_OTHER_MIN = 0.50
# A passage this short is judged by its neighbours when its own read is undecided (the
# issue's "about 2.5 s": a word or two); nor is it long enough for a third language alone.
SHORT_PASSAGE_S = 2.5
# Neighbours: the passages before and after, each within this pause.
NEIGHBOUR_GAP_S = 3.0
# A short passage's own read is *undecided* while it moves the odds of the rule's
# threshold by less than this factor (P(ru) between 0.31 and 0.50). Measured on built
# triples (benchmarks/lid_passages.py: a short real passage between two whole passages of
# one language from other sources, half of them switches): following the neighbours of
# every passage not "very sure" (factor 6) lost 3.5 points overall (a real switch, a
# Russian word among Kazakh, fell from 83% to 69%); at 1.5 it is within 0.3 points of the
# passage alone when half the passages are switches and gains where the neighbours agree.
DECIDED_ODDS = 1.5


def _odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return p / (1 - p)


def _at_odds(threshold: float, factor: float) -> float:
    """P at which the odds are `factor` times those of `threshold`."""
    odds = _odds(threshold) * factor
    return odds / (1 + odds)


DECIDED_FOR = _at_odds(RUSSIAN_AT, DECIDED_ODDS)  # 0.50: decidedly Russian (or another)
DECIDED_AGAINST = 1 - _at_odds(1 - RUSSIAN_AT, DECIDED_ODDS)  # 0.31: decidedly not


def choose(
    probs: dict[str, float],
    allowed: list[str],
    third: Sequence[str] = (),
    seconds: float = math.inf,
) -> str:
    """The language of a passage of `seconds` from the detector's `probs`; `third`:
    languages outside the set a long passage may still be clearly in."""
    if RUSSIAN in allowed and probs.get(RUSSIAN, 0.0) >= RUSSIAN_AT:
        return RUSSIAN
    if third and seconds > SHORT_PASSAGE_S:
        best = max(third, key=lambda code: probs.get(code, 0.0))
        if probs.get(best, 0.0) >= DETECTOR_OTHER_MIN:
            return best
    others = [code for code in allowed if code not in (RUSSIAN, KAZAKH)]
    if others:
        best = max(others, key=lambda code: probs.get(code, 0.0))
        if probs.get(best, 0.0) >= DETECTOR_OTHER_MIN or KAZAKH not in allowed:
            return best
    if KAZAKH in allowed:
        return KAZAKH
    return max(allowed, key=lambda code: probs.get(code, 0.0))


def holds_against(probs: dict[str, float], code: str, other: str) -> bool:
    """Whether the detector has decided for `code` (what `choose` gave this passage) over
    its neighbours' `other`. It does not name Kazakh, so for Kazakh that means decidedly
    not `other`."""
    if code == KAZAKH:
        return probs.get(other, 0.0) <= DECIDED_AGAINST
    return probs.get(code, 0.0) >= DECIDED_FOR


def smooth_short(
    spans: list[tuple[float, float]], chosen: list[str], probs: list[dict[str, float]]
) -> list[str]:
    """A short passage between two passages of one language (each within NEIGHBOUR_GAP_S)
    takes their language, unless the detector has decided for its own. A passage at
    either end, or alone, keeps its own (a file that is one short word is judged by
    `choose`)."""
    out = list(chosen)
    for i in range(1, len(spans) - 1):
        start, end = spans[i]
        before, after = chosen[i - 1], chosen[i + 1]
        if end - start > SHORT_PASSAGE_S or before != after or before == chosen[i]:
            continue
        near = (
            start - spans[i - 1][1] <= NEIGHBOUR_GAP_S and spans[i + 1][0] - end <= NEIGHBOUR_GAP_S
        )
        if near and not holds_against(probs[i], chosen[i], before):
            out[i] = before
    return out
