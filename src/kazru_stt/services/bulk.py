"""Many jobs at once: one zip of their transcripts, or their deletion. Every job is checked
through job_access before anything is done (one the caller may not see or act on fails the
whole request: nothing is half done)."""

from __future__ import annotations

import io
import json
import zipfile

from kazru_stt.db.models import Job
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.job_status import JobStatus
from kazru_stt.domain.workspace_roles import JobAction
from kazru_stt.exporters.paper import A4, Paper
from kazru_stt.exporters.redaction import Redactions
from kazru_stt.exporters.registry import ExportFormat
from kazru_stt.services import accounts, job_export
from kazru_stt.services import jobs as job_service
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.job_access import load_job

MAX_JOBS = 100  # a page of the list; more is a job for the API in a loop


def checked(
    ctx: ServiceContext, caller: Caller, job_ids: list[str], action: JobAction
) -> list[Job]:
    ids = list(dict.fromkeys(job_ids))  # each once, in the order given
    if not ids:
        raise InvalidOptionError("choose at least one transcription")
    if len(ids) > MAX_JOBS:
        raise InvalidOptionError(
            f"at most {MAX_JOBS} transcriptions at once", code=ErrorCode.TOO_MANY_ITEMS
        )
    return [load_job(ctx, caller, job_id, action) for job_id in ids]


def export_zip(
    ctx: ServiceContext,
    caller: Caller,
    job_ids: list[str],
    fmt: ExportFormat,
    *,
    lang: str | None,
    redact: bool,
    address: str | None,
    paper: Paper = A4,
) -> tuple[bytes, dict]:
    """A zip with one file per completed transcript (names made unique) and `skipped.json`
    naming the ones not completed; and what it holds."""
    jobs = checked(ctx, caller, job_ids, JobAction.READ)
    zone = accounts.zone_of(ctx, caller.user_id)
    buffer = io.BytesIO()
    names: set[str] = set()
    skipped = []
    exported = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for job in jobs:
            if job.status != JobStatus.COMPLETED:
                skipped.append({"id": job.id, "filename": job.filename, "status": job.status})
                continue
            transcript = job_service.load_transcript(ctx, job)
            redactions = Redactions() if redact else None
            data = job_export.render(
                ctx, job, transcript, fmt, lang=lang, zone=zone, redactions=redactions, paper=paper
            )
            name = _unique(job_export.download_name(job.filename, fmt.extension), names)
            archive.writestr(name, data)
            job_service.record_export(ctx, caller, job, fmt.extension, address, redactions)
            exported += 1
        if skipped:
            archive.writestr("skipped.json", json.dumps(skipped, ensure_ascii=False, indent=1))
    return buffer.getvalue(), {"exported": exported, "skipped": len(skipped)}


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}"
    taken.add(candidate.lower())
    return candidate


def delete_many(
    ctx: ServiceContext, caller: Caller, job_ids: list[str], address: str | None
) -> int:
    """Each job as `DELETE /transcriptions/{id}` would: its file, rows and index entries."""
    jobs = checked(ctx, caller, job_ids, JobAction.MANAGE)
    for job in jobs:
        job_service.delete_job(ctx, caller, job, address)
    return len(jobs)
