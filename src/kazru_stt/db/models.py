"""Tables. Changing one means adding an Alembic migration under db/migrations/versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from kazru_stt.domain.engine_names import EngineName
from kazru_stt.domain.job_status import JobStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend: SQLite stores them naive and would hand back
    times without their zone (`...T10:00:00` instead of `...T10:00:00Z`)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, _dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, _dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


RoleName = Literal["admin", "user"]


class Role:
    ADMIN = "admin"
    USER = "user"
    ALL = get_args(RoleName)


class User(Base):
    __tablename__ = "users"
    # An erased account's id is never given to the next one (its audit entries, its
    # webhook secret): PostgreSQL's sequence never reuses, SQLite needs AUTOINCREMENT.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    locale: Mapped[str | None] = mapped_column(String(8))  # the web interface's language
    # Where its clocks are (an IANA zone): documents and pages show times there. None: the
    # install's KAZRU_TIMEZONE; the browser's zone is taken at the first sign-in.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Per-user quotas; None: the install's default from settings.
    quota_active_jobs: Mapped[int | None] = mapped_column(Integer)
    quota_monthly_minutes: Mapped[float | None] = mapped_column(Float)
    # Voice memory (biometric data): off until the user turns it on.
    remember_voices: Mapped[bool] = mapped_column(Boolean, default=False)
    # Random, per account: its derived secrets (webhooks) differ from any other account's,
    # even one that had the same id. None: an account from before (id-derived secrets).
    secret_salt: Mapped[str | None] = mapped_column(String(32))
    # Terms its transcripts should spell as it does (domain.vocabulary); None: none.
    vocabulary: Mapped[list[str] | None] = mapped_column(JSON)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class ShareLink(Base):
    """A read-only link to one transcript: whoever holds its token reads it without an
    account, until it expires or is revoked. Only the token's hash is kept."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    with_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    views: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column()


class Workspace(Base):
    """A shared place for transcripts: its members see its jobs as their role allows
    (domain/workspace_roles). A job stays its uploader's; the workspace is where it is filed."""

    __tablename__ = "workspaces"
    __table_args__ = {"sqlite_autoincrement": True}  # a deleted one's id is never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Audio minutes per calendar month for jobs filed here; None: no limit of its own.
    quota_monthly_minutes: Mapped[float | None] = mapped_column(Float)


