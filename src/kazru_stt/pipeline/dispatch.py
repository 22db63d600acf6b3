"""The engine chosen per job (engines.registry), with fallback.

When an engine fails for good in a way another may cover (Yandex after its own retries) and
the settings allow it, the recording is transcribed by that one and the transcript says so
in `warnings` (code `engine_fallback`); nothing is lost either way. Bad credentials are not
papered over: that is an operator's error to fix, and the job fails with `engine_auth`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from kazru_stt.domain.errors import KazruError
from kazru_stt.domain.transcript import Transcript
from kazru_stt.engines import registry
from kazru_stt.job_metrics import YANDEX_FALLBACKS
from kazru_stt.pipeline.options import TranscribeOptions

log = logging.getLogger(__name__)


def run_engine(
    path,
    options: TranscribeOptions,
    settings,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    spec = registry.usable(options.engine, settings)
    try:
        return spec.build(settings, options).transcribe_file(path, options, progress)
    except spec.fallback_on as exc:
        code = exc.code if isinstance(exc, KazruError) else type(exc).__name__
        if (
            spec.fallback_to is None
            or not spec.fallback_allowed(settings)
            or code in spec.never_fall_back
        ):
            raise
        log.warning(
            "%s failed (%s); falling back to the %s engine", spec.name, code, spec.fallback_to
        )
        other = replace(options, engine=spec.fallback_to)
        transcript = registry.usable(spec.fallback_to, settings).build(settings, other)
        transcript = transcript.transcribe_file(path, other, progress)
        if spec.name == registry.YANDEX:
            YANDEX_FALLBACKS.inc()
        transcript.warnings.append(
            {
                "code": "engine_fallback",
                "message": f"{spec.label} failed ({code}); transcribed with the "
                f"{spec.fallback_to} engine",
            }
        )
        return transcript
