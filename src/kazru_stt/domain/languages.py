"""The language sets every layer shares (one home: settings, options, pipeline, web)."""

from __future__ import annotations

KAZAKH_RUSSIAN = ("kk", "ru")
# Languages outside the set that a passage is still recognised in when it is clearly in
# one of them (Whisper's detector names Kazakh `tr`, `az`, `lt`... so only those listed).
DEFAULT_THIRD_LANGUAGES = ("en",)
OTHER_LANGUAGE = "other"  # the label of a passage in a third language left without text
