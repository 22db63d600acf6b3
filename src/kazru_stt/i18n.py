"""Languages people read this service in: English (the msgids), Kazakh and Russian from
Babel `.po` catalogues (a translator edits `locales/<lang>/LC_MESSAGES/messages.po`; no build
step: a catalogue is compiled in memory when first used). The web pages and the documents
(exports) read the same catalogues."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.languages import ENGLISH, KAZAKH, RUSSIAN
from kazru_stt.domain.transcript import speaker_number

LOCALES = (KAZAKH, RUSSIAN, ENGLISH)
DEFAULT_LOCALE = RUSSIAN
CATALOGUES = Path(__file__).parent / "locales"


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is used."""
    return message


# Day first where the reader's language writes it so.
DATE_FORMAT = {KAZAKH: "%d.%m.%Y %H:%M", RUSSIAN: "%d.%m.%Y %H:%M", ENGLISH: "%Y-%m-%d %H:%M"}

# A language's name as a reader of another one says it (gettext it): "орыс тілі" in Kazakh.
LANGUAGE_NAMES = {KAZAKH: _("Kazakh"), RUSSIAN: _("Russian"), ENGLISH: _("English")}


# The built-in engines' names (another engine shows its own label).
ENGINE_LABELS: dict[str, str] = {
    EngineName.LOCAL: _("Local (offline)"),
    EngineName.YANDEX: _("Yandex SpeechKit (cloud)"),
}


# What a person is told when one of these codes reaches a page (an upload refused, a job
# failed): the API's own messages are English and may carry a program's detail.
E = ErrorCode
ERROR_MESSAGES: dict[str, str] = {
    E.UNSUPPORTED_MEDIA: _("This is not an audio or video file this server can read."),
    E.NO_AUDIO_STREAM: _("The file has no sound track."),
    E.EMPTY_AUDIO: _("The recording is empty."),
    E.CORRUPT_MEDIA: _("The file is damaged and cannot be read."),
    E.FILE_TOO_LARGE: _("The file is larger than this server accepts."),
    E.PAYLOAD_TOO_LARGE: _("The file is larger than this server accepts."),
    E.DURATION_LIMIT: _("The recording is longer than this server accepts."),
    E.UPLOAD_TIMEOUT: _("The upload stalled and was stopped. Try again."),
    E.CLIENT_DISCONNECTED: _("The upload was interrupted. Try again."),
    E.QUOTA_EXCEEDED: _(
        "Your quota is used up: wait for your jobs to finish, or ask an administrator."
    ),
    E.RATE_LIMITED: _("Too many requests. Wait a minute and try again."),
    E.TOO_MANY_STREAMS: _("Too many pages follow progress at once. Close some of them."),
    E.SERVER_BUSY: _("The server is busy. Try again in a minute."),
    E.LIVE_SESSIONS_FULL: _("All live transcription places are taken. Try again in a minute."),
    E.LIVE_IDLE: _("No sound arrived for a while, so the recording was stopped and saved."),
    E.LIVE_TOO_LONG: _("The recording reached its longest length and was stopped and saved."),
    E.LIVE_ENGINE_FAILED: _("Live recognition stopped on the server. What was said is saved."),
    E.BAD_CREDENTIALS: _("Wrong email or password."),
    E.WEAK_PASSWORD: _("The password needs at least 8 characters."),
    E.INVALID_EMAIL: _("This is not an email address."),
    E.SESSION_EXPIRED: _("Your session has ended. Sign in again."),
    E.CSRF_FAILED: _("This page is out of date. Reload it and try again."),
    E.NOT_FOUND: _("Not found."),
    E.INVALID_OPTION: _("This value is not accepted. Check it and try again."),
    E.ROLE_TOO_LOW: _("Your role in this workspace does not allow this."),
    E.LAST_MANAGER: _("A workspace keeps at least one manager: make someone else manager first."),
    E.WORKSPACES_ADMIN_ONLY: _("Only administrators can do this on this server."),
    E.TOO_MANY_ITEMS: _("Too many items at once: choose fewer."),
    E.AUDIO_DELETED: _("The recording was deleted after its retention period; the text stays."),
    E.ENGINE_NOT_CONFIGURED: _("That recognition engine is not set up on this server."),
    E.ENGINE_FAILED: _("The cloud recognition service failed on this recording."),
    E.ENGINE_AUTH: _("The cloud recognition service refused this server's key."),
    E.ENGINE_REJECTED_INPUT: _("The cloud recognition service refused this recording."),
    E.ENGINE_QUOTA: _("The cloud recognition service's quota is used up."),
    E.ENGINE_UNAVAILABLE: _("The cloud recognition service cannot be reached. Try again later."),
    E.WORKER_LOST: _("The worker transcribing this recording stopped. Upload it again."),
    E.TIMEOUT: _("The transcription took too long and was stopped."),
    E.MODEL_UNAVAILABLE: _("The recognition model is not available on this server."),
    E.MODEL_CORRUPT: _("The recognition model on this server is damaged."),
    E.STORAGE_UNAVAILABLE: _("The storage cannot be reached. Try again later."),
    E.STORAGE_FULL: _("The storage is full. Try again later or ask the administrator."),
    E.FILE_MISSING: _("The recording is missing from the storage."),
    E.DATABASE_UNAVAILABLE: _("The database cannot be reached. Try again later."),
    E.INTERNAL_ERROR: _("Something went wrong on the server."),
}
del E


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


def local_time(moment: datetime, zone: str, locale: str) -> str:
    """`moment` as a clock in `zone` reads it, with the zone: "07.12.2026 11:50 (Asia/Almaty,
    UTC+05:00)". A naive moment is UTC (the database's)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    here = moment.astimezone(ZoneInfo(zone))
    clock = here.strftime(DATE_FORMAT.get(locale, DATE_FORMAT[ENGLISH]))
    offset = here.strftime("%z")
    if zone == "UTC":
        return f"{clock} (UTC)"
    return f"{clock} ({zone}, UTC{offset[:3]}:{offset[3:]})"
