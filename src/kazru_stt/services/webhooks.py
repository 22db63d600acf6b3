"""Webhooks: when a job with a `webhook_url` ends, its summary is POSTed there, signed.

Headers: `X-Kazru-Event`, `X-Kazru-Timestamp` (Unix seconds) and `X-Kazru-Signature:
sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<body>")>`; the secret is the owner's (see
`GET /api/v1/me`). A receiver should refuse timestamps older than a few minutes (replays).

Deliveries are a queue of their own: the job row carries the delivery state
(`webhook_state`: pending -> sending -> delivered | failed), and a dispatcher thread in each
worker process claims due deliveries with a conditional UPDATE and sends them concurrently,
each under one total deadline. A slow or hostile receiver costs only its own delivery, never
a transcription. Failed attempts are retried with exponential backoff and jitter.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy import and_, or_, select, update

from kazru_stt import request_ids
from kazru_stt.db.models import Job, utcnow
from kazru_stt.db.session import log_step_failure, rows_changed, session_scope
from kazru_stt.domain.errors import KazruError
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.secrets import webhook_secret
from kazru_stt.services.webhook_targets import redact, resolve

log = logging.getLogger(__name__)


class DeliveryState:
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


BATCH = 16
# Deliveries are looked for every POLL_S while there are some, backing off to MAX_POLL_S
# when there are none (an idle worker's cost: code run after a pause runs cold, tens of ms
# of CPU a look on a small VM); a job finished in this process wakes the loop at once, and
# a failed delivery (retried after BACKOFF_BASE_S or more) brings the pause back to POLL_S.
POLL_S = 1.0
MAX_POLL_S = 15.0
_wake = threading.Event()
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 600.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def summary(job: Job) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "filename": job.filename,
        "duration": job.duration_s,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def schedule(ctx: ServiceContext, job_id: str) -> None:
    """Queue the delivery of a finished job's webhook (no-op without a URL)."""
    with session_scope(ctx.db_url) as db:
        db.execute(
            update(Job)
            .where(Job.id == job_id, Job.webhook_url.is_not(None))
            .values(
                webhook_state=DeliveryState.PENDING,
                webhook_attempts=0,
                webhook_next_at=utcnow(),
                webhook_error=None,
            )
        )
    _wake.set()


def schedule_safely(ctx: ServiceContext, job_id: str) -> None:
    """`schedule`, where the job's own result is stored already: a lost webhook (logged)
    must not undo it."""
    try:
        schedule(ctx, job_id)
    except Exception:
        log.exception("could not schedule the webhook of job %s", job_id)


def _claim_due(ctx: ServiceContext) -> list[str]:
    """Take due deliveries; a `sending` one whose process died is taken again later."""
    now = utcnow()
    lease = timedelta(seconds=ctx.settings.webhook_timeout_s + 60)
    due = or_(
        and_(Job.webhook_state == DeliveryState.PENDING, Job.webhook_next_at <= now),
        and_(Job.webhook_state == DeliveryState.SENDING, Job.webhook_next_at <= now - lease),
    )
    claimed = []
    with session_scope(ctx.db_url) as db:
        rows = db.execute(select(Job.id, Job.webhook_next_at).where(due).limit(BATCH)).all()
        for job_id, next_at in rows:
            if rows_changed(
                db.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.webhook_next_at == next_at, due)
                    .values(
                        webhook_state=DeliveryState.SENDING,
                        webhook_next_at=now,
                        webhook_attempts=Job.webhook_attempts + 1,
                    )
                )
            ):
                claimed.append(job_id)
    return claimed


def _prepare(ctx: ServiceContext, job_id: str) -> tuple[str, bytes, dict, int, str] | None:
    with session_scope(ctx.db_url) as db:
        job = db.get(Job, job_id)
        if job is None or not job.webhook_url:
            return None
        body = json.dumps(summary(job), ensure_ascii=False).encode()
        url, owner, attempts = job.webhook_url, job.owner_id, job.webhook_attempts
        request_id = job.request_id or job_id
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "kazru-stt-webhook",
        "X-Kazru-Event": "transcription.finished",
        "X-Kazru-Delivery": f"{job_id}.{attempts}",
        "X-Kazru-Timestamp": str(timestamp),
        "X-Kazru-Signature": sign(webhook_secret(ctx, owner), timestamp, body),
        "X-Request-ID": request_id,
    }
    return url, body, headers, attempts, request_id


