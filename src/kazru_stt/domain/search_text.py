"""The form text is searched in: one home for how the index and a query fold words, so that
"ДОГОВОР", "договор" and "Договор" find each other, as do "ещё" and "еще", while Kazakh
letters stay themselves ("қазақ" is not "казак": they are different words)."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
MAX_TERMS = 8  # a query is a few words; more only slows it
MAX_TERM_CHARS = 64


def fold(text: str) -> str:
    """Lower case (Kazakh and Russian letters alike), ё as е, composed forms (a letter typed
    as a base and a combining mark is the same letter)."""
    return unicodedata.normalize("NFC", text).lower().replace("ё", "е")


def query_terms(query: str) -> list[str]:
    """The words of a search query, folded; each is matched as the start of a word (so
    "договор" also finds "договора", "договору": Kazakh and Russian add endings)."""
    return [w[:MAX_TERM_CHARS] for w in _WORD.findall(fold(query))][:MAX_TERMS]


def matches(text: str, terms: list[str]) -> bool:
    """Does every term begin a word of `text` (as the index matches them)?"""
    if not terms:
        return False
    folded = fold(text)
    return all(re.search(r"\b" + re.escape(t), folded) for t in terms)


def marked(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """`text` in pieces, each with whether it is a word a term found (for showing a hit)."""
    pieces: list[tuple[str, bool]] = []
    last = 0
    for m in _WORD.finditer(text):
        if any(fold(m.group()).startswith(t) for t in terms):
            if m.start() > last:
                pieces.append((text[last : m.start()], False))
            pieces.append((m.group(), True))
            last = m.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces
