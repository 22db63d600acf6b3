"""Domain errors: each carries a stable machine code and a human message.

The CLI and the API turn these into output in exactly one place each.
"""

from __future__ import annotations

from typing import Any


class KazruError(Exception):
    """Base error with a stable `code` (snake_case) and a human `message`."""

    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class MediaError(KazruError):
    """The input is not usable audio. Codes: unsupported_media, no_audio_stream,
    empty_audio, corrupt_media, file_not_found."""

    code = "unsupported_media"


class ModelError(KazruError):
    """The recognition model cannot be found, assembled or loaded."""

    code = "model_unavailable"


class InvalidOptionError(KazruError):
    code = "invalid_option"


class InvalidSetting(KazruError):
    """The operator's settings contradict what this installation has (refused at start)."""

    code = "invalid_setting"


class CanceledError(KazruError):
    """Raised from a progress callback to stop a transcription early."""

    code = "canceled"


class NotFound(KazruError):
    """Not there, or not the caller's to see (the same answer either way)."""

    code = "not_found"


class Conflict(KazruError):
    """The thing is in a state that does not allow this (409)."""

    code = "conflict"


class AuthError(KazruError):
    """No valid credentials (401)."""

    code = "unauthorized"


class TooManyRequests(KazruError):
    """A rate limit or quota was reached; `retry_after_s` says when to try again (429)."""

    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after_s: float, code: str | None = None, details: Any = None
    ):
        super().__init__(message, code=code, details=details)
        self.retry_after_s = max(1, int(retry_after_s + 0.999))
