"""Word times for edited text: words the edit left alone keep the engine's times, new words
get times interpolated from their neighbours, so the player still lights the right word."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from kazru_stt.domain.text_compare import normalize
from kazru_stt.domain.transcript import Word

MIN_WORD_S = 0.08  # a new word squeezed between neighbours still gets a visible span


def _spread(tokens: list[str], lo: float, hi: float) -> list[Word]:
    """Tokens laid over [lo, hi] in proportion to their length."""
    if hi - lo < MIN_WORD_S * len(tokens):
        mid = (lo + hi) / 2
        half = MIN_WORD_S * len(tokens) / 2
        lo, hi = mid - half, mid + half
    weights = [max(1, len(t)) for t in tokens]
    total, at, out = sum(weights), lo, []
    for token, weight in zip(tokens, weights, strict=True):
        end = at + (hi - lo) * weight / total
        out.append(Word(at, end, token, 1.0))
        at = end
    return out


def retime(old: list[Word], new_text: str, start: float, end: float) -> list[Word]:
    """Words of `new_text`, timed by aligning them with the `old` words (Levenshtein over
    normalised tokens). Unchanged words keep time and probability; replaced words share the
    span of the words they replace; inserted words fill the gap between their neighbours.
    A person wrote the new words, so their probability is 1. Word texts carry no spaces
    (as the pipeline writes them)."""
    tokens = new_text.split()
    if not tokens:
        return []
    if not old:
        return _spread(tokens, start, end)
    old_keys = [normalize(w.text) for w in old]
    new_keys = [normalize(t) for t in tokens]
    out: list[Word] = []
    for op in Levenshtein.opcodes(old_keys, new_keys):
        new = tokens[op.dest_start : op.dest_end]
        if op.tag == "equal":
            for w, token in zip(old[op.src_start : op.src_end], new, strict=True):
                out.append(Word(w.start, w.end, token, w.probability))
        elif op.tag == "replace":
            out += _spread(new, old[op.src_start].start, old[op.src_end - 1].end)
        elif op.tag == "insert":
            lo = out[-1].end if out else start
            hi = old[op.src_start].start if op.src_start < len(old) else end
            out += _spread(new, lo, max(lo, hi))
    # Times never run outside the segment, and never backwards.
    for w in out:
        w.start = min(max(w.start, start), end)
        w.end = min(max(w.end, w.start), end)
    return out
