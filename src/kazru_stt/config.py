"""One settings object, read from the environment (prefix KAZRU_) and validated at start."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "kazru-stt"


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
    retention_days: int = 30
    webhook_secret: str = Field(default="change-me", repr=False)
    max_page_size: int = 100

    @property
    def language_set(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

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
