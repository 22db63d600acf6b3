"""`kazru model verify`: assemble and check the configured model and load it once (the
container build runs it, so an image never ships a model that does not load)."""

from __future__ import annotations

import argparse
import sys
import time


def register(commands) -> None:
    model = commands.add_parser("model", help="model commands")
    sub = model.add_subparsers(dest="model_command", metavar="COMMAND", required=True)
    verify = sub.add_parser(
        "verify", help="assemble/verify the model (KAZRU_MODEL_PATH or the bundled one), load it"
    )
    verify.set_defaults(run=run_verify)


def run_verify(_args: argparse.Namespace) -> int:
    import numpy as np

    from kazru_stt.config import get_settings
    from kazru_stt.engines.whisper_local import get_engine, resolve_model

    settings = get_settings()
    started = time.perf_counter()
    directory, name = resolve_model(settings.model_path, settings.resolved_model_cache_dir)
    engine = get_engine(
        settings.model_path,
        settings.resolved_model_cache_dir,
        device=settings.device,
        compute_type=settings.compute_type,
        cpu_threads=settings.cpu_threads,
    )
    # One second of silence through the real decoder: the weights load and run.
    engine.model.detect_language(np.zeros(16000, dtype=np.float32))
    print(
        f"model {name} at {directory}: verified and loaded in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0
