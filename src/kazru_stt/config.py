"""One settings object, read from the environment (prefix KAZRU_) and validated at start."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kazru_stt.domain.languages import DEFAULT_THIRD_LANGUAGES


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "kazru-stt"


_PLACEHOLDER_SECRETS = {"change-me", "changeme", "secret", "password", "test"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAZRU_", extra="ignore")

    # Everything of the embedded mode lives under data_dir.
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    broker_url: str | None = None
    storage_url: str | None = None

    # Recognition
    engine: Literal["local", "yandex"] = "local"
    model_path: Path | None = None  # any CTranslate2 Whisper model directory
    model_cache_dir: Path | None = None  # where the bundled model is assembled
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "default"  # int8 on CPU, float16 on GPU when "default"
    cpu_threads: int = 0  # 0: let CTranslate2 decide
    beam_size: int = 5
    languages: str = "kk,ru"  # the set a passage's language is chosen from
    # Passages clearly in one of these (outside the set) are recognised in it ("transcribe")
    # or left without text and labelled `other` ("mark"); empty: never.
    third_languages: str = ",".join(DEFAULT_THIRD_LANGUAGES)
    third_language_action: Literal["transcribe", "mark"] = "transcribe"

    # Yandex SpeechKit (cloud engine)
    yandex_api_key: str | None = Field(default=None, repr=False)
    yandex_iam_token: str | None = Field(default=None, repr=False)
    yandex_folder_id: str | None = None
    yandex_stt_url: str = "https://stt.api.cloud.yandex.net"
    yandex_operation_url: str = "https://operation.api.cloud.yandex.net"
    yandex_fallback: bool = True
    yandex_max_attempts: int = 5
    yandex_retry_base_s: float = 0.5
    yandex_poll_initial_s: float = 1.0

    # Service limits
    max_upload_mb: int = 2048
    max_duration_s: float = 4 * 3600.0
    sync_max_duration_s: float = 600.0  # OpenAI-compatible synchronous endpoint
    job_max_attempts: int = 3
    heartbeat_stale_s: float = 120.0
    sweep_interval_s: float = 30.0
    sync_max_concurrent: int = 4  # synchronous OpenAI calls waiting at once (more: 503)
    max_json_kb: int = 256  # JSON and form bodies other than uploads
    max_inflight_requests: int = 128  # beyond this the API sheds load with 503
    api_threads: int = 40  # threads serving sync routes; the database pool matches it
    sse_max_per_user: int = 10
    sse_max_total: int = 500
    sse_max_lifetime_s: float = 3600.0

    # Accounts and access
    single_user: bool = False  # no accounts: every request acts as one local admin
    registration: bool = False  # may people create their own accounts?
    public_readyz: bool = True
    public_metrics: bool = False  # else an admin key is needed
    public_docs: bool = True
    session_hours: float = 12.0
    allowed_hosts: str = "*"  # Host header values served (comma-separated, *.domain allowed)
    cors_origins: str = ""  # empty: CORS off
    trust_proxy_headers: bool = False  # take the client address from X-Forwarded-For

    # Quotas (per user; an admin may set a user's own in the database)
    quota_active_jobs: int = 5
    quota_monthly_minutes: float = 6000.0

    # Rate limits (the `limits` library; memory:// per process, redis://... shared)
    rate_limit_storage: str = "memory://"
    rate_limit_per_key: str = "600/minute"
    rate_limit_per_address: str = "1200/minute"
    rate_limit_uploads: str = "60/minute"
    rate_limit_login: str = "10/minute"

    # Retention: original audio after the job ends, transcripts after creation
    retention_audio_hours: float = 24.0
    retention_days: float = 30.0
    retention_interval_s: float = 300.0

    # Webhooks
    webhook_secret: str | None = Field(default=None, repr=False)  # None: generated, stored
    webhook_allow_private: bool = False  # deliver to loopback/private addresses (tests, LANs)
    webhook_allow_hosts: str = ""  # if set, only these hosts (comma-separated)
    webhook_timeout_s: float = 10.0  # total per delivery attempt, reply included
    webhook_max_attempts: int = 6

    @property
    def language_set(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    @property
    def third_language_set(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.third_languages.split(",") if code.strip())

    @field_validator("webhook_secret")
    @classmethod
    def _real_secret(cls, value: str | None) -> str | None:
        # A guessable signing key makes every signature worthless: refuse it at start.
        if value is not None and (value.strip().lower() in _PLACEHOLDER_SECRETS or len(value) < 16):
            raise ValueError(
                "KAZRU_WEBHOOK_SECRET must be a random string of at least 16 characters "
                "(or unset: one is then generated and stored once per install)"
            )
        return value

    @property
    def allowed_host_list(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or (self.data_dir / "models")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'kazru.db'}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'queue.db'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or str(self.data_dir / "storage")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