class WorkspaceMember(Base):
    __tablename__ = "workspace_members"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by: Mapped[int | None] = mapped_column(Integer)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_sha256_recipe", "sha256", "recipe"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True, default=JobStatus.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    # Set while a stage runs on a completed job (domain/job_status.stage_of); else None.
    stage: Mapped[str | None] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16), default=EngineName.LOCAL)
    language: Mapped[str] = mapped_column(String(8), default="auto")
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # What made its text (services/reuse.recipe): the same audio and recipe is reused.
    recipe: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[float | None] = mapped_column(Float)
    storage_key: Mapped[str | None] = mapped_column(String(255))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))  # of the upload: logs follow it
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    result_meta: Mapped[dict[str, Any] | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    enqueued_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # the transcript's end of life
    audio_deleted_at: Mapped[datetime | None] = mapped_column()
    # Webhook delivery: a queue of its own, served apart from transcription.
    webhook_state: Mapped[str | None] = mapped_column(String(16), index=True)
    webhook_attempts: Mapped[int] = mapped_column(Integer, default=0)
    webhook_next_at: Mapped[datetime | None] = mapped_column()
    webhook_error: Mapped[str | None] = mapped_column(String(255))
    webhook_delivered_at: Mapped[datetime | None] = mapped_column()
    # A person checked the transcript: its corrections measure the engine (accuracy).
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    # The owner allows admins to export the reviewed transcript as evaluation data.
    eval_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    segments: Mapped[list[SegmentRow]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        order_by="SegmentRow.idx",
        passive_deletes=True,
    )
    speakers: Mapped[list[SpeakerRow]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        order_by="SpeakerRow.id",
        passive_deletes=True,
    )


class JobTag(Base):
    """A label on a job (a case number, a story), as its owner or a workspace's editor
    wrote it; `folded` is what filters match (case- and ё/е-folded)."""

    __tablename__ = "job_tags"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    folded: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    tag: Mapped[str] = mapped_column(String(64))


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("job_id", "idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(8))
    speaker: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[dict[str, Any] | None] = mapped_column()  # {"words": [...]}
    avg_logprob: Mapped[float | None] = mapped_column(Float)
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    low_confidence: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the engine wrote, never overwritten by edits: {"engine", "model", "parts": [{start,
    # end, text, language, words}]} (several parts once segments were merged). None on rows
    # from before it was kept: there the current text is the machine's until edited.
    machine: Mapped[dict[str, Any] | None] = mapped_column()

    job: Mapped[Job] = relationship(back_populates="segments")


class SpeakerRow(Base):
    __tablename__ = "speakers"
    __table_args__ = (UniqueConstraint("job_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(100))
    # Only for owners with voice memory on: the speaker's voice (a list of floats), and the
    # name of a remembered voice it matches.
    voice: Mapped[list[float] | None] = mapped_column(JSON)
    suggested_name: Mapped[str | None] = mapped_column(String(100))

    job: Mapped[Job] = relationship(back_populates="speakers")


class VoiceRow(Base):
    """A voice a user named: the average of the speakers given that name. Owned by the
    user, never shared, deleted with the account or on request."""

    __tablename__ = "voices"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    embedding: Mapped[list[float]] = mapped_column(JSON)
    samples: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AudioUsage(Base):
    """The audio minutes a user was charged for, one row per accepted recording: a ledger
    that deleting a job does not change (the month's quota is the sum of its rows)."""

    __tablename__ = "audio_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str | None] = mapped_column(String(36))
    # The workspace the job was filed in when uploaded: its own monthly quota counts these.
    workspace_id: Mapped[int | None] = mapped_column(Integer, index=True)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TranscriptEdit(Base):
    """One correction of a transcript: the segments it replaced (`before`, full rows) and
    the ones it put there (`after`), starting at `first_idx`. Undo puts `before` back;
    redo puts `after` back; a new edit forgets what was undone."""

    __tablename__ = "transcript_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(16))
    first_idx: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict[str, Any]] = mapped_column()  # {"segments": [...]}
    after: Mapped[dict[str, Any]] = mapped_column()
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewScore(Base):
    """Error counts of one reviewed transcript per language, engine and model: numbers
    only, no text, so they may outlive the transcript's retention."""

    __tablename__ = "review_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    reviewed_at: Mapped[datetime] = mapped_column(index=True)
    language: Mapped[str] = mapped_column(String(8))  # the corrected language
    engine: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(200))
    seconds: Mapped[float] = mapped_column(Float)
    segments: Mapped[int] = mapped_column(Integer)
    word_errors: Mapped[int] = mapped_column(Integer)
    ref_words: Mapped[int] = mapped_column(Integer)
    char_errors: Mapped[int] = mapped_column(Integer)
    ref_chars: Mapped[int] = mapped_column(Integer)
    language_right_s: Mapped[float] = mapped_column(Float)  # seconds the machine labelled right


class WebSession(Base):
    """A browser session: the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class AuditEntry(Base):
    """Who did what, when, from where; never transcript text. `actor_id` is no foreign key
    so that the trail outlives an erased account (which keeps no other trace of it)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column()


class TranscriptVersion(Base):
    """A job's transcript as it was (corrections included) before it was recognised again
    with another engine, model or language (services/versions): readable, never changed."""

    __tablename__ = "transcript_versions"
    __table_args__ = (UniqueConstraint("job_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column()
    transcript: Mapped[dict[str, Any]] = mapped_column()


class RuntimeSetting(Base):
    """A setting an administrator changed while the service runs (services/runtime_settings),
    as the environment would spell it. Its history is in the audit log."""

    __tablename__ = "runtime_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(Integer)


class InstanceSecret(Base):
    """Secrets generated once per install and shared by every process (webhook signing)."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class WorkerRow(Base):
    """A worker process that beats while it lives (idle or busy): metrics count live ones."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    models: Mapped[list[str] | None] = mapped_column(JSON)  # loaded at its last beat
    stages: Mapped[str | None] = mapped_column(String(32))  # `kazru worker --stages`
