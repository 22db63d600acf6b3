"""Yandex SpeechKit API v3 (asynchronous file recognition): client, result parser, engine,
and a local emulator of the same protocol for tests and development."""
