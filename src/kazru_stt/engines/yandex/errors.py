"""Errors of the cloud engine; `retryable` tells the fallback logic what it may try again."""

from __future__ import annotations

from kazru_stt.domain.errors import KazruError


class YandexError(KazruError):
    code = "engine_failed"
    retryable = False


class YandexAuthError(YandexError):
    code = "engine_auth"


class YandexRejectedInput(YandexError):
    code = "engine_rejected_input"


class YandexQuotaError(YandexError):
    code = "engine_quota"
    retryable = True


class YandexUnavailable(YandexError):
    """Still failing after the retry budget (429/5xx/network/timeouts)."""

    code = "engine_unavailable"
    retryable = True
