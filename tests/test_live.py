"""Live transcription against a real `kazru serve` on 127.0.0.1, with a WebSocket client that
follows OpenAI's Realtime transcription events: partial and final text with each utterance's
language on a code-switched recording, the session kept as a transcript with its audio, the
session limit, refused keys, idle sessions, a client faster than real time, and OpenAI's own
Python SDK."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time

import httpx
import pytest
import websockets

from tests.live_client import pcm16, stream
from tests.service_harness import Backend, Service

BURST_S = 2.0


@pytest.fixture(scope="module")
def service(tmp_path_factory, model_cache):
    svc = Service(
        tmp_path_factory.mktemp("live"),
        model_cache,
        Backend.embedded(),
        live_max_sessions=1,
        live_idle_s=3,
        live_burst_s=BURST_S,
    )
    svc.start(embedded_workers=0)
    # The first session starts the recognition process (a model load): done here, so the
    # tests see sessions as a running server serves them.
    asyncio.run(stream(_url(svc), b"\0" * 4800, key=svc.key, trailing_silence_s=0))
    yield svc
    svc.stop()


def _url(svc: Service) -> str:
    return svc.url.replace("http://", "ws://") + "/v1/realtime?intent=transcription"


def _no_session_open(svc: Service, timeout: float = 60.0) -> None:
    """Wait for the sessions of earlier tests to end (a client that leaves without
    finishing frees its place once its last audio is recognised and saved): the limit
    here is one."""
    deadline = time.monotonic() + timeout
    with svc.client() as c:
        while "kazru_live_sessions 0.0" not in c.get("/metrics").text:
            assert time.monotonic() < deadline, "a live session stayed open"
            time.sleep(0.2)


def _error_codes(run) -> list[str]:
    return [e["error"]["code"] for e in run.of("error")]


def test_code_switched_speech_is_captioned_and_kept(service, eval_dir):
    # Kazakh words, a pause, a Russian sentence, a pause, a longer Russian passage.
    pcm = (
        pcm16(eval_dir / "mixed_kk_ru.wav")
        + b"\0" * 48000
        + pcm16(eval_dir / "ru" / "riva_sample.wav")
    )
    run = asyncio.run(stream(_url(service), pcm, key=service.key))
    assert run.events[0]["type"] == "transcription_session.created", run.events[:2]
    assert run.events[0]["session"]["input_audio_format"] == "pcm16"
    assert not run.of("error"), run.of("error")
    # An utterance per passage, each with its language.
    done = run.completed
    languages = [e["language"] for e in done]
    assert languages[0] == "kk" and set(languages[1:]) == {"ru"}, [e["transcript"] for e in done]
    assert "тысяч" in done[1]["transcript"] and "стоить" in done[1]["transcript"]
    assert len(run.of("input_audio_buffer.speech_started")) == len(done) >= 3
    for event in done:
        assert event["words"] and 0 < event["confidence"] <= 1
        assert all(
            event["start"] <= w["start"] <= w["end"] <= event["end"] + 0.5 for w in event["words"]
        )
    # Partial text arrives before its utterance's final text.
    deltas = run.of("conversation.item.input_audio_transcription.delta")
    assert deltas, "no partial text"
    first = run.events.index(deltas[0])
    finals = [run.events.index(e) for e in done if e["item_id"] == deltas[0]["item_id"]]
    assert finals and first < finals[0]
    # On stop, the session is a transcript with its audio, in the owner's list.
    saved = run.of("kazru.session.saved")
    assert len(saved) == 1 and run.close_code == 1000
    job_id = saved[0]["job_id"]
    with service.client() as c:
        job = c.get(f"/api/v1/transcriptions/{job_id}").json()
        assert job["status"] == "completed" and job["filename"].startswith("live-")
        assert job["duration"] == pytest.approx(len(pcm) / 48000 + 1.5, abs=0.2)
        languages = [s["language"] for s in job["result"]["segments"]]
        assert languages == sorted(languages) and set(languages) == {"kk", "ru"}
        audio = c.get(f"/api/v1/transcriptions/{job_id}/audio")
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        listed = c.get("/api/v1/transcriptions").json()["items"]
        assert job_id in [j["id"] for j in listed]
        text = c.get(f"/api/v1/transcriptions/{job_id}/export", params={"format": "txt"}).text
        assert "тысяч" in text
        # Live minutes count toward the month's quota.
        assert c.get("/api/v1/me").json()["usage"]["minutes_this_month"] > 0.15
        assert "kazru_live_final_latency_seconds_count" in c.get("/metrics").text


def test_16khz_manual_turns_and_a_client_faster_than_real_time(service, eval_dir):
    """OpenAI's GA session shape at 16 kHz with turn detection off: nothing is final before
    the client commits. The whole file is sent at once: past the burst allowance the server
    reads no faster than real time."""
    pcm = pcm16(eval_dir / "ru" / "golos_001ce26c.wav", rate=16000)
    duration = len(pcm) / 32000
    session = {
        "type": "transcription",
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}
        },
    }

    async def run_it():
        events = []
        async with websockets.connect(
            _url(service), additional_headers={"Authorization": f"Bearer {service.key}"}
        ) as ws:
            events.append(json.loads(await ws.recv()))
            await ws.send(json.dumps({"type": "session.update", "session": session}))
            events.append(json.loads(await ws.recv()))
            # Audio sent and then dropped by the client: no text comes of it.
            noise = base64.b64encode(pcm[: len(pcm) // 4]).decode()
            await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": noise}))
            await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
            events.append(json.loads(await ws.recv()))
            started = time.monotonic()
            for i in range(0, len(pcm), 3200):
                await ws.send(
                    json.dumps(
                        {
                            "type": "input_audio_buffer.append",
                            "audio": base64.b64encode(pcm[i : i + 3200]).decode(),
                        }
                    )
                )
            await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            sent_in = None
            while True:
                event = json.loads(await ws.recv())
                events.append(event)
                if event["type"] == "input_audio_buffer.committed":
                    sent_in = time.monotonic() - started  # the server has read all the audio
                if event["type"].endswith("transcription.completed"):
                    break
            await ws.send(json.dumps({"type": "kazru.session.finish"}))
            async for message in ws:
                events.append(json.loads(message))
        return events, sent_in

    events, sent_in = asyncio.run(run_it())
    assert events[1]["type"] == "session.updated"
    assert events[1]["session"]["turn_detection"] is None
    assert events[1]["session"]["input_audio_sample_rate"] == 16000
    assert events[2]["type"] == "input_audio_buffer.cleared"
    kinds = [e["type"] for e in events]
    assert not {"input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped"} & set(
        kinds
    )
    assert kinds.index("input_audio_buffer.committed") < kinds.index(
        "conversation.item.input_audio_transcription.completed"
    )
    done = [e for e in events if e["type"].endswith("transcription.completed")]
    assert len(done) == 1 and done[0]["language"] == "ru" and done[0]["transcript"]
    assert kinds[-1] == "kazru.session.saved"
    # Throttled, not buffered without bound: the server read the audio no faster than real
    # time past the burst allowance (a lower bound, whatever the machine's speed).
    assert sent_in >= duration - BURST_S - 0.5, (sent_in, duration)


def test_sessions_beyond_the_limit_and_bad_keys_are_refused(service, eval_dir):
    _no_session_open(service)

    async def run_it():
        headers = {"Authorization": f"Bearer {service.key}"}
        async with websockets.connect(_url(service), additional_headers=headers) as first:
            assert json.loads(await first.recv())["type"] == "transcription_session.created"
            async with websockets.connect(_url(service), additional_headers=headers) as second:
                refusal = json.loads(await second.recv())
                with pytest.raises(websockets.ConnectionClosed):
                    await second.recv()
                code = second.close_code
        return refusal, code

    refusal, code = asyncio.run(run_it())
    assert refusal["type"] == "error" and refusal["error"]["code"] == "live_sessions_full"
    assert code == 1013

    async def handshake(headers=None, subprotocols=None):
        async with websockets.connect(
            _url(service), additional_headers=headers or {}, subprotocols=subprotocols
        ) as ws:
            return json.loads(await ws.recv())

    for headers, protocols in (
        ({"Authorization": "Bearer kz_wrong_key"}, None),
        ({}, None),
        ({}, ["realtime", "openai-insecure-api-key.kz_wrong_key"]),
    ):
        with pytest.raises(websockets.InvalidStatus) as refused:
            asyncio.run(handshake(headers, protocols))
        assert refused.value.response.status_code == 403
    # The browsers' way with a good key works, and answers the `realtime` subprotocol.
    created = asyncio.run(handshake(None, ["realtime", f"openai-insecure-api-key.{service.key}"]))
    assert created["type"] == "transcription_session.created"
    with service.client() as c:
        metrics = c.get("/metrics").text
    assert 'kazru_live_refused_total{reason="live_sessions_full"} 1.0' in metrics
    assert 'kazru_live_refused_total{reason="auth"} 3.0' in metrics


def test_an_idle_session_is_ended(service):
    _no_session_open(service)

    async def run_it():
        async with websockets.connect(
            _url(service), additional_headers={"Authorization": f"Bearer {service.key}"}
        ) as ws:
            return [json.loads(m) async for m in ws], ws.close_code

    events, code = asyncio.run(run_it())
    assert [e["type"] for e in events] == ["transcription_session.created", "error"]
    assert events[1]["error"]["code"] == "live_idle" and code == 1000


def test_openai_sdk_realtime_client(service, eval_dir):
    """OpenAI's own SDK, pointed at this server, reads the session's events."""
    from openai import AsyncOpenAI

    async def run_it():
        client = AsyncOpenAI(api_key=service.key, base_url=f"{service.url}/v1")
        texts, languages = [], []
        async with client.realtime.connect(extra_query={"intent": "transcription"}) as conn:
            pcm = pcm16(eval_dir / "ru" / "golos_001ce26c.wav") + b"\0" * 48000 * 2
            for i in range(0, len(pcm), 4800):
                await conn.input_audio_buffer.append(
                    audio=base64.b64encode(pcm[i : i + 4800]).decode()
                )
            async for event in conn:
                if event.type == "conversation.item.input_audio_transcription.completed":
                    texts.append(event.transcript)
                    languages.append(getattr(event, "language", None))
                    break
        return texts, languages

    texts, languages = asyncio.run(run_it())
    assert texts and texts[0] and languages == ["ru"]


def test_the_live_page_needs_a_session(service):
    r = httpx.get(f"{service.url}/app/record", follow_redirects=False)
    assert r.status_code in (302, 303, 307)


def _live_processes(api_pid: int) -> list[int]:
    """The API's recognition processes (multiprocessing's spawned children)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if parent == api_pid and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def test_a_recogniser_that_dies_ends_its_session_and_the_next_one_works(service, eval_dir):
    _no_session_open(service)
    pcm = pcm16(eval_dir / "ru" / "riva_sample.wav")

    async def run_it():
        headers = {"Authorization": f"Bearer {service.key}"}
        async with websockets.connect(_url(service), additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "transcription_session.created"
            for pid in _live_processes(service.api.pid):
                os.kill(pid, signal.SIGKILL)
            piece = base64.b64encode(pcm[:48000]).decode()
            events = []
            try:
                for _ in range(600):  # a minute at most: the socket closes well before
                    await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": piece}))
                    await asyncio.sleep(0.1)
                    while True:
                        try:
                            events.append(json.loads(await asyncio.wait_for(ws.recv(), 0.01)))
                        except TimeoutError:
                            break
            except websockets.ConnectionClosed:
                pass
            return events, ws.close_code

    events, code = asyncio.run(run_it())
    errors = [e["error"]["code"] for e in events if e["type"] == "error"]
    assert errors == ["live_engine_failed"] and code == 1011, events
    # The next session gets a new recogniser.
    run = asyncio.run(stream(_url(service), pcm, key=service.key))
    assert [e["language"] for e in run.completed] and not run.of("error")
