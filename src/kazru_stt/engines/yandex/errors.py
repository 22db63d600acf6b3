"""Errors of the cloud engine; `retryable` tells the fallback logic what it may try again."""

from __future__ import annotations

from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError


class YandexError(KazruError):
    code = ErrorCode.ENGINE_FAILED
    retryable = False


class YandexAuthError(YandexError):
    code = ErrorCode.ENGINE_AUTH


class YandexRejectedInput(YandexError):
    code = ErrorCode.ENGINE_REJECTED_INPUT


class YandexQuotaError(YandexError):
    code = ErrorCode.ENGINE_QUOTA
    retryable = True


class YandexUnavailable(YandexError):
    """Still failing after the retry budget (429/5xx/network/timeouts)."""

    code = ErrorCode.ENGINE_UNAVAILABLE
    retryable = True
