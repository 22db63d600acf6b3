"""The language sets every layer shares (one home: settings, options, pipeline, web)."""

from __future__ import annotations

KAZAKH = "kk"
RUSSIAN = "ru"
ENGLISH = "en"
KAZAKH_RUSSIAN = (KAZAKH, RUSSIAN)
# How a document names a passage's language (in the language itself).
NATIVE_NAMES = {KAZAKH: "қазақша", RUSSIAN: "русский", ENGLISH: "English"}
# Languages outside the set that a passage is still recognised in when it is clearly in
# one of them (Whisper's detector names Kazakh `tr`, `az`, `lt`... so only those listed).
DEFAULT_THIRD_LANGUAGES = (ENGLISH,)
OTHER_LANGUAGE = "other"  # the label of a passage in a third language left without text