async def _post(ctx: ServiceContext, url: str, body: bytes, headers: dict) -> int:
    """POST to the checked address of `url` (resolved and checked now, then pinned)."""
    target = await asyncio.to_thread(resolve, url, ctx.settings)
    pinned = httpx.URL(target.url).copy_with(host=target.address, port=target.port)
    port = "" if target.port in (80, 443) else f":{target.port}"
    headers = {**headers, "Host": f"{target.host}{port}"}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        request = client.build_request(
            "POST", pinned, content=body, headers=headers, extensions=extensions
        )
        response = await client.send(request)
        await response.aclose()
        return response.status_code


async def _deliver_one(ctx: ServiceContext, job_id: str) -> None:
    prepared = await asyncio.to_thread(_prepare, ctx, job_id)
    if prepared is None:
        return
    url, body, headers, attempts, request_id = prepared
    with request_ids.bound(request_id):
        await _send(ctx, job_id, url, body, headers, attempts)


async def _send(
    ctx: ServiceContext, job_id: str, url: str, body: bytes, headers: dict, attempts: int
) -> None:
    error = None
    try:
        status = await asyncio.wait_for(
            _post(ctx, url, body, headers), timeout=ctx.settings.webhook_timeout_s
        )
        if not 200 <= status < 300:
            error = f"the receiver answered {status}"
    except TimeoutError:
        error = f"no complete answer within {ctx.settings.webhook_timeout_s:g} s"
    except KazruError as exc:
        error = exc.message
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}"
    await asyncio.to_thread(_record, ctx, job_id, attempts, error)
    if error:
        log.warning(
            "webhook of job %s to %s failed (attempt %d): %s", job_id, redact(url), attempts, error
        )
    else:
        log.info("webhook of job %s delivered to %s", job_id, redact(url))


def _record(ctx: ServiceContext, job_id: str, attempts: int, error: str | None) -> None:
    now = utcnow()
    if error is None:
        values = {
            "webhook_state": DeliveryState.DELIVERED,
            "webhook_delivered_at": now,
            "webhook_error": None,
        }
    elif attempts >= ctx.settings.webhook_max_attempts:
        values = {"webhook_state": DeliveryState.FAILED, "webhook_error": error[:255]}
    else:
        delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempts - 1))
        values = {
            "webhook_state": DeliveryState.PENDING,
            "webhook_error": error[:255],
            "webhook_next_at": now + timedelta(seconds=delay * random.uniform(0.8, 1.2)),
        }
    with session_scope(ctx.db_url) as db:
        db.execute(
            update(Job)
            .where(Job.id == job_id, Job.webhook_state == DeliveryState.SENDING)
            .values(**values)
        )


async def dispatch_once(ctx: ServiceContext) -> int:
    claimed = await asyncio.to_thread(_claim_due, ctx)
    if claimed:
        await asyncio.gather(*(_deliver_one(ctx, job_id) for job_id in claimed))
    return len(claimed)


class Dispatcher:
    """The delivery loop, in a thread of its own with its own event loop."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="kazru-webhooks")

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        _wake.set()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()  # one for the thread's life, not one per look
        try:
            self._loop(loop)
        finally:
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _loop(self, loop: asyncio.AbstractEventLoop) -> None:
        pause = POLL_S
        while not self._stop.is_set():
            try:
                busy = loop.run_until_complete(dispatch_once(self.ctx))
            except Exception as exc:
                log_step_failure(log, "webhook dispatch", exc)
                busy = 0
            if busy:
                pause = POLL_S
                continue
            _wake.wait(pause)
            if _wake.is_set():
                _wake.clear()
                pause = POLL_S
            else:
                pause = min(MAX_POLL_S, pause * 2)
