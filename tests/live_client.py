"""A client of the live endpoint (OpenAI Realtime transcription events over a WebSocket), as
a third-party program would write it: tests and benchmarks/live_latency.py use it."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websockets

from kazru_stt.media import load_audio

CHUNK_S = 0.1  # browsers' worklets send about this much at a time


def pcm16(path: Path, rate: int = 24000) -> bytes:
    """A recording as PCM16 mono at `rate` (what a client streams)."""
    audio = load_audio(str(path))
    if rate != 16000:
        t_in = np.arange(audio.size) / 16000.0
        t_out = np.arange(int(audio.size * rate / 16000)) / rate
        audio = np.interp(t_out, t_in, audio).astype(np.float32)
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass
class LiveRun:
    events: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # monotonic time each event arrived
    sent_at: list[tuple[float, float]] = field(default_factory=list)  # (audio s, monotonic)
    close_code: int | None = None

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    @property
    def completed(self) -> list[dict[str, Any]]:
        return self.of("conversation.item.input_audio_transcription.completed")

    @property
    def text(self) -> str:
        return " ".join(e["transcript"] for e in self.completed if e["transcript"])

    def sent_by(self, audio_s: float) -> float | None:
        """When the audio up to `audio_s` had been sent."""
        return next((t for s, t in self.sent_at if s >= audio_s), None)


async def stream(
    url: str,
    pcm: bytes,
    *,
    key: str | None,
    rate: int = 24000,
    pace: float = 1.0,
    session: dict[str, Any] | None = None,
    trailing_silence_s: float = 1.5,
    finish: bool = True,
    headers: dict[str, str] | None = None,
) -> LiveRun:
    """Stream `pcm` at `pace` x real time (0: as fast as the socket takes it), then
    trailing silence, then finish; every event received is kept."""
    run = LiveRun()
    hdrs = dict(headers or {})
    if key:
        hdrs["Authorization"] = f"Bearer {key}"
    async with websockets.connect(url, additional_headers=hdrs, max_size=None) as ws:

        async def reader() -> None:
            try:
                async for message in ws:
                    run.events.append(json.loads(message))
                    run.times.append(time.monotonic())
            except websockets.ConnectionClosed:
                pass
            run.close_code = ws.close_code

        reading = asyncio.create_task(reader())
        if session is not None:
            await ws.send(json.dumps({"type": "transcription_session.update", "session": session}))
        step = int(rate * CHUNK_S) * 2
        audio = pcm + b"\0" * (int(rate * trailing_silence_s) * 2)
        start = time.monotonic()
        try:
            for i in range(0, len(audio), step):
                piece = audio[i : i + step]
                await ws.send(
                    json.dumps(
                        {
                            "type": "input_audio_buffer.append",
                            "audio": base64.b64encode(piece).decode(),
                        }
                    )
                )
                sent_s = (i + len(piece)) / 2 / rate
                run.sent_at.append((sent_s, time.monotonic()))
                if pace:
                    await asyncio.sleep(max(0.0, start + sent_s / pace - time.monotonic()))
            if finish:
                await ws.send(json.dumps({"type": "kazru.session.finish"}))
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(reading, 300)
    return run
