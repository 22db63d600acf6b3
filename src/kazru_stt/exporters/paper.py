"""The paper a filed document (DOCX, PDF) is laid out on: A4, or US Letter where the
reader's locale uses it (the Americas' Letter countries and the Philippines)."""

from __future__ import annotations

from typing import Literal

Paper = Literal["a4", "letter"]
A4: Paper = "a4"
LETTER: Paper = "letter"
# Width and height in millimetres.
SIZES_MM: dict[Paper, tuple[float, float]] = {A4: (210.0, 297.0), LETTER: (215.9, 279.4)}
# Regions (ISO 3166) whose offices print on Letter.
_LETTER_REGIONS = frozenset("US CA MX PH CL CO VE CR GT PA PR DO SV NI HN BO".split())


def paper_for_locale(locale: str | None) -> Paper:
    """The paper of the reader's first locale, by its region: in an Accept-Language header
    ("en-US,en;q=0.9" → Letter; "kk-KZ", "ru", "ru,en-US", none → A4) or a POSIX locale
    ("en_US.UTF-8" → Letter)."""
    first = (locale or "").split(",")[0].split(";")[0].split(".")[0].split("@")[0]
    first = first.strip().replace("_", "-")
    region = first.split("-")[-1] if "-" in first else ""
    return LETTER if region.upper() in _LETTER_REGIONS else A4
