"""Webhooks: POST the job summary to the job's URL, signed with HMAC-SHA256.

Header `X-Kazru-Signature: sha256=<hex of HMAC(secret, body)>`, plus `X-Kazru-Event`.
Retries with backoff are the task layer's job (a raised error means "try again").
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from kazru_stt.db.models import Job
from kazru_stt.db.session import session_scope
from kazru_stt.services.context import ServiceContext


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def summary(job: Job) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "filename": job.filename,
        "duration": job.duration_s,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def deliver(ctx: ServiceContext, job_id: str) -> bool:
    with session_scope(ctx.db_url) as db:
        job = db.get(Job, job_id)
        if job is None or not job.webhook_url:
            return False
        url, body = job.webhook_url, json.dumps(summary(job), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Kazru-Event": "transcription.finished",
        "X-Kazru-Signature": sign(ctx.settings.webhook_secret, body),
    }
    response = httpx.post(url, content=body, headers=headers, timeout=10.0)
    response.raise_for_status()
    return True
