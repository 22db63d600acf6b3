"""Is each part the service depends on usable right now: the database, the queue's broker,
the recordings' storage, the model. One answer for /readyz (which part fails) and for
/metrics (`kazru_part_up{part}`, one alert rule per part). Public answers name the failing
part but never an exception's text or a path; the detail goes to the log."""

from __future__ import annotations

import logging

from kazru_stt.services import stats
from kazru_stt.services.context import ServiceContext

log = logging.getLogger(__name__)

PARTS = ("database", "queue", "storage", "model")


def _model_check(ctx: ServiceContext) -> None:
    # Imported on a check only: faster-whisper takes seconds to import.
    from kazru_stt.engines.whisper import resolve_model  # noqa: PLC0415

    resolve_model(ctx.settings.model_path, ctx.settings.resolved_model_cache_dir)


def check_parts(ctx: ServiceContext) -> dict[str, bool]:
    """Each part of PARTS: usable or not (blocking: run it off the event loop)."""
    probes = {
        "database": lambda: stats.ping_database(ctx),
        "queue": ctx.extra.get("queue_check") or (lambda: None),
        "storage": ctx.storage.check,
        "model": lambda: _model_check(ctx),
    }
    results: dict[str, bool] = {}
    for name in PARTS:
        try:
            probes[name]()
            results[name] = True
        except Exception as exc:
            log.warning("readiness: %s failed: %s", name, exc)
            results[name] = False
    return results
