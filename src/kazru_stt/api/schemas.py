"""Response shapes (Pydantic), so OpenAPI documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from kazru_stt.db.models import Job
from kazru_stt.domain.job_status import stage_of
from kazru_stt.domain.text_safety import unsafe_character
from kazru_stt.domain.transcript import Transcript
from kazru_stt.services.corrections import MAX_FIND, MAX_SEGMENT_TEXT


class InputModel(BaseModel):
    """A request body: a control character (a NUL among them) or a bidirectional control
    in any of its strings is refused with 422, before anything is stored."""

    @model_validator(mode="before")
    @classmethod
    def _no_unsafe_characters(cls, data: Any) -> Any:
        if (found := unsafe_character(data)) is not None:
            raise ValueError(f"text with the character {found} is not accepted")
        return data


class ErrorInfo(BaseModel):
    code: str
    message: str | None = None


class WebhookInfo(BaseModel):
    state: str | None = None  # pending, sending, delivered, failed
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


class JobOut(BaseModel):
    id: str
    status: str
    progress: int
    stage: str = Field(
        "queued",
        description="queued, recognition, diarization (also when speakers are found again "
        "on a completed transcription) or done",
    )
    queue_position: int | None = Field(
        None, description="Queued: its place in the queue (1: next to be taken)."
    )
    estimated_wait_s: float | None = Field(
        None,
        description="Queued: about how long until a worker takes it (from the audio ahead "
        "and the workers' recent speed; null without either).",
    )
    stages_run: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The stages run so far, each with the worker that ran it "
        '(`[{"stage": "recognition", "worker": "host:pid"}, {"stage": "diarization", ...}]`).',
    )
    error: ErrorInfo | None = None
    filename: str
    size_bytes: int
    duration: float | None = None
    language: str
    engine: str
    options: dict[str, Any]
    attempts: int
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    expires_at: datetime | None = None
    audio_deleted_at: datetime | None = None
    webhook: WebhookInfo | None = None
    reviewed_at: datetime | None = None
    evaluation_consent: bool = False
    workspace_id: int | None = Field(None, description="the workspace it is filed in")
    tags: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None

    @classmethod
    def of(
        cls,
        job: Job,
        transcript: Transcript | None = None,
        queue_position: int | None = None,
        estimated_wait_s: float | None = None,
        tags: list[str] | None = None,
    ) -> JobOut:
        webhook = None
        if job.webhook_url or job.webhook_state:
            webhook = WebhookInfo(
                state=job.webhook_state,
                attempts=job.webhook_attempts or 0,
                last_error=job.webhook_error,
                delivered_at=job.webhook_delivered_at,
            )
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
            stage=stage_of(job.status, job.stage),
            queue_position=queue_position,
            estimated_wait_s=estimated_wait_s,
            stages_run=(job.result_meta or {}).get("stages", []),
            error=ErrorInfo(code=job.error_code, message=job.error_message)
            if job.error_code
            else None,
            filename=job.filename,
            size_bytes=job.size_bytes,
            duration=job.duration_s,
            language=job.language,
            engine=job.engine,
            options=job.options or {},
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            expires_at=job.expires_at,
            audio_deleted_at=job.audio_deleted_at,
            webhook=webhook,
            reviewed_at=job.reviewed_at,
            evaluation_consent=bool(job.eval_consent),
            workspace_id=job.workspace_id,
            tags=tags or [],
            result=transcript.to_dict() if transcript is not None else None,
        )


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class JobFiling(InputModel):
    """Where a job is filed and how it is labelled; only the fields given change."""

    workspace_id: int | None = Field(
        None, ge=1, description="the workspace to file it in; null: in none"
    )
    tags: list[str] | None = Field(None, max_length=100, description="replaces its tags")


class SegmentEdit(InputModel):
    """Only the fields given change; `speaker: null` takes the speaker off the segment."""

    text: str | None = Field(None, max_length=MAX_SEGMENT_TEXT)
    language: str | None = Field(None, min_length=2, max_length=8, pattern=r"^[a-z]{2,3}$")
    speaker: str | None = Field(None, min_length=1, max_length=32)


class TextReplace(InputModel):
    find: str = Field(min_length=1, max_length=MAX_FIND)
    replace: str = Field("", max_length=MAX_FIND)
    match_case: bool = False


class SpeakerCount(InputModel):
    """How many speakers to find: exactly `num_speakers`, or between the bounds given; none
    of them: the count the recording suggests."""

    num_speakers: int | None = Field(None, ge=1, le=32)
    min_speakers: int | None = Field(None, ge=1, le=32)
    max_speakers: int | None = Field(None, ge=1, le=32)


class SegmentSplit(InputModel):
    at: int = Field(ge=1, le=MAX_SEGMENT_TEXT, description="character offset in the text")


class ConsentChange(InputModel):
    evaluation: bool = Field(description="allow admins to export it as evaluation data")


class SpeakerEdit(InputModel):
    name: str | None = Field(None, max_length=100)
