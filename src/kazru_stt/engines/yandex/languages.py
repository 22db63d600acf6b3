"""Our language codes and Yandex SpeechKit's, both ways (the engine, its result parser and
the emulator all read them here; docs/yandex-speechkit.md)."""

from __future__ import annotations

from kazru_stt.domain.languages import ENGLISH, KAZAKH, RUSSIAN

TO_YANDEX = {KAZAKH: "kk-KZ", RUSSIAN: "ru-RU", ENGLISH: "en-US"}
# Yandex also answers Kazakh as kk-KK.
FROM_YANDEX = {**{theirs: ours for ours, theirs in TO_YANDEX.items()}, "kk-KK": KAZAKH}
