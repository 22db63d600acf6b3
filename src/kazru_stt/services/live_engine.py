"""Inside a live recognition process: the sessions it serves, each a recogniser fed with
PCM16 as it arrives. The API process calls these functions in this process (api.live_pool),
one call at a time per session; what they return is plain data (it crosses processes)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from kazru_stt import log_setup
from kazru_stt.child_process import die_with_parent
from kazru_stt.config import Settings
from kazru_stt.media.pcm import PcmStream
from kazru_stt.pipeline.live import LiveTranscriber, TurnDetection, event_dict
from kazru_stt.services.jobs import options_from_dict
from kazru_stt.services.local_engine import LocalPipeline

log = logging.getLogger(__name__)


@dataclass
class _Session:
    pcm: PcmStream
    transcriber: LiveTranscriber


_sessions: dict[str, _Session] = {}
_settings: Settings | None = None


def start_process(settings: dict[str, Any]) -> None:
    """The process's first act: die with the API process, take its settings (those of
    the app that started it, not only the environment's), log as it does, load the
    default model."""
    global _settings
    die_with_parent()
    _settings = Settings(**settings)
    log_setup.configure(_settings.log_level, _settings.log_format, "live")
    # faster-whisper logs each decode at INFO: here that is one line a second per session.
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    LocalPipeline(_settings, options_from_dict({}))


def open_session(
    session_id: str, options: dict[str, Any], turn: dict[str, Any], rate: int
) -> dict[str, Any]:
    """A new session; returns the model that will write it."""
    opts = options_from_dict(options)
    assert _settings is not None, "start_process runs first"
    pipeline = LocalPipeline(_settings, opts)
    opts.validate(pipeline.whisper.supported_languages)
    transcriber = LiveTranscriber(
        pipeline.whisper.hinted(opts.hint),
        opts,
        TurnDetection(**turn),
        {code: m.hinted(opts.hint) for code, m in pipeline.by_language.items()},
    )
    _sessions[session_id] = _Session(PcmStream(rate), transcriber)
    return {"model": pipeline.model_name, "pid": os.getpid()}


def feed(session_id: str, pcm: bytes) -> list[dict[str, Any]]:
    session = _sessions[session_id]
    return [event_dict(e) for e in session.transcriber.feed(session.pcm.convert(pcm))]


def commit(session_id: str, pcm: bytes) -> list[dict[str, Any]]:
    """Audio sent before the commit, then the utterance ended there."""
    session = _sessions[session_id]
    events = session.transcriber.feed(session.pcm.convert(pcm))
    return [event_dict(e) for e in events + session.transcriber.commit()]


def clear(session_id: str, pcm: bytes) -> list[dict[str, Any]]:
    """The client drops what it said since the last final text (`pcm`: nothing, the
    calls' one shape)."""
    session = _sessions[session_id]
    session.pcm.convert(pcm)
    session.transcriber.clear()
    return []


def close(session_id: str, pcm: bytes) -> list[dict[str, Any]]:
    """The last audio, every utterance not yet given out; the session is forgotten."""
    session = _sessions.pop(session_id, None)
    if session is None:
        return []
    events = session.transcriber.feed(session.pcm.convert(pcm))
    return [event_dict(e) for e in events + session.transcriber.close()]


def drop(session_id: str) -> None:
    _sessions.pop(session_id, None)
