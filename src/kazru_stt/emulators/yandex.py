"""A local emulator of Yandex SpeechKit v3 asynchronous recognition (`kazru yandex-emulator`).

Same endpoints, authentication check, operation lifecycle and result format as the real
service (docs/yandex-speechkit.md); requests are checked against the spec's field
names (wrong casing, unknown or missing fields are rejected with 400, as the real API
would). Its text is real: it runs our local Whisper pipeline on the audio. Faults can be
injected: 429 with Retry-After, 500, 503 (at a rate), slow answers, lost operations,
malformed results, refused credentials.
"""

from __future__ import annotations

import base64
import json
import random
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from kazru_stt.domain.languages import KAZAKH_RUSSIAN, RUSSIAN
from kazru_stt.engines.yandex.languages import FROM_YANDEX, TO_YANDEX

BODY_LIMIT = 60 * 1024 * 1024
LANGS: dict[str, str | None] = {**FROM_YANDEX, "auto": None}
TOP = {"content", "uri", "recognitionModel", "speakerLabeling"}
MODEL = {"model", "audioFormat", "textNormalization", "languageRestriction", "audioProcessingType"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _normalise(obj, allowed: set[str], where: str) -> dict:
    """Accept camelCase or snake_case of the allowed names; reject anything else."""
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be an object")
    out = {}
    for key, value in obj.items():
        name = _camel(key) if "_" in key else key
        if name not in allowed:
            raise ValueError(f"unknown field {where}.{key}")
        out[name] = value
    return out


@dataclass
class Faults:
    rate: float = 0.0  # share of requests answered 429 / 500 / 503
    slow_s: float = 0.0  # extra delay on every answer
    lose_operations: bool = False  # operations answer 404 (lost)
    malformed: bool = False  # getRecognition returns broken JSON
    auth_fail: bool = False  # every request 401
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class Operation:
    id: str
    created: str
    done: bool = False
    error: dict | None = None
    body: str | None = None


class Recogniser:
    """Runs our local pipeline for the emulator (one at a time: the model is shared)."""

    def __init__(self, model_path=None, cache_dir: Path | None = None):
        self.model_path, self.cache_dir = model_path, cache_dir
        self._lock = threading.Lock()

    def __call__(self, wav_path: Path, channels: int, language: str | None, languages, label: bool):
        from kazru_stt.config import get_settings
        from kazru_stt.engines.whisper import get_engine
        from kazru_stt.media import load_audio
        from kazru_stt.media.encode import write_wav
        from kazru_stt.pipeline import TranscribeOptions, transcribe_file

        s = get_settings()
        engine = get_engine(
            self.model_path or s.model_path,
            self.cache_dir or s.resolved_model_cache_dir,
            device=s.device,
            cpu_threads=s.cpu_threads,
        )
        opts = TranscribeOptions(
            language=language or "auto",
            languages=tuple(languages or KAZAKH_RUSSIAN),
            diarize=label,
            max_speakers=2 if label else None,
        )
        results = []
        with self._lock:
            if channels == 2:
                stereo = load_audio(wav_path, channels=2)
                for ch in (0, 1):
                    part = wav_path.with_name(f"{wav_path.stem}-ch{ch}.wav")
                    write_wav(part, stereo[ch])
                    results.append((str(ch), transcribe_file(part, opts, engine)))
            else:
                results.append(("0", transcribe_file(wav_path, opts, engine)))
        return results


def _ms(seconds: float) -> str:
    return str(int(round(seconds * 1000)))


def render_results(results) -> str:
    """The getRecognition stream: final + finalRefinement + eouUpdate per utterance."""
    lines = []
    for channel, transcript in results:
        for index, seg in enumerate(transcript.segments):
            tag = channel
            if seg.speaker and channel == "0":  # speaker labeling on mono: "0"/"1"
                tag = str(int(seg.speaker.split("_")[1]) - 1)
            code = TO_YANDEX.get(seg.language or "", TO_YANDEX[RUSSIAN])
            alt = {
                "text": seg.text.lower().strip(" .,!?"),
                "startTimeMs": _ms(seg.start),
                "endTimeMs": _ms(seg.end),
                "confidence": 0,
                "words": [
                    {
                        "text": w.text.strip(" .,!?").lower(),
                        "startTimeMs": _ms(w.start),
                        "endTimeMs": _ms(w.end),
                    }
                    for w in seg.words
                ],
                "languages": [{"languageCode": code, "probability": 0.9}],
            }
            cursors = {"finalIndex": str(index), "resetTimeMs": "0", "partialTimeMs": _ms(seg.end)}
            lines.append(
                json.dumps(
                    {
                        "result": {
                            "channelTag": tag,
                            "audioCursors": cursors,
                            "final": {"channelTag": tag, "alternatives": [alt]},
                        }
                    },
                    ensure_ascii=False,
                )
            )
            refined = dict(alt, text=seg.text.strip(), words=[])
            lines.append(
                json.dumps(
                    {
                        "result": {
                            "finalRefinement": {
                                "finalIndex": str(index),
                                "normalizedText": {"alternatives": [refined]},
                            },
                            "channelTag": tag,
                        }
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            lines.append(
                json.dumps({"result": {"eouUpdate": {"timeMs": _ms(seg.end)}, "channelTag": tag}})
            )
    return "\n".join(lines) + "\n"


def create_app(
    api_key: str | None = "test-key",
    iam_token: str | None = None,
    faults: Faults | None = None,
    recogniser: Recogniser | None = None,
) -> FastAPI:
    app = FastAPI(title="Yandex SpeechKit v3 emulator")
    faults = faults or Faults()
    if faults.seed is not None:
        faults.rng.seed(faults.seed)
    recogniser = recogniser or Recogniser()
    ops: dict[str, Operation] = {}
    app.state.operations = ops
    app.state.faults = faults
    app.state.requests = []  # (method, path) log, for tests

    def error(status: int, message: str, headers=None):
        return JSONResponse(
            {"code": status, "message": message}, status_code=status, headers=headers
        )

    @app.middleware("http")
    async def gate(request: Request, call_next):
        app.state.requests.append((request.method, request.url.path))
        if faults.slow_s:
            import asyncio

            await asyncio.sleep(faults.slow_s)
        auth = request.headers.get("authorization", "")
        ok = (api_key and auth == f"Api-Key {api_key}") or (
            iam_token and auth == f"Bearer {iam_token}"
        )
        if faults.auth_fail or not ok:
            return error(401, "The token is invalid")
        if faults.rate and faults.rng.random() < faults.rate:
            status = faults.rng.choice([429, 500, 503])
            return error(
                status, "injected fault", {"Retry-After": "0.1"} if status == 429 else None
            )
        return await call_next(request)

    def run(op: Operation, audio: bytes, channels: int, language, languages, label: bool) -> None:
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "audio.bin"
                path.write_bytes(audio)
                op.body = render_results(recogniser(path, channels, language, languages, label))
        except Exception as exc:  # the operation fails as Yandex's would: done with an error
            op.error = {"code": 3, "message": f"audio could not be processed: {exc}", "details": []}
        op.done = True

    @app.post("/stt/v3/recognizeFileAsync")
    async def recognize(request: Request):
        raw = await request.body()
        if len(raw) > BODY_LIMIT * 4 // 3 + 4096:
            return error(400, "request body exceeds 60 MB; use uri")
        try:
            body = _normalise(json.loads(raw), TOP, "request")
            if ("content" in body) == ("uri" in body):
                raise ValueError("exactly one of content / uri is required")
            if "uri" in body:
                raise ValueError("uri is not reachable from this emulator")
            audio = base64.b64decode(body["content"], validate=True)
            model = _normalise(body.get("recognitionModel") or {}, MODEL, "recognitionModel")
            fmt = _normalise(
                model.get("audioFormat") or {}, {"containerAudio", "rawAudio"}, "audioFormat"
            )
            channels = 1
            if "containerAudio" in fmt:
                c = _normalise(fmt["containerAudio"], {"containerAudioType"}, "containerAudio")
                if c.get("containerAudioType") not in ("WAV", "OGG_OPUS", "MP3"):
                    raise ValueError("containerAudioType must be WAV, OGG_OPUS or MP3")
                from kazru_stt.media import probe

                with tempfile.NamedTemporaryFile(suffix=".bin") as fh:
                    fh.write(audio)
                    fh.flush()
                    channels = min(2, probe(fh.name).channels)
            elif "rawAudio" in fmt:
                raise ValueError("rawAudio is not supported by this emulator; send WAV")
            else:
                raise ValueError("recognitionModel.audioFormat is required")
            restriction = model.get("languageRestriction")
            languages = None
            language = None
            if restriction:
                r = _normalise(
                    restriction, {"restrictionType", "languageCode"}, "languageRestriction"
                )
                codes = r.get("languageCode") or []
                if r.get("restrictionType") != "WHITELIST" or not codes:
                    raise ValueError(
                        "languageRestriction needs restrictionType WHITELIST and languageCode"
                    )
                unknown = [c for c in codes if c not in LANGS]
                if unknown:
                    raise ValueError(f"unsupported language {unknown[0]}")
                languages = [LANGS[c] for c in codes if LANGS[c]]
                language = languages[0] if len(languages) == 1 else None
            label = False
            if "speakerLabeling" in body:
                sl = _normalise(body["speakerLabeling"], {"speakerLabeling"}, "speakerLabeling")
                label = sl.get("speakerLabeling") == "SPEAKER_LABELING_ENABLED"
                if label and (channels != 1 or model.get("audioProcessingType") != "FULL_DATA"):
                    raise ValueError("speaker labeling needs mono audio and FULL_DATA")
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, str(exc))
        except Exception as exc:  # e.g. undecodable audio
            return error(400, f"invalid audio: {exc}")
        op = Operation(id=f"f8d{uuid.uuid4().hex[:17]}", created=datetime.now(UTC).isoformat())
        ops[op.id] = op
        threading.Thread(
            target=run, args=(op, audio, channels, language, languages, label), daemon=True
        ).start()
        return _operation(op)

    def _operation(op: Operation) -> dict:
        out = {
            "id": op.id,
            "description": "STT v3 async recognition",
            "createdAt": op.created,
            "createdBy": "emulator",
            "modifiedAt": op.created,
            "done": op.done,
            "metadata": None,
        }
        if op.error:
            out["error"] = op.error
        return out

    @app.get("/operations/{op_id}")
    def get_operation(op_id: str):
        op = ops.get(op_id)
        if op is None or faults.lose_operations:
            return error(404, f"operation {op_id} not found")
        return _operation(op)

    def _op_id(request: Request) -> str | None:
        return request.query_params.get("operationId") or request.query_params.get("operation_id")

    @app.get("/stt/v3/getRecognition")
    def get_recognition(request: Request):
        op = ops.get(_op_id(request) or "")
        if op is None or not op.done or op.body is None:
            return error(404, "no results for this operation")
        if faults.malformed:
            return PlainTextResponse(
                '{"result": {"final": {"alternatives": [{"text": "bro',
                media_type="application/json",
            )
        return PlainTextResponse(op.body, media_type="application/json")

    @app.delete("/stt/v3/deleteRecognition")
    def delete_recognition(request: Request):
        if ops.pop(_op_id(request) or "", None) is None:
            return error(404, "no results for this operation")
        return {}

    return app


def serve(host: str, port: int, api_key: str | None, faults: Faults) -> None:
    import uvicorn

    uvicorn.run(create_app(api_key=api_key, faults=faults), host=host, port=port, log_level="info")


def wait_ready(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/operations/none", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"emulator at {url} did not start")
