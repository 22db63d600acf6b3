"""One settings object, read from the environment (prefix KAZRU_) and validated at start."""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kazru_stt.domain.channels import StereoMode
from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.languages import DEFAULT_THIRD_LANGUAGES


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "kazru-stt"


_PLACEHOLDER_SECRETS = {"change-me", "changeme", "secret", "password", "test"}


class Settings(BaseSettings):
    """Every setting of the service. docs/configuration.md is generated from this class
    (`kazru config docs`) and a test keeps the two equal."""

    model_config = SettingsConfigDict(env_prefix="KAZRU_", extra="ignore")

    # -- Where things live
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Everything of the embedded mode lives here: database, queue, uploads, "
        "the assembled model. Default: `$XDG_DATA_HOME/kazru-stt` (`~/.local/share/kazru-stt`).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. `postgresql://user:pass@host/db`. Unset: a SQLite "
        "file in the data directory (one machine only).",
    )
    broker_url: str | None = Field(
        None,
        description="The job queue, e.g. `redis://host:6379/0`. Unset: an embedded queue in a "
        "SQLite file of the data directory (one machine only).",
    )
    storage_url: str | None = Field(
        None,
        description="Where uploaded originals are kept: a directory, or `s3://bucket/prefix` "
        "for S3-compatible storage. Unset: `storage/` in the data directory.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint for non-AWS servers (SeaweedFS, MinIO, Ceph...)."
    )
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(
        None,
        repr=False,
        description="S3 access key id. Unset (with the secret): AWS's standard chain "
        "(`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, instance or pod roles).",
    )
    s3_secret_access_key: str | None = Field(None, repr=False, description="S3 secret access key.")
    s3_cache_dir: Path | None = Field(
        None,
        description="Workers copy an S3 object here for the length of its job. Default: "
        "`cache/` in the data directory.",
    )

    # -- Recognition
    engine: str = Field(
        EngineName.LOCAL, description="Default engine when a job names none (`local`, `yandex`)."
    )
    model_path: Path | None = Field(
        None,
        description="A CTranslate2 Whisper model directory. Unset: the bundled Whisper base.",
    )
    models: str = Field(
        "",
        description="More local models by name: `name=/path/to/ct2-model,other=bundled` "
        "(plus those `kazru model import` adds). Jobs choose one with `model`.",
    )
    default_model: str | None = Field(
        None,
        description="The model of jobs that name none. Unset: the model of KAZRU_MODEL_PATH, "
        "else the bundled `whisper-base`.",
    )
    language_models: str = Field(
        "",
        description="Per language, the model that writes its passages in jobs that name no "
        "model: `kk=kk-turbo,ru=whisper-base`. The language of each passage is still chosen "
        "with the default model; where a language's model decodes a passage only as a loop "
        "or below Whisper's gate, the default's text stays. Over what `kazru model pull --for` "
        "set.",
    )
    model_cache_dir: Path | None = Field(
        None,
        description="Where the bundled model is assembled and imported models are kept "
        "(`imported/`). Default: `models/` in the data directory.",
    )
    model_idle_s: float = Field(
        1800.0,
        description="A worker unloads a model unused this long (its memory goes back to the "
        "system) and loads it again for the next job; 0: never.",
    )
    allocator: Literal["auto", "jemalloc", "system"] = Field(
        "auto",
        description="The malloc a worker runs on. `auto`: jemalloc when the system has it "
        "(Debian's `libjemalloc2`; the worker restarts itself with it preloaded), else the C "
        "library's; `jemalloc`: fail without it. On a 2-hour recording jemalloc kept the "
        "peak at 1.05x a 15-minute one's (glibc: 1.22-1.25x) and decoded 14-17% faster.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where Whisper runs.")
    compute_type: str = Field(
        "default", description="CTranslate2 compute type; `default`: int8 on CPU, float16 on GPU."
    )
    cpu_threads: int = Field(
        0,
        description="CPU threads per worker; 0: the cores, up to 4. Batched on a CPU, as "
        "many single-threaded model workers, each decoding its share of a batch, and a "
        "second copy of the model with every thread for a window alone.",
    )
    beam_size: int = Field(5, description="Beam size of the final decode.")
    batch_size: int = Field(
        8,
        ge=1,
        le=64,
        description="Windows of 30 s the local engine decodes at once (batched decoding, "
        "with the rest of any window whose decode stopped early decoded again); 1: one "
        "window after another.",
    )
    languages: str = Field(
        "kk,ru", description="The languages a passage's language is chosen from (comma-separated)."
    )
    diarize_by_default: bool = Field(
        False,
        description="Speakers are found in jobs that do not say whether to (the web page's "
        "box starts ticked).",
    )
    third_languages: str = Field(
        ",".join(DEFAULT_THIRD_LANGUAGES),
        description="Languages outside that set a passage may still be in: one over 2.5 s that "
        "Whisper's detector gives at least even odds; empty: never.",
    )
    stereo_calls: StereoMode = Field(
        "auto",
        description="A stereo recording with one party per channel (a recorded call) is "
        "transcribed channel by channel, the channel being the speaker. `auto`: when the "
        "audio shows it (one channel far louder than the other at nearly every moment of "
        "speech, each leading for a tenth of it or at least a second: a party may say little); "
        "`split`: every stereo recording; `mix`: never.",
    )
    third_language_action: Literal["transcribe", "mark"] = Field(
        "transcribe",
        description="`transcribe`: such a passage is written in its language; `mark`: left "
        "without text and labelled `other`.",
    )

    # -- Yandex SpeechKit (cloud engine)
    yandex_api_key: str | None = Field(None, repr=False, description="Yandex Cloud API key.")
    yandex_iam_token: str | None = Field(
        None, repr=False, description="Yandex Cloud IAM token (instead of an API key)."
    )
    yandex_folder_id: str | None = Field(None, description="Yandex Cloud folder id.")
    yandex_stt_url: str = Field(
        "https://stt.api.cloud.yandex.net", description="SpeechKit recognition endpoint."
    )
    yandex_operation_url: str = Field(
        "https://operation.api.cloud.yandex.net", description="Yandex operations endpoint."
    )
    yandex_fallback: bool = Field(
        True, description="When Yandex fails for good, transcribe locally instead."
    )
    yandex_max_attempts: int = Field(5, description="Attempts per Yandex call.")
    yandex_retry_base_s: float = Field(0.5, description="First retry delay (doubles each time).")
    yandex_poll_initial_s: float = Field(1.0, description="First wait before polling a result.")

    # -- Service limits
    max_upload_mb: int = Field(2048, description="Largest upload.")
    upload_idle_timeout_s: float = Field(
        30.0, description="An upload that sends nothing this long is ended (408)."
    )
    upload_threads: int = Field(
        16, description="Threads writing uploads to storage, apart from those serving routes."
    )
    max_duration_s: float = Field(4 * 3600.0, description="Longest recording accepted.")
    sync_max_duration_s: float = Field(
        600.0, description="Longest recording for the OpenAI-compatible synchronous endpoint."
    )
    job_max_attempts: int = Field(3, description="Attempts per job before it fails.")
    heartbeat_stale_s: float = Field(
        120.0, description="A running job whose worker is silent this long is re-queued."
    )
    sweep_interval_s: float = Field(30.0, description="How often workers run the recovery sweep.")
    sync_max_concurrent: int = Field(
        4, description="Synchronous OpenAI calls waiting at once (more: 503)."
    )
    stages_apart: bool = Field(
        False,
        description="Recognition and diarization run as stages of their own, each on its own "
        "queue (`kazru worker --stages asr|diarization|all`): a diarized job's text can be "
        "read and exported as soon as it is recognised (`stage` is `diarization` until its "
        "speakers arrive; the webhook is sent then), and a diarization worker never loads "
        "Whisper. Every process of an install must agree.",
    )
    reuse_transcripts: bool = Field(
        True,
        description="The same recording uploaded again by its owner (or into the same "
        "workspace) with the same engine, models and options is completed from the first "
        "one's machine transcript instead of being recognised again.",
    )

    # -- Live transcription (WebSocket /v1/realtime)
    live_max_sessions: int = Field(
        2,
        description="Live sessions at once per API process (more: `live_sessions_full`); "
        "0 turns live transcription off.",
    )
    live_processes: int = Field(
        1,
        description="Processes that recognise live sessions, each with its own model, "
        "apart from the batch workers.",
    )
    live_idle_s: float = Field(
        60.0, description="A live session that sends no audio this long is ended and saved."
    )
    live_max_session_s: float = Field(
        4 * 3600.0, description="Longest live session; it is ended and saved then."
    )
    live_burst_s: float = Field(
        10.0,
        description="Audio a live client may send ahead of real time before it is "
        "slowed to real time (a reconnecting client catches up within this).",
    )
    max_json_kb: int = Field(256, description="Largest JSON or form body other than uploads.")
    max_inflight_requests: int = Field(
        128, description="Beyond this many requests in flight the API sheds load with 503."
    )
    api_threads: int = Field(
        40, description="Threads serving sync routes; the database pool matches it."
    )
    sse_max_per_user: int = Field(10, description="Open event streams per user.")
    sse_max_total: int = Field(500, description="Open event streams per API process.")
    sse_max_lifetime_s: float = Field(3600.0, description="Longest life of an event stream.")

    # -- Accounts and access
    single_user: bool = Field(
        False,
        description="No accounts: every request acts as one local admin (served on "
        "127.0.0.1 only).",
    )
    registration: bool = Field(False, description="May people create their own accounts?")
    workspaces_self_service: bool = Field(
        False,
        description="May any user create a workspace (and manage it)? Otherwise only admins "
        "create them.",
    )
    public_readyz: bool = Field(True, description="`/readyz` without a key.")
    public_metrics: bool = Field(False, description="`/metrics` without an admin key.")
    public_docs: bool = Field(True, description="API documentation pages without a key.")
    session_hours: float = Field(12.0, description="Life of a browser session.")
    allowed_hosts: str = Field(
        "*",
        description="Host header values served (comma-separated, `*.domain` allowed).",
    )
    cors_origins: str = Field("", description="Origins allowed by CORS; empty: CORS off.")
    trust_proxy_headers: bool = Field(
        False,
        description="Behind a proxy on this machine: as `KAZRU_TRUSTED_PROXIES` of loopback.",
    )
    trusted_proxies: str = Field(
        "",
        description="Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; the client is the rightmost hop that is not one of "
        "them (what the client writes itself is ignored). Empty: no proxy is believed.",
    )

    # -- Quotas (per user; an admin may set a user's own in the database)
    quota_active_jobs: int = Field(5, ge=0, description="Queued or running jobs per user.")
    quota_monthly_minutes: float = Field(
        6000.0, ge=0, description="Audio minutes per user and month."
    )

    # -- Rate limits (`memory://` counts per process, `redis://...` across replicas)
    rate_limit_storage: str = Field("memory://", description="Where rate limits are counted.")
    rate_limit_per_key: str = Field("600/minute", description="Requests per API key.")
    rate_limit_per_address: str = Field("1200/minute", description="Requests per address.")
    rate_limit_uploads: str = Field("60/minute", description="Uploads per user.")
    rate_limit_login: str = Field("10/minute", description="Sign-in attempts per address.")

    # -- Documents
    timezone: str = Field(
        "Asia/Almaty",
        description="The time zone documents (DOCX) give their times in, with the zone named "
        "(an IANA name: Asia/Almaty, Asia/Aqtobe, Europe/Moscow, UTC).",
    )

    # -- Retention
    retention_audio_hours: float = Field(
        24.0, ge=0, description="Original audio is deleted this long after its job ends."
    )
    retention_days: float = Field(30.0, ge=0, description="Transcripts are deleted after this.")
    retention_interval_s: float = Field(300.0, description="How often retention runs.")

    # -- Webhooks
    webhook_secret: str | None = Field(
        None,
        repr=False,
        description="Signing key of webhook deliveries (16+ random characters). Unset: one is "
        "generated once and kept in the database.",
    )
    webhook_allow_private: bool = Field(
        False, description="Deliver to loopback and private addresses (tests, LANs)."
    )
    webhook_allow_hosts: str = Field("", description="If set, only these hosts (comma-separated).")
    webhook_timeout_s: float = Field(
        10.0, description="Total time per delivery attempt, reply included."
    )
    webhook_max_attempts: int = Field(6, description="Delivery attempts per event.")

    # -- Observability
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Least severe log level written."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        "auto",
        description="`json`: one JSON object a line; `text`: for people; `auto`: text on a "
        "terminal, else JSON.",
    )
    metrics_port: int = Field(
        0,
        description="A worker started alone (`kazru worker`) serves its Prometheus metrics on "
        "this port; 0: none. Embedded workers report through the API's `/metrics`.",
    )

    @property
    def language_set(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    @property
    def language_model_map(self) -> dict[str, str]:
        """KAZRU_LANGUAGE_MODELS as {language: model name}; malformed items raise ValueError."""
        out = {}
        for item in self.language_models.split(","):
            if not item.strip():
                continue
            code, sep, name = (part.strip() for part in item.partition("="))
            if not sep or not code or not name:
                raise ValueError(f"KAZRU_LANGUAGE_MODELS: {item.strip()!r} is not language=model")
            out[code] = name
        return out

    @property
    def third_language_set(self) -> tuple[str, ...]:
        return tuple(code.strip() for code in self.third_languages.split(",") if code.strip())

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for item in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is no address or CIDR") from exc
        return value

    @field_validator(
        "rate_limit_per_key", "rate_limit_per_address", "rate_limit_uploads", "rate_limit_login"
    )
    @classmethod
    def _a_rate(cls, value: str) -> str:
        from limits import parse  # noqa: PLC0415  (the API's library; only for its syntax)

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is no rate (such as 600/minute)") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is no IANA time zone (such as Asia/Almaty)") from exc
        return value

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

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        # Refuse at start what would fail later, far from its cause.
        if self.is_sqlite and self.is_shared:
            raise ValueError(
                "a SQLite database cannot be shared between machines, but the queue or the "
                "storage is a network service (KAZRU_BROKER_URL / KAZRU_STORAGE_URL): set "
                "KAZRU_DATABASE_URL to PostgreSQL"
            )
        if self.resolved_storage_url.startswith("s3://"):
            if not self.resolved_storage_url.removeprefix("s3://").split("/")[0]:
                raise ValueError("KAZRU_STORAGE_URL names no bucket: use s3://bucket/prefix")
            # Neither: boto3's own chain (AWS_* variables, profiles, instance and
            # Kubernetes service-account roles). One without the other is a mistake.
            if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
                raise ValueError(
                    "set both KAZRU_S3_ACCESS_KEY_ID and KAZRU_S3_SECRET_ACCESS_KEY, or "
                    "neither (then AWS's standard credential chain is used)"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def is_shared(self) -> bool:
        """Queue or storage reachable from other machines (the scaled-out topology)."""
        broker_shared = not self.resolved_broker_url.startswith("sqla+")
        return broker_shared or self.resolved_storage_url.startswith("s3://")

    @property
    def resolved_s3_cache_dir(self) -> Path:
        return self.s3_cache_dir or (self.data_dir / "cache")

    @property
    def trusted_proxy_list(self) -> list[str]:
        listed = [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]
        if not listed and self.trust_proxy_headers:
            return ["127.0.0.0/8", "::1/128"]
        return listed

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
