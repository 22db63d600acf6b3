"""Languages people read this service in: English (the msgids), Kazakh and Russian from
Babel `.po` catalogues (a translator edits `locales/<lang>/LC_MESSAGES/messages.po`; no build
step: a catalogue is compiled in memory when first used). The web pages and the documents
(exports) read the same catalogues."""

from __future__ import annotations

import io
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.languages import ENGLISH, KAZAKH, RUSSIAN
from kazru_stt.domain.transcript import speaker_number

LOCALES = (KAZAKH, RUSSIAN, ENGLISH)
DEFAULT_LOCALE = RUSSIAN
CATALOGUES = Path(__file__).parent / "locales"


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is used."""
    return message


# A language's name as a reader of another one says it (gettext it): "орыс тілі" in Kazakh.
LANGUAGE_NAMES = {KAZAKH: _("Kazakh"), RUSSIAN: _("Russian"), ENGLISH: _("English")}


# The built-in engines' names (another engine shows its own label).
ENGINE_LABELS: dict[str, str] = {
    EngineName.LOCAL: _("Local (offline)"),
    EngineName.YANDEX: _("Yandex SpeechKit (cloud)"),
}


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> NullTranslations:
    po = CATALOGUES / locale / "LC_MESSAGES" / "messages.po"
    if locale == ENGLISH or not po.is_file():
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


def speaker_title(label: str, locale: str) -> str:
    """A speaker nobody named, as its reader says it: SPEAKER_2 is "Сөйлеуші 2" in Kazakh,
    "Спикер 2" in Russian; a label of another form stays as it is."""
    number = speaker_number(label)
    if number is None:
        return label
    return translations(locale).gettext("Speaker %(number)s") % {"number": number}


def language_name(code: str, locale: str) -> str:
    """A language's name in `locale`'s words; an unknown code as it is."""
    return translations(locale).gettext(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else code


def recognition(engine: str, model: str, locale: str) -> str:
    """What wrote a transcript, as its reader says it: "Жергілікті (офлайн), whisper-base"."""
    label = ENGINE_LABELS.get(engine)
    said = translations(locale).gettext(label) if label else engine
    return f"{said}, {model}" if model else said
