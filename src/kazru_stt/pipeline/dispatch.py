"""The engine chosen per job: local Whisper (default) or Yandex SpeechKit, with fallback.

When Yandex still fails after its own retries and fallback is allowed, the recording is
transcribed locally and the transcript says so in `warnings` (code `engine_fallback`);
nothing is lost either way. Bad credentials are not papered over: that is an operator's
error to fix, and the job fails with `engine_auth`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kazru_stt.domain.errors import InvalidOptionError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.engines.yandex.errors import YandexError
from kazru_stt.job_metrics import YANDEX_FALLBACKS
from kazru_stt.pipeline.options import TranscribeOptions
from kazru_stt.pipeline.transcribe import transcribe_file

log = logging.getLogger(__name__)
NO_FALLBACK = {"engine_auth"}


def run_engine(
    path,
    options: TranscribeOptions,
    *,
    local: Callable[[], object],
    yandex: object | None,
    fallback: bool,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    if options.engine != "yandex":
        return transcribe_file(path, options, local(), progress)
    if yandex is None:
        raise InvalidOptionError(
            "the Yandex engine is not configured (KAZRU_YANDEX_API_KEY or KAZRU_YANDEX_IAM_TOKEN)",
            code="engine_unavailable",
        )
    try:
        return yandex.transcribe_file(path, options, progress)
    except YandexError as exc:
        if not fallback or exc.code in NO_FALLBACK:
            raise
        log.warning(
            "Yandex failed (%s: %s); falling back to the local engine", exc.code, exc.message
        )
        transcript = transcribe_file(path, options, local(), progress)
        YANDEX_FALLBACKS.inc()
        transcript.warnings.append(
            {
                "code": "engine_fallback",
                "message": f"Yandex SpeechKit failed ({exc.code}); "
                "transcribed with the local engine",
            }
        )
        return transcript
