"""Live transcription over a WebSocket: OpenAI's Realtime API in transcription mode
(`/v1/realtime?intent=transcription`), so its clients work unchanged.

In: `transcription_session.update` (or `session.update`), `input_audio_buffer.append`
(base64 PCM16 mono, 24 kHz by default, 16 kHz on request), `.commit`, `.clear`. Out:
`transcription_session.created|updated`, `input_audio_buffer.speech_started|speech_stopped|
committed|cleared`, `conversation.item.created`,
`conversation.item.input_audio_transcription.delta|completed` (the latter with the
utterance's `language`, `words` and `confidence` beside OpenAI's fields) and `error`.
Ours beside them: `kazru.session.finish` in, `kazru.session.saved` (the transcript's job id)
out. However it ends, a session with audio becomes a transcript in its owner's list.

Authentication: `Authorization: Bearer <key>`, or the subprotocol browsers can send
(`openai-insecure-api-key.<key>`), or the web page's session cookie from our own origin.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import tempfile
import time
import uuid
import wave
from pathlib import Path
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from kazru_stt.api import metrics
from kazru_stt.api.deps import SESSION_COOKIE, caller_of_key, check_same_origin
from kazru_stt.api.live_pool import LiveEngineFailed, LivePool, LiveProcess
from kazru_stt.db.models import utcnow
from kazru_stt.domain.error_codes import ErrorCode
from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.transcript import Segment
from kazru_stt.pipeline.live import TurnDetection
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.services import accounts, live_engine, live_sessions
from kazru_stt.services.accounts import Caller
from kazru_stt.services.context import ServiceContext
from kazru_stt.services.jobs import options_to_dict

router = APIRouter()
log = logging.getLogger(__name__)

KEY_SUBPROTOCOL = "openai-insecure-api-key."
RATES = (16000, 24000)  # PCM16 rates taken; OpenAI's `pcm16` is 24 kHz
DEFAULT_RATE = 24000
# Close codes (RFC 6455): refused by policy, try again later, server failed, done.
CLOSE_POLICY, CLOSE_TRY_LATER, CLOSE_FAILED, CLOSE_NORMAL = 1008, 1013, 1011, 1000
# One append may carry at most this much audio (OpenAI allows 15 MiB of base64).
MAX_APPEND_BYTES = 15 * 1024 * 1024


class _Refused(Exception):
    def __init__(self, code: ErrorCode, message: str, close: int):
        super().__init__(message)
        self.code, self.message, self.close = code, message, close


def _pool(websocket: WebSocket) -> LivePool:
    return websocket.app.state.live_pool


async def _caller(websocket: WebSocket) -> tuple[Caller | None, str | None]:
    """The caller and the subprotocol to answer with; (None, None) for no or bad
    credentials (the handshake is then refused: nothing is said about why)."""
    ctx: ServiceContext = websocket.app.state.ctx
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    key = next((p[len(KEY_SUBPROTOCOL) :] for p in offered if p.startswith(KEY_SUBPROTOCOL)), "")
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        key = token.strip()
    answer = "realtime" if "realtime" in offered else None
    try:
        if key:
            return await caller_of_key(websocket.app, key), answer
        cookie = websocket.cookies.get(SESSION_COOKIE)
        if cookie:
            # A cookie rides along on any site's WebSocket: only our own pages may use it.
            check_same_origin(websocket)
            return await run_in_threadpool(accounts.authenticate_session, ctx, cookie), answer
        if ctx.settings.single_user:
            return await run_in_threadpool(accounts.single_user, ctx), answer
    except KazruError:
        pass
    return None, None


@router.websocket("/v1/realtime")
async def realtime(websocket: WebSocket) -> None:
    caller, subprotocol = await _caller(websocket)
    if caller is None:
        metrics.LIVE_REFUSED.labels("auth").inc()
        await websocket.close(code=CLOSE_POLICY)  # before accepting: the handshake gets 403
        return
    await websocket.accept(subprotocol=subprotocol)
    session = _Session(websocket, caller)
    try:
        await session.run()
    except _Refused as exc:
        metrics.LIVE_REFUSED.labels(exc.code.value).inc()
        await session.send_error(exc.code, exc.message, fatal=True)
        try:
            await websocket.close(code=exc.close)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # gone already


class _Session:
    def __init__(self, websocket: WebSocket, caller: Caller):
        self.ws, self.caller = websocket, caller
        self.ctx: ServiceContext = websocket.app.state.ctx
        self.settings = self.ctx.settings
        self.id = uuid.uuid4().hex
        self.options = TranscribeOptions()
        self.turn = TurnDetection()
        self.rate = DEFAULT_RATE
        self.prompt: str | None = None
        self.model = ""  # the recogniser's, once open
        self.started_at = utcnow()
        self.opened = time.monotonic()
        self.last_audio = time.monotonic()
        self.received = 0  # bytes of PCM
        self.pending = bytearray()  # received, not yet given to the recogniser
        self.commit_asked = False
        self.clear_asked = False
        self.wake = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.recording: wave.Wave_write | None = None
        self.recording_path: Path | None = None
        self.arrivals: list[tuple[float, float]] = []  # (audio s received, monotonic)
        self.segments: list[Segment] = []
        self.items = 0
        self.last_item: str | None = None
        self.process: LiveProcess | None = None
        self.failed = False
        self.gone = False  # the client's socket is closed
        self.closing = False  # the session is ending: the processor stops after its call
        self.end_code: ErrorCode | None = None
        self.end_message = ""

    # -- sending

    async def send(self, event: dict[str, Any]) -> None:
        """Send an event; once the client has gone, nothing (the session still ends as it
        should: its last audio recognised and kept)."""
        if self.gone:
            return
        event = {"event_id": f"event_{uuid.uuid4().hex[:20]}", **event}
        async with self.send_lock:
            try:
                await self.ws.send_text(json.dumps(event, ensure_ascii=False))
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.gone = True

    async def send_error(
        self, code: ErrorCode, message: str, *, fatal: bool = False, event_id: str | None = None
    ) -> None:
        error = {
            "type": "server_error" if fatal else "invalid_request_error",
            "code": code.value,
            "message": message,
            "param": None,
            "event_id": event_id,
        }
        await self.send({"type": "error", "error": error})

    def _session_object(self) -> dict[str, Any]:
        language = None if self.options.language == "auto" else self.options.language
        turn = (
            {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": int(self.turn.silence_s * 1000),
            }
            if self.turn.enabled
            else None
        )
        return {
            "id": f"sess_{self.id}",
            "object": "realtime.transcription_session",
            "input_audio_format": "pcm16",
            "input_audio_sample_rate": self.rate,
            "input_audio_transcription": {
                "model": self.model,
                "language": language,
                "prompt": self.prompt or "",
            },
            "turn_detection": turn,
            "input_audio_noise_reduction": None,
            "include": None,
        }

    # -- the session

    async def run(self) -> None:
        self._check_room()
        sessions: set[str] = self.ws.app.state.live_sessions
        sessions.add(self.id)  # before any await: two sessions cannot take one place
        metrics.LIVE_SESSIONS.inc()
        try:
            left = await run_in_threadpool(
                live_sessions.seconds_left, self.ctx, self.caller.user_id
            )
            if left <= 0:
                raise _Refused(
                    ErrorCode.QUOTA_EXCEEDED,
                    "your audio minutes this month are used up",
                    CLOSE_POLICY,
                )
            self.limit_s = min(self.settings.live_max_session_s, left)
            self.limit_code = (
                ErrorCode.LIVE_TOO_LONG
                if self.settings.live_max_session_s <= left
                else ErrorCode.QUOTA_EXCEEDED
            )
            await self._open_recogniser()
            await self.send(
                {"type": "transcription_session.created", "session": self._session_object()}
            )
            processor = asyncio.create_task(self._process())
            try:
                await self._receive()
            finally:
                await self._end(processor)
        finally:
            sessions.discard(self.id)
            metrics.LIVE_SESSIONS.dec()

    def _check_room(self) -> None:
        limit = self.settings.live_max_sessions
        sessions = self.ws.app.state.live_sessions
        if limit <= 0:
            raise _Refused(
                ErrorCode.LIVE_SESSIONS_FULL,
                "live transcription is turned off on this server",
                CLOSE_TRY_LATER,
            )
        if len(sessions) >= limit:
            raise _Refused(
                ErrorCode.LIVE_SESSIONS_FULL,
                f"all {limit} live sessions of this server are in use; try again later",
                CLOSE_TRY_LATER,
            )

    async def _open_recogniser(self) -> None:
        pool = _pool(self.ws)
        self.process = pool.assign()
        opened = await pool.call(
            self._process_of(),
            live_engine.open_session,
            self.id,
            options_to_dict(self.options),
            {"enabled": self.turn.enabled, "silence_s": self.turn.silence_s},
            self.rate,
        )
        self.model = opened["model"]

    def _process_of(self) -> LiveProcess:
        assert self.process is not None, "the recogniser is opened first"
        return self.process

    async def _reopen(self) -> None:
        """New settings before any audio: the recogniser starts again with them."""
        await _pool(self.ws).call(self._process_of(), live_engine.drop, self.id)
        _pool(self.ws).release(self._process_of())
        await self._open_recogniser()

    async def _receive(self) -> None:
        while True:
            timeout = self.settings.live_idle_s - (time.monotonic() - self.last_audio)
            try:
                raw = await asyncio.wait_for(self.ws.receive_text(), max(0.0, timeout))
            except TimeoutError:
                self._ending(ErrorCode.LIVE_IDLE, "no audio arrived for a while")
                return
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return  # gone (or sent binary, which this protocol has not)
            try:
                event = json.loads(raw)
                kind = event.get("type") if isinstance(event, dict) else None
            except ValueError:
                event, kind = {}, None
            if kind == "kazru.session.finish":
                return
            try:
                if not await self._handle(kind, event):
                    return
            except KazruError as exc:
                await self.send_error(exc.code, exc.message, event_id=event.get("event_id"))

    async def _handle(self, kind: str | None, event: dict[str, Any]) -> bool:
        """One client event; False when the session is to end."""
        if kind == "input_audio_buffer.append":
            return await self._append(event.get("audio"))
        if kind == "input_audio_buffer.commit":
            self.commit_asked = True
            self.wake.set()
            return True
        if kind == "input_audio_buffer.clear":
            # The audio not yet given out as text is dropped (it stays in the recording).
            self.pending.clear()
            self.clear_asked = True
            self.wake.set()
            await self.send({"type": "input_audio_buffer.cleared"})
            return True
        if kind in ("transcription_session.update", "session.update"):
            await self._update(event.get("session") or {}, kind)
            return True
        raise KazruError(
            f"unknown event type {kind!r}" if kind else "an event is a JSON object with a type",
            code=ErrorCode.INVALID_REQUEST,
        )

    async def _update(self, session: dict[str, Any], kind: str) -> None:
        if self.received:
            raise KazruError(
                "the session's settings cannot change once audio has arrived",
                code=ErrorCode.INVALID_REQUEST,
            )
        self._apply(session)
        self.options.validate()
        await self._reopen()
        reply = kind.replace(".update", ".updated")
        await self.send({"type": reply, "session": self._session_object()})

    def _apply(self, session: dict[str, Any]) -> None:
        """OpenAI's beta shape (`input_audio_transcription`, `turn_detection`,
        `input_audio_format`) and the GA one (`audio.input.{transcription, turn_detection,
        format}`)."""
        audio_in = (session.get("audio") or {}).get("input") or {}
        transcription = session.get("input_audio_transcription") or audio_in.get("transcription")
        if isinstance(transcription, dict):
            language = transcription.get("language")
            self.options.language = language or "auto"
            self.prompt = transcription.get("prompt") or None
            self.options.hint = self.prompt
        turn = session.get("turn_detection", audio_in.get("turn_detection", ...))
        if turn is None:
            self.turn = TurnDetection(enabled=False)
        elif isinstance(turn, dict):
            silence = turn.get("silence_duration_ms", 500)
            if not isinstance(silence, int | float) or not 200 <= silence <= 5000:
                raise KazruError(
                    "silence_duration_ms must be between 200 and 5000",
                    code=ErrorCode.INVALID_OPTION,
                )
            self.turn = TurnDetection(enabled=True, silence_s=silence / 1000)
        fmt = audio_in.get("format") or session.get("input_audio_format")
        rate = session.get("input_audio_sample_rate")
        if isinstance(fmt, dict):
            rate = fmt.get("rate", rate)
        elif fmt not in (None, "pcm16"):
            raise KazruError(
                "input audio must be pcm16 (PCM16 mono)", code=ErrorCode.INVALID_OPTION
            )
        if rate is not None:
            if rate not in RATES:
                raise KazruError(
                    "the audio rate must be 16000 or 24000", code=ErrorCode.INVALID_OPTION
                )
            self.rate = int(rate)

    async def _append(self, audio: Any) -> bool:
        if not isinstance(audio, str) or len(audio) > MAX_APPEND_BYTES:
            raise KazruError(
                "`audio` is base64 PCM16 of at most 15 MiB", code=ErrorCode.INVALID_REQUEST
            )
        try:
            pcm = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KazruError("`audio` is not base64", code=ErrorCode.INVALID_REQUEST) from exc
        if not pcm:
            return True
        self._record(pcm)
        self.received += len(pcm)
        self.last_audio = time.monotonic()
        received_s = self.received / (2 * self.rate)
        metrics.LIVE_AUDIO.inc(len(pcm) / (2 * self.rate))
        self.arrivals.append((received_s, self.last_audio))
        self.pending += pcm
        self.wake.set()
        if received_s >= self.limit_s:
            self._ending(self.limit_code, "the session reached its longest length")
            return False
        # Faster than real time: beyond the burst, the next read waits (TCP holds the rest).
        ahead = received_s - (time.monotonic() - self.opened) - self.settings.live_burst_s
        if ahead > 0:
            await asyncio.sleep(ahead)
        return True

    def _record(self, pcm: bytes) -> None:
        if self.recording is None:
            handle = tempfile.NamedTemporaryFile(prefix="kazru-live-", suffix=".wav", delete=False)
            handle.close()
            self.recording_path = Path(handle.name)
            self.recording = wave.open(str(self.recording_path), "wb")
            self.recording.setnchannels(1)
            self.recording.setsampwidth(2)
            self.recording.setframerate(self.rate)
        self.recording.writeframes(pcm[: len(pcm) - len(pcm) % 2])

    def _ending(self, code: ErrorCode, message: str) -> None:
        self.end_code, self.end_message = code, message

    async def _process(self) -> None:
        """Gives the recogniser what has arrived, whenever it is free, and sends what it
        says: while it decodes, audio gathers for its next call."""
        pool = _pool(self.ws)
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.closing:
                return  # what is left goes with the closing call
            pcm = bytes(self.pending)
            self.pending.clear()
            fn = live_engine.commit if self.commit_asked else live_engine.feed
            if self.clear_asked:
                fn, pcm = live_engine.clear, b""
            self.commit_asked = self.clear_asked = False
            try:
                events = await pool.call(self._process_of(), fn, self.id, pcm)
            except LiveEngineFailed as exc:
                # The session ends here: told now, since the socket closes under the reader.
                self.failed = True
                await self.send_error(exc.code, exc.message, fatal=True)
                try:
                    await self.ws.close(code=CLOSE_FAILED)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    pass
                return
            await self._emit(events)

    async def _emit(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            item = f"item_{self.id[:12]}_{event['item']}"
            if event["kind"] == "started":
                await self.send(
                    {
                        "type": "input_audio_buffer.speech_started",
                        "audio_start_ms": int(event["start"] * 1000),
                        "item_id": item,
                    }
                )
            elif event["kind"] == "delta":
                await self.send(
                    {
                        "type": "conversation.item.input_audio_transcription.delta",
                        "item_id": item,
                        "content_index": 0,
                        "delta": event["text"],
                    }
                )
            else:
                await self._completed(item, event)

    async def _completed(self, item: str, event: dict[str, Any]) -> None:
        segments = [Segment.from_dict(s) for s in event["segments"]]
        self.segments += segments
        end_s = event["end"]
        arrived = next((t for s, t in self.arrivals if s >= end_s), None)
        if arrived is not None:
            metrics.LIVE_FINAL_LATENCY.observe(time.monotonic() - arrived)
        self.arrivals = [(s, t) for s, t in self.arrivals if s >= end_s]
        previous, self.last_item = self.last_item, item
        stopped: dict[str, Any] = {
            "type": "input_audio_buffer.speech_stopped",
            "audio_end_ms": int(end_s * 1000),
            "item_id": item,
        }
        replies: list[dict[str, Any]] = [
            *([stopped] if self.turn.enabled else []),  # the VAD's event, when it has turns
            {"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item},
            {
                "type": "conversation.item.created",
                "previous_item_id": previous,
                "item": {
                    "id": item,
                    "object": "realtime.item",
                    "type": "message",
                    "status": "completed",
                    "role": "user",
                    "content": [{"type": "input_audio", "transcript": None}],
                },
            },
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item,
                "content_index": 0,
                "transcript": event["text"],
                "language": event["language"],
                "confidence": event["confidence"],
                "start": event["start"],
                "end": end_s,
                "words": [w.to_dict() for s in segments for w in s.words],
            },
        ]
        for reply in replies:
            await self.send(reply)

    async def _end(self, processor: asyncio.Task) -> None:
        """However the session ends: the last audio recognised, the transcript kept, the
        client told (when still there) and the recogniser freed."""
        pool = _pool(self.ws)
        # The call in flight finishes and its text is kept (cancelling would only lose its
        # answer: the recogniser runs it anyway).
        self.closing = True
        self.wake.set()
        try:
            await processor
        except Exception:
            log.exception("live session %s: the processor failed", self.id)
        failed = self.failed
        try:
            if not failed:
                events = await pool.call(
                    self._process_of(), live_engine.close, self.id, bytes(self.pending)
                )
                await self._emit(events)
        except LiveEngineFailed as exc:
            self._ending(exc.code, exc.message)
        finally:
            pool.release(self._process_of())
            job = await self._save()
        if failed or self.gone:
            return  # the client was told, or is not there to be
        if self.end_code is not None:
            await self.send_error(self.end_code, self.end_message, fatal=True)
        if job is not None:
            await self.send(
                {
                    "type": "kazru.session.saved",
                    "job_id": job.id,
                    "url": f"/transcriptions/{job.id}",
                }
            )
        try:
            await self.ws.close(code=CLOSE_NORMAL)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def _save(self):
        if self.recording is None or self.recording_path is None:
            return None
        self.recording.close()
        try:
            return await run_in_threadpool(
                live_sessions.save,
                self.ctx,
                self.caller,
                self.recording_path,
                self.segments,
                self.received / (2 * self.rate),
                self.options,
                self.model,
                self.started_at,
            )
        except Exception:
            log.exception("a live session could not be saved")
            return None
        finally:
            self.recording_path.unlink(missing_ok=True)
