"""Comparing a machine's text with a person's: the one normalisation (shared with the
benchmarks) and the edit counts behind WER and CER."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

_NOT_WORD = re.compile(r"[^\w\s]")


def normalize(text: str) -> str:
    """Case, punctuation and ё/е folded, for Cyrillic Kazakh and Russian alike; Kazakh
    letters (ә, ғ, қ, ң, ө, ұ, ү, һ, і) are word characters and stay as they are."""
    text = text.lower().replace("ё", "е").replace("|", " ")
    return " ".join(_NOT_WORD.sub(" ", text).split())


@dataclass
class ErrorCounts:
    """Edits needed to turn the hypothesis into the reference, and the reference's length:
    WER = word_errors / ref_words, CER = char_errors / ref_chars (corpus-level when summed)."""

    word_errors: int = 0
    ref_words: int = 0
    char_errors: int = 0
    ref_chars: int = 0

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        return ErrorCounts(
            self.word_errors + other.word_errors,
            self.ref_words + other.ref_words,
            self.char_errors + other.char_errors,
            self.ref_chars + other.ref_chars,
        )


def error_counts(reference: str, hypothesis: str) -> ErrorCounts:
    ref, hyp = normalize(reference), normalize(hypothesis)
    ref_words, hyp_words = ref.split(), hyp.split()
    return ErrorCounts(
        word_errors=Levenshtein.distance(ref_words, hyp_words),
        ref_words=len(ref_words),
        char_errors=Levenshtein.distance(ref, hyp),
        ref_chars=len(ref),
    )


def ratio(errors: int, total: int) -> float | None:
    return round(errors / total, 4) if total else None
