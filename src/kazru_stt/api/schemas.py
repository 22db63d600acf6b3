"""Response shapes (Pydantic), so OpenAPI documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kazru_stt.db.models import Job
from kazru_stt.services.jobs import transcript_of


class ErrorInfo(BaseModel):
    code: str
    message: str | None = None


class JobOut(BaseModel):
    id: str
    status: str
    progress: int
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
    result: dict[str, Any] | None = None

    @classmethod
    def of(cls, job: Job, *, with_result: bool = False) -> JobOut:
        result = None
        if with_result and job.status == "completed":
            result = transcript_of(job).to_dict()
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
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
            result=result,
        )


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class SegmentEdit(BaseModel):
    text: str


class SpeakerEdit(BaseModel):
    name: str | None = None
