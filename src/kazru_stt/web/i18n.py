"""The web page's language: which one a request gets, and the names it offers. The
catalogues themselves are kazru_stt.i18n's."""

from __future__ import annotations

from babel import negotiate_locale

from kazru_stt.domain.languages import NATIVE_NAMES
from kazru_stt.i18n import DEFAULT_LOCALE, LOCALES

LOCALE_NAMES = {code: NATIVE_NAMES[code][:1].upper() + NATIVE_NAMES[code][1:] for code in LOCALES}
COOKIE = "kazru_lang"


def choose(query: str | None, cookie: str | None, stored: str | None, accept: str) -> str:
    """The page's language: asked for now, else the cookie, else the account's, else the
    browser's Accept-Language, else Russian."""
    for value in (query, cookie, stored):
        if value in LOCALES:
            return value
    wanted = []
    for part in (accept or "").split(","):
        tag, _sep, q = part.strip().partition(";q=")
        if tag:
            try:
                wanted.append((float(q or 1), tag.replace("-", "_")))
            except ValueError:
                continue
    ordered = [tag for _q, tag in sorted(wanted, key=lambda x: -x[0])]
    return negotiate_locale(ordered, list(LOCALES)) or DEFAULT_LOCALE
