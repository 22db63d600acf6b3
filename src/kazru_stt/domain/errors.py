"""Domain errors: each carries a stable machine code and a human message.

The CLI and the API turn these into output in exactly one place each.
"""

from __future__ import annotations

from typing import Any

from kazru_stt.domain.error_codes import ErrorCode


class KazruError(Exception):
    """Base error with a stable `code` (one of `ErrorCode`) and a human `message`."""

    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, *, code: ErrorCode | None = None, details: Any = None):
        super().__init__(message)
        if code is not None:
            self.code = ErrorCode(code)  # a code outside the list fails here, where it is made
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class MediaError(KazruError):
    """The input is not usable audio. Codes: unsupported_media, no_audio_stream,
    empty_audio, corrupt_media, file_not_found."""

    code = ErrorCode.UNSUPPORTED_MEDIA


class ModelError(KazruError):
    """The recognition model cannot be found, assembled or loaded."""

    code = ErrorCode.MODEL_UNAVAILABLE


class InvalidOptionError(KazruError):
    code = ErrorCode.INVALID_OPTION


class InvalidSetting(KazruError):
    """The operator's settings contradict what this installation has (refused at start)."""

    code = ErrorCode.INVALID_SETTING


class CanceledError(KazruError):
    """Raised from a progress callback to stop a transcription early."""

    code = ErrorCode.CANCELED


class NotFound(KazruError):
    """Not there, or not the caller's to see (the same answer either way)."""

    code = ErrorCode.NOT_FOUND


class Forbidden(KazruError):
    """Seen, but not the caller's to do (403): a workspace member's role is too low."""

    code = ErrorCode.ROLE_TOO_LOW


class Conflict(KazruError):
    """The thing is in a state that does not allow this (409)."""

    code = ErrorCode.CONFLICT


class AuthError(KazruError):
    """No valid credentials (401)."""

    code = ErrorCode.UNAUTHORIZED


class TooManyRequests(KazruError):
    """A rate limit or quota was reached; `retry_after_s` says when to try again (429)."""

    code = ErrorCode.RATE_LIMITED

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float,
        code: ErrorCode | None = None,
        details: Any = None,
    ):
        super().__init__(message, code=code, details=details)
        self.retry_after_s = max(1, int(retry_after_s + 0.999))
