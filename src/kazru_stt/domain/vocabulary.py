"""A person's terms (names, places, products, legal terms) that transcripts should spell as
they do: cleaned once here, and turned into the hint the engine is given."""

from __future__ import annotations

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.text_safety import unsafe_character

MAX_TERMS = 200
MAX_TERM_CHARS = 80
# What of a hint reaches the model is capped by the engine (engines/whisper: HINT_MAX_TOKENS):
# Whisper reads it as the text before the window, and a long one costs decoding room.


def clean_terms(terms: list[str]) -> list[str]:
    """The terms as stored: trimmed, inner spaces collapsed, empty ones dropped, a repeat
    (ignoring case) kept once, in the order given; 422 `invalid_option` past the limits."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in terms:
        if not isinstance(raw, str):
            raise InvalidOptionError("every term is a string", code=ErrorCode.INVALID_OPTION)
        if (bad := unsafe_character(raw)) is not None:
            raise InvalidOptionError(
                f"a term holds the control character {bad}", code=ErrorCode.INVALID_OPTION
            )
        term = " ".join(raw.split())
        if not term or term.casefold() in seen:
            continue
        if len(term) > MAX_TERM_CHARS:
            raise InvalidOptionError(
                f"a term is at most {MAX_TERM_CHARS} characters: {term[:20]}…",
                code=ErrorCode.INVALID_OPTION,
            )
        seen.add(term.casefold())
        out.append(term)
    if len(out) > MAX_TERMS:
        raise InvalidOptionError(
            f"at most {MAX_TERMS} terms ({len(out)} given)", code=ErrorCode.INVALID_OPTION
        )
    return out


def hint_of(terms: list[str], prompt: str | None = None) -> str | None:
    """The text the engine is given: a request's own prompt (about this recording), then
    the account's terms, each a sentence of its own; None when there is neither. The engine
    reads as much as fits its budget from the start, so the recording's own words come
    first."""
    parts = [" ".join(prompt.split())] if prompt and prompt.strip() else []
    if terms:
        parts.append(", ".join(terms))
    return " ".join(full_stop(part) for part in parts) or None


def full_stop(text: str) -> str:
    """`text` ending a sentence. Whisper reads a hint as the text said just before: one
    left open ("Тинькофф Инвестиции") is continued, and the words it already holds are
    not written again (the first words of a clip went missing); one that ends a sentence
    is followed by a new one."""
    text = text.rstrip(" ,;:-")
    return text if text.endswith((".", "!", "?", "…")) else text + "."
