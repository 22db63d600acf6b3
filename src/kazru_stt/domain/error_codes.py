"""The one list of error codes. A code is part of the contract (API clients and scripts match
on it), so a new one is added here, and `api/errors.STATUS_BY_CODE` gives it its HTTP status
(a test checks that every member has one)."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # The request itself
    INVALID_REQUEST = "invalid_request"
    INVALID_FORM = "invalid_form"
    INVALID_HOST = "invalid_host"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HTTP_ERROR = "http_error"
    VALIDATION_ERROR = "validation_error"
    INVALID_OPTION = "invalid_option"
    INVALID_SPLIT = "invalid_split"
    UNKNOWN_MODEL = "unknown_model"
    UNSUPPORTED_FORMAT = "unsupported_format"
    ENGINE_NOT_CONFIGURED = "engine_not_configured"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    FILE_TOO_LARGE = "file_too_large"
    UPLOAD_TIMEOUT = "upload_timeout"
    CLIENT_DISCONNECTED = "client_disconnected"
    # Accounts and access
    UNAUTHORIZED = "unauthorized"
    BAD_CREDENTIALS = "bad_credentials"
    SESSION_EXPIRED = "session_expired"
    WRONG_PASSWORD = "wrong_password"
    CSRF_FAILED = "csrf_failed"
    NOT_OWNER = "not_owner"
    ROLE_TOO_LOW = "role_too_low"
    LAST_MANAGER = "last_manager"
    WORKSPACES_ADMIN_ONLY = "workspaces_admin_only"
    REGISTRATION_CLOSED = "registration_closed"
    EMAIL_TAKEN = "email_taken"
    INVALID_EMAIL = "invalid_email"
    WEAK_PASSWORD = "weak_password"
    LAST_ADMIN = "last_admin"
    INVALID_WEBHOOK_URL = "invalid_webhook_url"
    WEBHOOK_URL_BLOCKED = "webhook_url_blocked"
    # Limits
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    TOO_MANY_STREAMS = "too_many_streams"
    DURATION_LIMIT = "duration_limit"
    SERVER_BUSY = "server_busy"
    LIVE_SESSIONS_FULL = "live_sessions_full"
    LIVE_IDLE = "live_idle"
    LIVE_TOO_LONG = "live_too_long"
    # Things and their state
    NOT_FOUND = "not_found"
    TOO_MANY_ITEMS = "too_many_items"
    CONFLICT = "conflict"
    NOT_CANCELABLE = "not_cancelable"
    NOT_READY = "not_ready"
    NOTHING_TO_UNDO = "nothing_to_undo"
    NOTHING_TO_REDO = "nothing_to_redo"
    NOTHING_TO_MERGE = "nothing_to_merge"
    AUDIO_DELETED = "audio_deleted"
    CANCELED = "canceled"
    # The media
    FILE_NOT_FOUND = "file_not_found"
    UNSUPPORTED_MEDIA = "unsupported_media"
    NO_AUDIO_STREAM = "no_audio_stream"
    EMPTY_AUDIO = "empty_audio"
    CORRUPT_MEDIA = "corrupt_media"
    # The cloud engine (Yandex SpeechKit)
    ENGINE_FAILED = "engine_failed"
    ENGINE_AUTH = "engine_auth"
    ENGINE_REJECTED_INPUT = "engine_rejected_input"
    ENGINE_QUOTA = "engine_quota"
    ENGINE_UNAVAILABLE = "engine_unavailable"
    ENGINE_NOT_FOUND = "engine_not_found"
    ENGINE_BAD_RESPONSE = "engine_bad_response"
    # This server and its parts
    INTERNAL_ERROR = "internal_error"
    INVALID_SETTING = "invalid_setting"
    WORKER_LOST = "worker_lost"
    TIMEOUT = "timeout"
    MODEL_UNAVAILABLE = "model_unavailable"
    LIVE_ENGINE_FAILED = "live_engine_failed"
    MODEL_CORRUPT = "model_corrupt"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    STORAGE_FULL = "storage_full"
    FILE_MISSING = "file_missing"
    DATABASE_UNAVAILABLE = "database_unavailable"

    @classmethod
    def stored(cls, value: str | None) -> ErrorCode:
        """A code read back from a job row: one from an older version, or none, is an
        internal error (a failed job always failed for a reason on our side or the input's)."""
        try:
            return cls(value or "")
        except ValueError:
            return cls.INTERNAL_ERROR
