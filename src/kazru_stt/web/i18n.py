"""Interface languages: English (the msgids), Kazakh and Russian from Babel `.po` catalogues
(a translator edits `web/locales/<lang>/LC_MESSAGES/messages.po`; no build step: the
catalogue is compiled in memory when first used)."""

from __future__ import annotations

import io
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from kazru_stt.domain.languages import ENGLISH, KAZAKH, NATIVE_NAMES, RUSSIAN

LOCALES = (KAZAKH, RUSSIAN, ENGLISH)
DEFAULT_LOCALE = RUSSIAN
LOCALE_NAMES = {code: NATIVE_NAMES[code][:1].upper() + NATIVE_NAMES[code][1:] for code in LOCALES}
CATALOGUES = Path(__file__).parent / "locales"
COOKIE = "kazru_lang"


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is used."""
    return message


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not po.is_file():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def catalogue_ids(locale: str) -> dict[str, str]:
    """msgid -> translation, for tests that look for untranslated text."""
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {
        m.id: m.string
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    }


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
